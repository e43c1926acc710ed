"""ROUGE and speed bench for `digest.summarise` on the BBC News Summary evaluation pairs.

    python bench/summaries.py [--limit N] [--jobs 2] [--data /work/shared/eval/bbc]

Two settings, each lead baseline against ours: k = 3 sentences (comparable with the data's
README baselines) and the digest's 60-word budget. Line 1 of an article is its title and is
not summarised. Scores are F1 x 100 from `rouge-score` with stemming; longer summaries raise
recall, so compare systems at similar average length. Timings are CPU time of this process
(steadier than wall time on a shared machine), with the summariser's caches cleared before each
system's pass so every article pays for its own sentence splitting.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.models import Article, Block
from digest.summarise import Summary, get_summariser, summarise, summarise_sentences
from digest.summarise import text as sumtext
from digest.summarise.extractive import body_sentences

DATA = Path("/work/shared/eval/bbc")
METRICS = ("rouge1", "rouge2", "rougeL")


@dataclass(frozen=True)
class Pair:
    name: str
    article: Article
    reference: str


def half_of(name: str) -> str:
    """"tune" or "held-out", fixed by a hash of the pair's file name ("business/001.txt"), so
    the split never moves. Summariser constants are tuned on "tune" only; "held-out" checks them."""
    return "tune" if hashlib.sha256(name.encode()).digest()[0] % 2 == 0 else "held-out"


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # one file carries a Latin-1 pound sign
        return raw.decode("cp1252")


def load_pairs(root: Path, limit: int | None) -> list[Pair]:
    pairs: list[Pair] = []
    for path in sorted((root / "articles").glob("*/*.txt")):
        lines = read_text(path).splitlines()
        name = f"{path.parent.name}/{path.name}"
        article = Article(
            id=name,
            title=lines[0].strip(),
            published_at=datetime(2005, 1, 1, tzinfo=UTC),
            body=[Block("paragraph", line.strip()) for line in lines[1:] if line.strip()],
        )
        reference = read_text(root / "summaries" / name).strip()
        pairs.append(Pair(name, article, reference))
    return pairs[:limit] if limit else pairs


def _joined(sentences: list[str]) -> tuple[str, int]:
    return " ".join(sentences), len(sentences)


def _made(summary: Summary) -> tuple[str, int]:
    return summary.text, summary.sentences


# name, setting, function from article to (summary text, sentence count)
SYSTEMS: list[tuple[str, str, Callable[[Article], tuple[str, int]]]] = [
    ("lead-3", "k=3", lambda a: _joined(body_sentences(a.paragraphs)[:3])),
    ("ours-3", "k=3", lambda a: _joined(summarise_sentences(a.paragraphs, k=3))),
    ("lead-60w", "60 words", lambda a: _made(get_summariser("lead").summarise(a, 60))),
    ("ours-60w", "60 words", lambda a: _made(summarise(a, max_words=60))),
]


def run_system(
    fn: Callable[[Article], tuple[str, int]], pairs: list[Pair]
) -> tuple[list[tuple[str, int]], list[float]]:
    sumtext.clear_caches()  # cold: every pass pays for its own splitting and term extraction
    outputs, millis = [], []
    for pair in pairs:
        start = time.process_time()
        outputs.append(fn(pair.article))
        millis.append((time.process_time() - start) * 1000)
    return outputs, millis


_scorer = None


def score_one(job: tuple[str, list[str]]) -> list[tuple[float, float, float]]:
    global _scorer
    if _scorer is None:
        from rouge_score import rouge_scorer

        _scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    reference, candidates = job
    rows = []
    for text in candidates:
        s = _scorer.score(reference, text)
        rows.append(tuple(100 * s[m].fmeasure for m in METRICS))
    return rows


def check_split(pairs: list[Pair]) -> tuple[int, int, int, int]:
    """Distinct paragraphs; how many needed pysbd at all; pieces sent to it; and paragraphs
    whose sentences differ from pysbd run on the whole paragraph (1 known, see text.py)."""
    total = needing = pieces = differ = 0
    for text in {sumtext.clean(p) for pair in pairs for p in pair.article.paragraphs}:
        unsure = sum(flag for _, flag in sumtext.chunks(text))
        total += 1
        needing += unsure > 0
        pieces += unsure
        differ += sumtext.split_sentences(text) != sumtext.pysbd_split(text)
    return total, needing, pieces, differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N pairs only")
    parser.add_argument("--jobs", type=int, default=2, help="processes for ROUGE scoring")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()

    pairs = load_pairs(args.data, args.limit)
    unique = len({(p.article.title, tuple(p.article.paragraphs)) for p in pairs})
    outputs, timings = {}, {}
    for name, _, fn in SYSTEMS:
        outputs[name], timings[name] = run_system(fn, pairs)

    jobs = [
        (p.reference, [outputs[name][i][0] for name, _, _ in SYSTEMS]) for i, p in enumerate(pairs)
    ]
    with Pool(args.jobs) as pool:
        scores = pool.map(score_one, jobs, chunksize=32)

    print(f"{len(pairs)} pairs ({unique} distinct articles), data {args.data}")
    header = f"{'setting':<9} {'system':<9} {'R1':>6} {'R2':>6} {'RL':>6} {'words':>6} "
    header += f"{'sents':>5} {'med ms':>7} {'p95 ms':>7} {'cpu s':>7}"
    print(header)
    print("-" * len(header))
    for col, (name, setting, _) in enumerate(SYSTEMS):
        r1, r2, rl = (statistics.fmean(row[col][m] for row in scores) for m in range(3))
        words = statistics.fmean(len(text.split()) for text, _ in outputs[name])
        sents = statistics.fmean(n for _, n in outputs[name])
        ms = sorted(timings[name])
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        print(
            f"{setting:<9} {name:<9} {r1:6.2f} {r2:6.2f} {rl:6.2f} {words:6.1f} {sents:5.2f} "
            f"{statistics.median(ms):7.3f} {p95:7.3f} {sum(ms) / 1000:7.2f}"
        )
    empty = sum(not text.strip() for name in outputs for text, _ in outputs[name])
    over = sum(len(text.split()) > 60 for text, _ in outputs["ours-60w"])
    paragraphs, needing, pieces, differ = check_split(pairs)
    print(f"empty summaries: {empty}; ours-60w over budget (shortest-sentence fallback): {over}")
    print(
        f"sentence split: {needing}/{paragraphs} distinct paragraphs needed pysbd ({pieces} "
        f"pieces); {differ} split differently from pysbd on the whole paragraph"
    )


if __name__ == "__main__":
    main()
