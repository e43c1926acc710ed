"""ROUGE and speed bench for `digest.summarise` on the BBC News Summary evaluation pairs.

    python bench/summaries.py [--half tune|held-out|both] [--limit N] [--jobs 2] [--data DIR]
                              [--tiny]

Ours against lead, a TF-IDF centroid, TextRank and LexRank (both from sumy), at the word
budgets the newsletters use (45, 55, 60) and at matched average length: each baseline gets the
budget that brings its average length to ours at 60 words. Every system ranks the same sentences
(`body_sentences`, line 1 of an article is its title and is not summarised); the baselines fill a
budget the standard way, best-ranked first, skipping a sentence that does not fit. Scores are
F1 x 100 from `rouge-score` with stemming.

The pairs are split in two halves by a hash of the file name (`half_of`), fixed before any
tuning: constants may only be chosen on "tune"; "held-out" is the check. One table per half.
Timings are CPU time of this process (steadier than wall time on a shared machine), caches
cleared first so every article pays for its own sentence splitting.

The data set is not shipped (`/work/shared/eval/bbc` on the team's machines): without it the
bench says so and exits 0. It needs the bench extra: `pip install -e '.[test,bench]'`.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.models import Article, Block
from digest.summarise import get_summariser
from digest.summarise import text as sumtext
from digest.summarise.extractive import body_sentences, select_within
from digest.summarise.text import terms, word_count

DATA = Path("/work/shared/eval/bbc")
METRICS = ("rouge1", "rouge2", "rougeL")
BUDGETS = (45, 55, 60)
MATCHED_TO = 60  # the "matched" row: baselines at ours' average length at this budget


@dataclass(frozen=True)
class Pair:
    name: str
    article: Article
    sentences: tuple[str, ...]
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


def load_pairs(root: Path, half: str, limit: int | None) -> list[Pair]:
    pairs: list[Pair] = []
    for path in sorted((root / "articles").glob("*/*.txt")):
        name = f"{path.parent.name}/{path.name}"
        if half != "both" and half_of(name) != half:
            continue
        lines = read_text(path).splitlines()
        article = Article(
            id=name,
            title=lines[0].strip(),
            published_at=datetime(2005, 1, 1, tzinfo=UTC),
            body=[Block("paragraph", line.strip()) for line in lines[1:] if line.strip()],
        )
        reference = read_text(root / "summaries" / name).strip()
        sentences = tuple(body_sentences(article.paragraphs))
        pairs.append(Pair(name, article, sentences, reference))
    return pairs[:limit] if limit else pairs


# --- baselines: a score per sentence; the budget is filled by `select_within` ---------------


def lead_scores(sentences: Sequence[str]) -> list[float]:
    return [-float(i) for i in range(len(sentences))]


class Centroid:
    """Cosine of each sentence's TF-IDF vector with the article's centroid (Radev et al.),
    terms as ours (stemmed content words), IDF over the articles benched: of the variants tried
    (IDF over the article's own sentences, unsmoothed, dot product) the strongest."""

    def __init__(self, pairs: Sequence[Pair]) -> None:
        df = Counter(t for p in pairs for t in {t for s in p.sentences for t in terms(s)})
        self.idf = {t: math.log(len(pairs) / d) + 1.0 for t, d in df.items()}

    def __call__(self, sentences: Sequence[str]) -> list[float]:
        vectors = [{t: c * self.idf[t] for t, c in Counter(terms(s)).items()} for s in sentences]
        centroid: Counter[str] = Counter()
        for vector in vectors:
            centroid.update(vector)
        norm_c = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
        scores = []
        for vector in vectors:
            norm = math.sqrt(sum(v * v for v in vector.values()))
            dot = sum(w * centroid[t] for t, w in vector.items())
            scores.append(dot / (norm * norm_c) if norm else 0.0)
        return scores


class _Words:
    """sumy's word tokenizer needs NLTK's punkt data; the same word rule without it."""

    import re as _re

    _WORD = _re.compile(r"[^\W\d_](?:[^\W\d_]|['-])*")

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(self._WORD.findall(sentence))


def _sumy_scores(summarizer_class: type) -> Callable[[Sequence[str]], list[float]]:
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.utils import get_stop_words

    summarizer = summarizer_class(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    words = _Words()

    def scores(sentences: Sequence[str]) -> list[float]:
        document = ObjectDocumentModel([Paragraph([Sentence(s, words) for s in sentences])])
        ranked: list = []

        def keep_order(infos: list) -> list:  # sumy hands over all sentences best first
            ranked.extend(infos)
            return infos

        summarizer(document, keep_order)
        # Equal sentences share one rating in sumy; rank by first appearance of the text.
        position = {info.order: n for n, info in enumerate(ranked)}
        return [-float(position.get(i, len(sentences) + i)) for i in range(len(sentences))]

    return scores


def baselines(pairs: Sequence[Pair]) -> dict[str, Callable[[Sequence[str]], list[float]]]:
    try:
        from sumy.summarizers.lex_rank import LexRankSummarizer
        from sumy.summarizers.text_rank import TextRankSummarizer
    except ImportError:
        sys.exit("bench/summaries.py needs sumy: pip install -e '.[test,bench]'")
    return {
        "lead": lead_scores,
        "centroid": Centroid(pairs),
        "textrank": _sumy_scores(TextRankSummarizer),
        "lexrank": _sumy_scores(LexRankSummarizer),
    }


# --- running and scoring ---------------------------------------------------------------------


def run_ours(pairs: list[Pair], budget: int) -> tuple[list[str], list[float]]:
    """Our summaries through the backend itself (no standfirst here), with CPU ms each."""
    sumtext.clear_caches()
    backend = get_summariser("extractive")
    texts, millis = [], []
    for pair in pairs:
        start = time.process_time()
        texts.append(backend.summarise(pair.article, budget).text)
        millis.append((time.process_time() - start) * 1000)
    return texts, millis


def filled(sentences: Sequence[str], scores: Sequence[float], budget: int) -> str:
    chosen = select_within(sentences, scores, budget)
    if not chosen:  # nothing fits: the shortest sentence, as ours does
        chosen = [min(range(len(sentences)), key=lambda i: (word_count(sentences[i]), i))]
    return " ".join(sentences[i] for i in chosen)


def matched_budget(sentences: list[tuple[str, ...]], scores: list[list[float]],
                   target: float) -> int:
    """The integer budget whose average summary length comes closest to `target` words."""
    def mean_words(budget: int) -> float:
        return statistics.fmean(word_count(filled(s, r, budget)) for s, r in
                                zip(sentences, scores, strict=True))

    low, high = 1, 4 * int(target) + 10
    while low < high:  # mean length grows with the budget: the first budget reaching target
        mid = (low + high) // 2
        if mean_words(mid) < target:
            low = mid + 1
        else:
            high = mid
    return min((low - 1, low), key=lambda b: abs(mean_words(b) - target)) if low > 1 else low


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


def table(half: str, pairs: list[Pair], systems: dict, jobs: int) -> list[str]:
    """One half's table: rows (setting, system), ROUGE F1, average words, margin over the best
    baseline."""
    sentences = [p.sentences for p in pairs]
    ranked = {name: [fn(s) for s in sentences] for name, fn in systems.items()}
    runs: list[tuple[str, str, list[str]]] = []  # (setting, system, summaries)
    timings: dict[int, list[float]] = {}
    for budget in BUDGETS:
        ours, timings[budget] = run_ours(pairs, budget)
        runs.append((f"{budget} words", "ours", ours))
        for name, scores in ranked.items():
            runs.append((f"{budget} words", name, [filled(s, r, budget) for s, r in
                                                    zip(sentences, scores, strict=True)]))
    ours_matched = next(t for s, n, t in runs if n == "ours" and s == f"{MATCHED_TO} words")
    target = statistics.fmean(map(word_count, ours_matched))
    runs.append(("matched", "ours", ours_matched))
    budgets_used = {}
    for name, scores in ranked.items():
        budgets_used[name] = matched_budget(sentences, scores, target)
        runs.append(("matched", name, [filled(s, r, budgets_used[name]) for s, r in
                                       zip(sentences, scores, strict=True)]))

    job_list = [(p.reference, [texts[i] for _, _, texts in runs]) for i, p in enumerate(pairs)]
    with Pool(jobs) as pool:
        scores = pool.map(score_one, job_list, chunksize=16)

    distinct = len({(p.article.title, p.sentences) for p in pairs})
    lines = [f"== {half}: {len(pairs)} pairs ({distinct} distinct articles)"]
    header = (f"{'setting':<9} {'system':<9} {'R1':>6} {'R2':>6} {'RL':>6} {'words':>6} "
              f"{'sents':>5} {'budget':>6}")
    lines += [header, "-" * len(header)]
    means: dict[tuple[str, str], tuple[float, float]] = {}
    for col, (setting, name, texts) in enumerate(runs):
        r1, r2, rl = (statistics.fmean(row[col][m] for row in scores) for m in range(3))
        means[setting, name] = (r1, r2)
        words = statistics.fmean(map(word_count, texts))
        sents = statistics.fmean(len(sumtext.split_sentences(t)) for t in texts)
        budget = budgets_used.get(name, MATCHED_TO) if setting == "matched" else setting.split()[0]
        lines.append(f"{setting:<9} {name:<9} {r1:6.2f} {r2:6.2f} {rl:6.2f} {words:6.1f} "
                     f"{sents:5.2f} {budget:>6}")
        if name == list(ranked)[-1]:
            best1 = max(means[setting, n][0] for n in ranked)
            best2 = max(means[setting, n][1] for n in ranked)
            o1, o2 = means[setting, "ours"]
            lines.append(f"{setting:<9} {'margin':<9} {o1 - best1:+6.2f} {o2 - best2:+6.2f}"
                         "   (ours minus the best baseline)")
    ms = sorted(timings[MATCHED_TO])
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    empty = sum(not t.strip() for _, _, texts in runs for t in texts)
    over = {b: sum(word_count(t) > b for t in next(x for s, n, x in runs
                                                    if n == "ours" and s == f"{b} words"))
            for b in BUDGETS}
    lines.append(f"ours at {MATCHED_TO} words: median {statistics.median(ms):.3f} ms, p95 "
                 f"{p95:.3f} ms, {sum(ms) / 1000:.2f} s CPU for {len(pairs)} articles")
    lines.append(f"empty summaries: {empty}; ours over budget (single-sentence fallback): "
                 + ", ".join(f"{n} at {b}" for b, n in over.items()))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tune", "held-out", "both"), default="both")
    parser.add_argument("--limit", type=int, default=None, help="first N pairs of each half")
    parser.add_argument("--jobs", type=int, default=2, help="processes for ROUGE scoring")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--tiny", action="store_true", help="10 pairs of each half, one job (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.limit, args.jobs = 10, 1
    if importlib.util.find_spec("sumy") is None:
        print("sumy (the baselines) is not installed: nothing to measure. "
              "pip install -e '.[test,bench]' brings it.")
        return
    if not (args.data / "articles").is_dir():
        print(f"No evaluation data at {args.data} (the BBC News Summary pairs are not shipped "
              "with the project): nothing to measure. Pass --data DIR to point at a copy.")
        return
    halves = ("tune", "held-out") if args.half == "both" else (args.half,)
    every: list[Pair] = []
    for half in halves:
        pairs = load_pairs(args.data, half, args.limit)
        every += pairs
        print("\n".join(table(half, pairs, baselines(pairs), args.jobs)), flush=True)
        print()
    paragraphs, needing, pieces, differ = check_split(every)
    print(f"sentence split: {needing}/{paragraphs} distinct paragraphs needed pysbd ({pieces} "
          f"pieces); {differ} split differently from pysbd on the whole paragraph")


if __name__ == "__main__":
    main()
