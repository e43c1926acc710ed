"""SendGrid's event webhook under load: signed batches of 1,000 events, 50 posts at a time.

Starts `digest serve` (uvicorn, its own process) on 127.0.0.1 with a fresh archive whose send
ledger holds the recipients the events are about, then posts signed batches as SendGrid does
(about a tenth of each batch repeats events already posted: SendGrid delivers at least once),
and prints the events ingested per second with the latency of a post. Afterwards every event
must be in the database once: none lost, no duplicate stored.

    .venv/bin/python bench/webhook.py                       # SQLite, 200 posts of 1,000 events
    .venv/bin/python bench/webhook.py --pg postgresql+psycopg://postgres@127.0.0.1:5440/db
    .venv/bin/python bench/webhook.py --tiny                # a few small posts (the CI's check)

--pg runs PostgreSQL after SQLite (the database is emptied first: give it one of its own).
Exit status 1 if a post failed or an event is missing or doubled. Target: >= 5,000 events/s
on SQLite on this 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Engine, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.archive.db import connect, dispose_all  # noqa: E402
from digest.archive.schema import deliveries, email_events, metadata  # noqa: E402
from tests.support.serve_process import hammer, start_serve, stop_serve  # noqa: E402
from tests.support.webhook import SendGridEvents, public_key_text, signed  # noqa: E402

EDITION, SLUG = "2026-W47", "bench-weekly"
TARGET = 5000  # events/s on SQLite
BATCH = 1000  # recipients per X-Message-Id, as a send makes them


@dataclass
class Load:
    bodies: list[tuple[bytes, dict[str, str]]]  # signed posts
    unique: set[str]  # event ids posted
    events: int  # events posted, repeats included


def seed_ledger(engine: Engine, recipients: int) -> list[tuple[str, str]]:
    """The send the events are about: (email, X-Message-Id) of each recipient."""
    now = datetime.now(UTC)
    ids = [f"bench{n:05d}{secrets.token_hex(6)}" for n in range(-(-recipients // BATCH))]
    rows = [{"edition": EDITION, "newsletter": SLUG, "email": f"reader{n:07d}@bench.example",
             "state": "sent", "batch": n // BATCH + 1, "provider_id": ids[n // BATCH],
             "updated_at": now} for n in range(recipients)]
    with engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(deliveries.insert(), rows[start:start + 10_000])
    return [(row["email"], row["provider_id"]) for row in rows]


def make_load(people: list[tuple[str, str]], posts: int, size: int, repeat: float,
              key: ec.EllipticCurvePrivateKey) -> Load:
    """`posts` signed bodies of `size` events; a share `repeat` of each repeats earlier ones."""
    rng = random.Random(13)
    started = time.time() - 3600
    urls = [f"https://regwire.example/articles/story-{n}" for n in range(12)]
    senders = {mid: SendGridEvents(mid, edition=EDITION, newsletter=SLUG) for _, mid in people}

    def about(email: str, mid: str) -> list[dict]:
        ev = senders[mid]
        at = started + rng.random() * 3600
        found = [ev("processed", email, at=at), ev("delivered", email, at=at + 5)]
        if rng.random() < 0.5:
            found.append(ev("open", email, at=at + 600, sg_machine_open=rng.random() < 0.3,
                            useragent="Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
                            ip="203.0.113.7"))
        if rng.random() < 0.15:
            found.append(ev("click", email, at=at + 900, url=rng.choice(urls),
                            url_offset={"index": 2, "type": "html"}, ip="203.0.113.7"))
        if rng.random() < 0.01:
            found.append(ev("deferred", email, at=at + 2, response="451 4.7.1 try again later",
                            attempt="1"))
        return found

    fresh = size - int(size * repeat)
    stream = (event for email, mid in people for event in about(email, mid))
    posted: list[dict] = []
    bodies = []
    unique: set[str] = set()
    count = 0
    for _ in range(posts):
        batch = [event for _, event in zip(range(fresh), stream, strict=False)]
        if posted:
            batch += rng.sample(posted, min(size - len(batch), len(posted)))
        rng.shuffle(batch)
        posted.extend(batch[:fresh])
        unique.update(event["sg_event_id"] for event in batch)
        count += len(batch)
        body = json.dumps(batch).encode()
        bodies.append((body, signed(key, body)))
    return Load(bodies, unique, count)


def posts(port: int, bodies: list[tuple[bytes, dict[str, str]]]) -> Iterator[bytes]:
    for body, headers in bodies:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        yield (f"POST /webhooks/sendgrid HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def run(database: str, folder: Path, args: argparse.Namespace) -> bool:
    engine = connect(database)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    recipients = max(BATCH, args.posts * args.events // 2)
    people = seed_ledger(engine, recipients)
    key = ec.generate_private_key(ec.SECP256R1())
    load = make_load(people, args.posts, args.events, args.repeat, key)
    size = statistics.median(len(body) for body, _ in load.bodies)
    dispose_all()
    env = {name: value for name, value in os.environ.items() if not name.startswith("DIGEST_")}
    env.update(DIGEST_DATA_DIR=str(folder / "data"), DIGEST_DATABASE_URL=database,
               DIGEST_OUT_DIR=str(folder / "editions"),
               DIGEST_SUBSCRIBERS_DIR=str(folder / "subscribers"),
               DIGEST_SECRET_KEY="bench-secret", DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY=
               public_key_text(key), PYTHONPATH=str(ROOT))
    server, port = start_serve(folder, env)
    try:
        started = time.perf_counter()
        fired = asyncio.run(hammer(port, posts(port, load.bodies), args.clients))
        elapsed = time.perf_counter() - started
    finally:
        stop_serve(server)

    engine = connect(database)
    with engine.connect() as conn:
        stored_ids = set(conn.scalars(select(email_events.c.event_id)))
        linked = conn.scalar(select(func.count()).where(email_events.c.delivery_id.is_not(None)))
    dispose_all()
    answers = [json.loads(body) for body in fired.bodies]
    latencies, failures = fired.latencies, fired.failures
    stored = sum(a["stored"] for a in answers)
    duplicates = sum(a["duplicate"] for a in answers)
    lost = len(load.unique - stored_ids)
    name = database.split(":", 1)[0].split("+")[0]
    print(f"\n{name}: {args.posts} signed posts of {args.events} events ({size / 1024:.0f} KB "
          f"each), {args.clients} at a time, to `digest serve` (uvicorn) on 127.0.0.1")
    print(f"  elapsed      {elapsed:8.2f} s")
    rate, new = load.events / elapsed, len(load.unique) / elapsed
    print(f"  ingested     {rate:8.0f} events/s   ({new:.0f} new events/s; "
          f"{args.posts / elapsed:.1f} posts/s)"
          + (f"   (target >= {TARGET:,} on SQLite)" if name == "sqlite" else ""))
    if latencies:
        print(f"  post p50     {fired.percentile(0.5) * 1000:8.0f} ms")
        print(f"  post p99     {fired.percentile(0.99) * 1000:8.0f} ms   "
              f"(max {max(latencies) * 1000:.0f} ms)")
    print(f"  failed       {len(failures):8d}   {failures[:3] if failures else ''}")
    print(f"  stored       {len(stored_ids):8d} of {len(load.unique)} distinct events posted "
          f"({stored} new by the answers, {duplicates} duplicates ignored, {linked} linked "
          "to the ledger)")
    ok = not failures and lost == 0 and stored == len(load.unique) == len(stored_ids)
    meets = name != "sqlite" or rate >= TARGET
    print(f"  verdict      {'OK' if ok else 'FAILED'}: {lost} lost, "
          f"{stored - len(stored_ids)} stored twice"
          + ("" if args.tiny else f", {'meets' if meets else 'BELOW'} the target"))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200, help="signed posts (default 200)")
    parser.add_argument("--events", type=int, default=1000, help="events per post")
    parser.add_argument("--clients", type=int, default=50, help="posts in flight at once")
    parser.add_argument("--repeat", type=float, default=0.1,
                        help="share of each post repeating earlier events (default 0.1)")
    parser.add_argument("--pg", default="", help="also run on this PostgreSQL database URL")
    parser.add_argument("--tiny", action="store_true", help="a few small posts: a smoke test")
    args = parser.parse_args()
    if args.tiny:
        args.posts, args.events, args.clients = 6, 50, 3
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f} on {os.cpu_count()} CPUs")
    ok = True
    with tempfile.TemporaryDirectory(prefix="digest-webhook-bench-") as tmp:
        ok &= run(f"sqlite:///{Path(tmp) / 'archive.db'}", Path(tmp), args)
        if args.pg:
            ok &= run(args.pg, Path(tmp), args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
