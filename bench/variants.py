"""Digests cut to readers' topics at scale: build time and send rate, beside the same edition
sent unpersonalised.

    .venv/bin/python bench/variants.py [--subscribers 100000] [--runs 3] [--database URL]
    .venv/bin/python bench/variants.py --tiny     # 160 readers, one run (CI)

A newsletter with 4 topics (ai-policy, antitrust, trade, sanctions) and two lists of the same
size: "plain", whose readers chose no topics (everyone gets the full edition: the build renders
one email), and "cut", whose readers are spread evenly over all 16 combinations of the 4 topics
(none chosen included: the build renders the full edition and 15 variants). Both are built from
the same archive for the same week and sent through SendGrid's official client to the
SendGrid-compatible server on 127.0.0.1 (its own process). Each build and each send runs in a
fresh process; medians of the runs are printed side by side. Target: the cut send at >= 20,000
recipients/s, like the plain one.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.build import TAGS, generate_articles  # noqa: E402
from bench.send import run_child, start_server, stats  # noqa: E402

TOPICS = ["ai-policy", "antitrust", "trade", "sanctions"]
WEEK = "2026-W47"

BUILD = """
import json, sys, time
from digest.build import build_editions
from digest.settings import Settings
started = time.perf_counter()
result = build_editions(Settings(), week=sys.argv[1], newsletters=[sys.argv[2]])
(letter,) = result.newsletters
print(json.dumps({"seconds": time.perf_counter() - started, "articles": letter.articles,
                  "variants": sum(v.status == "built" for v in letter.variants),
                  "renders": 1 + sum(v.status == "built" for v in letter.variants)}))
"""


def write_config(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "taxonomy.toml").write_text("\n".join(
        f'[tags.{slug}]\nname = "{slug.replace("-", " ").capitalize()}"\n'
        f"keywords = {json.dumps(keywords)}\n" for slug, keywords in TAGS.items()))
    letters = []
    for slug in ("plain", "cut"):
        letters.append(f'[newsletters.{slug}]\ntitle = "Roundup ({slug})"\n'
                       f"tags = {json.dumps(TOPICS)}\ntopics = {json.dumps(TOPICS)}\n"
                       'max_articles = 12\nsections = "tag"\n'
                       'subject = "Roundup: {{ edition.label }} — {{ lead.title }}"\n')
    (folder / "newsletters.toml").write_text("\n".join(letters))


def combinations() -> list[str | None]:
    """All 16 subsets of the 4 topics, as stored: None for the empty one."""
    found: list[str | None] = [None]
    for size in range(1, len(TOPICS) + 1):
        found += ["+".join(sorted(c)) for c in itertools.combinations(TOPICS, size)]
    return found


def add_readers(engine, slug: str, count: int, spread: bool) -> None:
    from digest.archive.schema import subscribers

    now = datetime.now(UTC)
    keys = combinations() if spread else [None]
    chunk = []
    with engine.begin() as conn:
        for n in range(count):
            key = keys[n % len(keys)]
            chunk.append({"newsletter": slug, "email": f"reader{n:07d}@example.com", "name":
                          f"Reader {n}", "extra": None, "status": "active", "created_at": now,
                          "updated_at": now, "topics": key, "topics_by": "reader" if key else None,
                          "origin": "csv"})
            if len(chunk) == 10_000:
                conn.execute(subscribers.insert(), chunk)
                chunk = []
        if chunk:
            conn.execute(subscribers.insert(), chunk)


def build(env: dict[str, str], slug: str) -> dict:
    done = subprocess.run([sys.executable, "-c", BUILD, WEEK, slug], env=env, text=True,
                          capture_output=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"build failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", default="", help="database URL (default: a temporary SQLite)")
    parser.add_argument("--processes", type=int, default=0,
                        help="DIGEST_SEND_PROCESSES of the sends (default: the setting's)")
    parser.add_argument("--tiny", action="store_true", help="160 readers, one run (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.subscribers, args.runs = 160, 1
    work = Path(tempfile.mkdtemp(prefix="digest-variantbench-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    from digest.archive import connect
    from digest.archive.articles import save_articles
    from digest.models import Article

    database = args.database or f"sqlite:///{work / 'bench.db'}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")},
           "DIGEST_DATA_DIR": str(work / "data"), "DIGEST_OUT_DIR": str(work / "editions"),
           "DIGEST_DATABASE_URL": database, "DIGEST_SUBSCRIBERS_DIR": str(work / "subscribers"),
           "DIGEST_TEMPLATES_DIR": str(work / "no-templates"), "DIGEST_SECRET_KEY": "bench",
           "DIGEST_SENDGRID_API_KEY": "SG.test-key", "PYTHONPATH": str(ROOT)}
    write_config(work / "subscribers")
    engine = connect(database)
    save_articles(engine, [Article.from_dict(a) for a in generate_articles(2000, 52)])
    for slug, spread in (("plain", False), ("cut", True)):
        add_readers(engine, slug, args.subscribers, spread)
    engine.dispose()
    print(f"{args.subscribers:,} readers per list; 'cut' spread over all {len(combinations())} "
          f"combinations of {len(TOPICS)} topics; database {engine.dialect.name}")

    builds = {slug: [build(env, slug) for _ in range(args.runs)] for slug in ("plain", "cut")}
    print(f"\nbuild of {WEEK} (fresh process each, build_editions() only), median of "
          f"{args.runs}:")
    for slug, runs in builds.items():
        first = runs[0]
        print(f"  {slug:<6} {statistics.median(r['seconds'] for r in runs):6.2f} s   "
              f"{first['renders']:2d} email(s) rendered ({first['variants']} variants), "
              f"{first['articles']} articles in the full edition")
    ratio = (statistics.median(r["seconds"] for r in builds["cut"])
             / statistics.median(r["seconds"] for r in builds["plain"]))
    print(f"  cut / plain: {ratio:.1f}x")

    server, port = start_server([sys.executable, "-m", "tests.support.sendgrid_server"])
    sendgrid = {**env, "DIGEST_SENDER": "sendgrid",
                "DIGEST_SENDGRID_API_HOST": f"http://127.0.0.1:{port}",
                **({"DIGEST_SEND_PROCESSES": str(args.processes)} if args.processes else {})}
    try:
        print("\nsend to SendGrid (fresh process each, the ledger reset between runs):")
        rates: dict[str, list[float]] = {"plain": [], "cut": []}
        per_cpu: dict[str, list[float]] = {"plain": [], "cut": []}
        requests: dict[str, int] = {}
        for _ in range(args.runs):
            for slug in ("plain", "cut"):
                reset_send(database, WEEK, slug)
                before = stats(port)
                result = run_child(sendgrid, WEEK, slug)
                after = stats(port)
                assert result["ok"] and after["recipients"] - before["recipients"] == \
                    result["sent"] == args.subscribers
                rates[slug].append(result["sent"] / result["seconds"])
                per_cpu[slug].append(result["sent"] / result["cpu"])
                requests[slug] = after["requests"] - before["requests"]
        for slug, found in rates.items():
            print(f"  {slug:<6} {statistics.median(found):8,.0f} recipients/s "
                  f"({statistics.median(per_cpu[slug]):,.0f} per CPU-second of the sender; "
                  f"{requests[slug]} requests; runs: {', '.join(f'{r:,.0f}' for r in found)})")
        ratio = statistics.median(rates["cut"]) / statistics.median(rates["plain"])
        print(f"  cut / plain: {ratio:.2f}x   target: cut >= 20,000 recipients/s")
    finally:
        server.terminate()
        server.wait()


def reset_send(database: str, edition: str, slug: str) -> None:
    """Forget an earlier run of this send, so the next one mails the whole list again."""
    from sqlalchemy import delete

    from digest.archive import connect
    from digest.archive.schema import deliveries, send_batches

    engine = connect(database)
    with engine.begin() as conn:
        for table in (deliveries, send_batches):
            conn.execute(delete(table).where(table.c.edition == edition,
                                             table.c.newsletter == slug))
    engine.dispose()


if __name__ == "__main__":
    main()
