"""One-click unsubscribe under load: 10,000 RFC 8058 POSTs from 50 concurrent clients.

Starts `digest serve` (uvicorn, its own process) on 127.0.0.1 with a fresh SQLite archive in a
temporary folder, fires the POSTs (one distinct address each), prints requests/s and latency
percentiles, then stops the server and checks that every suppression was recorded.

    .venv/bin/python bench/unsubscribe.py [--requests 10000] [--clients 50] [--tiny]

Exit status 1 if any request failed or any suppression is missing. Target: >= 500 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.archive.schema import suppressions  # noqa: E402
from digest.send.tokens import make_token  # noqa: E402
from tests.support.serve_process import hammer, start_serve, stop_serve  # noqa: E402

NEWSLETTER = "bench-weekly"
TARGET_RPS = 500
ONE_CLICK_BODY = b"List-Unsubscribe=One-Click"


def one_clicks(port: int, tokens: list[str]) -> Iterator[bytes]:
    """The RFC 8058 POST of each token, as a mail client sends it."""
    for token in tokens:
        yield (
            f"POST /u/{token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(ONE_CLICK_BODY)}\r\n\r\n"
        ).encode() + ONE_CLICK_BODY


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--tiny", action="store_true", help="200 POSTs from 10 clients (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.requests, args.clients = 200, 10

    with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
        folder = Path(tmp)
        database = f"sqlite:///{folder / 'archive.db'}"
        key = secrets.token_urlsafe(32)
        env = {name: value for name, value in os.environ.items() if not name.startswith("DIGEST_")}
        env.update(
            DIGEST_DATA_DIR=str(folder / "data"),
            DIGEST_DATABASE_URL=database,
            DIGEST_OUT_DIR=str(folder / "editions"),
            DIGEST_SUBSCRIBERS_DIR=str(folder / "subscribers"),
            DIGEST_SECRET_KEY=key,
        )
        addresses = [f"reader{n:05d}@bench.example" for n in range(args.requests)]
        tokens = [make_token(key.encode(), address, NEWSLETTER) for address in addresses]
        server, port = start_serve(folder, env)
        try:
            started = time.perf_counter()
            fired = asyncio.run(hammer(port, one_clicks(port, tokens), args.clients))
            elapsed = time.perf_counter() - started
        finally:
            stop_serve(server)

        engine = create_engine(database)
        with engine.connect() as conn:
            recorded = conn.execute(
                select(func.count(func.distinct(suppressions.c.email))).where(
                    suppressions.c.newsletter == NEWSLETTER,
                    suppressions.c.reason == "unsubscribed",
                    suppressions.c.source == "one-click",
                )
            ).scalar_one()
        engine.dispose()

    rate = args.requests / elapsed
    print(f"one-click unsubscribe: {args.requests} POSTs, {args.clients} concurrent clients, "
          f"uvicorn + SQLite (WAL) on 127.0.0.1")
    print(f"  elapsed      {elapsed:8.2f} s")
    print(f"  throughput   {rate:8.0f} requests/s   (target >= {TARGET_RPS})")
    latencies, failures = fired.latencies, fired.failures
    if latencies:
        print(f"  latency p50  {fired.percentile(0.50) * 1000:8.1f} ms")
        print(f"  latency p99  {fired.percentile(0.99) * 1000:8.1f} ms")
        print(f"  latency max  {max(latencies) * 1000:8.1f} ms   "
              f"(mean {statistics.fmean(latencies) * 1000:.1f} ms)")
    print(f"  failed       {len(failures):8d}   {sorted(set(failures))[:5] if failures else ''}")
    print(f"  recorded     {recorded:8d} distinct suppressions of {len(set(addresses))} addresses")
    lost = len(set(addresses)) - recorded
    ok = not failures and lost == 0
    print(f"  verdict      {'OK' if ok else 'FAILED'}: {lost} lost, "
          f"{'meets' if rate >= TARGET_RPS else 'BELOW'} the throughput target")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
