"""Ingest throughput and memory: 10,000 generated articles, mixed formats, fresh SQLite archive.

    .venv/bin/python bench/ingest.py [--articles 10000] [--runs 3] [--tiny]

Writes a quarter of the articles as page-text exports (one file each), a quarter as Markdown
files, a quarter as JSON Lines (500 a file) and a quarter as RSS 2.0 feeds (100 items a feed).
Each run ingests the whole folder into a new SQLite file in a fresh Python process, which
reports the time `ingest()` took (imports and interpreter start-up excluded, opening the archive
included) by the wall clock and in CPU time (the latter is what to compare when other work
shares the machine), and its peak resident memory (VmHWM, bench/send.py's peak_rss_mb: the
whole process, interpreter, libraries and data). Prints the median rates of the runs and
the largest peak. Targets: at least 2,000 articles/s (wall clock), under 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent

VOCABULARY = """commission regulator merger antitrust fine data privacy transfer court ruling
minister consultation guidance market competition platform consumer authority digital services
act model training compliance investigation appeal tariff export controls bank capital rules
supervisor review notice hearing decision filing lawyers parliament council agreement"""
WORDS = VOCABULARY.split()
TAGS = ["AI Policy", "Antitrust", "Data Privacy", "Trade", "Financial Regulation", "Mergers"]
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

CHILD = """
import json, sys, time
from bench.send import peak_rss_mb
from digest.archive import connect
from digest.ingest import ingest
from digest.settings import Settings
settings = Settings(database_url="sqlite:///" + sys.argv[2], data_dir=sys.argv[3])
started, cpu = time.perf_counter(), time.process_time()
report = ingest([sys.argv[1]], connect(settings.database), settings)
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
total = report.total()
print(json.dumps({"seconds": elapsed, "cpu": cpu, "new": total.new, "rejected": total.rejected,
                  "peak_mb": peak_rss_mb()}))
"""


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(12, 24))
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 4)))


def fake(rng: random.Random, number: int) -> dict:
    body = [paragraph(rng) for _ in range(rng.randint(5, 9))]
    return {
        "id": f"{number:016x}",
        "title": " ".join(rng.choices(WORDS, k=8)).capitalize(),
        "published_at": START + timedelta(minutes=7 * number),
        "authors": rng.sample(["Ana Ruiz", "Tom Berg", "Li Wei", "Sam Okafor"], rng.randint(1, 3)),
        "kind": rng.choice(["News", "Insight", "Comment"]),
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
        "standfirst": sentence(rng),
        "body": [*body[:3], {"subhead": "What comes next"}, *body[3:]],
    }


def pagetext(article: dict) -> str:
    when = article["published_at"]
    byline = article["authors"]
    authors = byline[0] if len(byline) == 1 else ", ".join(byline[:-1]) + " and " + byline[-1]
    lines = [
        "This is the new platform banner.", "Dismiss", "", article["title"], "",
        f"By {authors}", "",
        f"{when:%B} {when.day}, {when.year}, {when:%H:%M} GMT | {article['kind']}",
        article["standfirst"], article["standfirst"], "",
    ]
    for block in article["body"]:
        text = f"— {block['subhead']}\u00a0—" if isinstance(block, dict) else block + " (see here)"
        lines += [text, ""]
    lines += ["Please e-mail editors@regwire.example to contact the editorial staff.", "", "Tags"]
    return "\r\n".join(lines + article["tags"]) + "\r\n"


def markdown(article: dict) -> str:
    front = {k: article[k] for k in ("id", "title", "authors", "kind", "tags", "standfirst")}
    front["date"] = article["published_at"].isoformat()
    lines = ["---", *(f"{k}: {json.dumps(v)}" for k, v in front.items()), "---", ""]
    for block in article["body"]:
        lines += [f"## {block['subhead']}" if isinstance(block, dict) else block, ""]
    return "\n".join(lines)


def jsonl(article: dict) -> str:
    return json.dumps({**article, "published_at": article["published_at"].isoformat()})


def rss_item(article: dict) -> str:
    html = "".join(
        f"<h2>{escape(b['subhead'])}</h2>" if isinstance(b, dict) else f"<p>{escape(b)}</p>"
        for b in article["body"]
    )
    categories = "".join(f"<category>{escape(t)}</category>" for t in article["tags"])
    return (
        f"<item><title>{escape(article['title'])}</title>"
        f"<link>https://regwire.example/articles/{article['id']}</link>"
        f"<guid>{article['id']}</guid><pubDate>{format_datetime(article['published_at'])}</pubDate>"
        f"<description>{escape(article['standfirst'])}</description>{categories}"
        f"<content:encoded><![CDATA[{html}]]></content:encoded></item>"
    )


def generate(folder: Path, count: int) -> None:
    rng = random.Random(20261102)
    articles = [fake(rng, n) for n in range(count)]
    quarter = count // 4
    for sub in ("pagetext", "markdown", "jsonl", "feeds"):
        (folder / sub).mkdir(parents=True)
    for n, article in enumerate(articles[:quarter]):
        (folder / "pagetext" / f"{n:05d}_{article['id']}.txt").write_bytes(
            b"\xef\xbb\xbf" + pagetext(article).encode()
        )
    for n, article in enumerate(articles[quarter : 2 * quarter]):
        (folder / "markdown" / f"{n:05d}.md").write_text(markdown(article))
    chunk = articles[2 * quarter : 3 * quarter]
    for start in range(0, len(chunk), 500):
        lines = [jsonl(a) for a in chunk[start : start + 500]]
        (folder / "jsonl" / f"{start:05d}.jsonl").write_text("\n".join(lines) + "\n")
    rest = articles[3 * quarter :]
    for start in range(0, len(rest), 100):
        items = "".join(rss_item(a) for a in rest[start : start + 100])
        (folder / "feeds" / f"{start:05d}.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>Regwire</title>{items}</channel></rss>"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="200 articles, once (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.articles, args.runs = 200, 1
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        generate(corpus, args.articles)
        results = []
        for run in range(args.runs):
            database = Path(tmp) / f"run{run}.db"
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(corpus), str(database), str(Path(tmp) / "data")],
                check=True, capture_output=True, text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            result = json.loads(out.stdout)
            if result["rejected"] or result["new"] != args.articles:
                sys.exit(f"run {run + 1}: expected {args.articles} new, got {result}")
            rate = result["new"] / result["seconds"]
            cpu_rate = result["new"] / result["cpu"]
            peak_mb = result["peak_mb"]
            results.append((rate, cpu_rate, peak_mb))
            print(f"run {run + 1}: {result['new']} articles in {result['seconds']:.2f} s "
                  f"= {rate:,.0f} articles/s ({cpu_rate:,.0f}/s of CPU time), "
                  f"peak RSS {peak_mb:.0f} MB")
    rate = statistics.median(r[0] for r in results)
    cpu_rate = statistics.median(r[1] for r in results)
    peak = max(r[2] for r in results)
    print(f"median: {rate:,.0f} articles/s wall clock, {cpu_rate:,.0f}/s CPU time "
          f"(target >= 2,000); peak RSS (VmHWM): {peak:.0f} MB (target < 200)")
    # the wall-clock rate only means something next to how busy the machine was
    load = os.getloadavg()[0]
    print(f"load average (1 min) at the end: {load:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
