"""Near-duplicate detection: the same story under two ids, or an update ingested as a new one.

Two signals, because either alone misleads: headlines (word-set Jaccard) are short and
templated ("Week ahead in competition" every Monday), while opening paragraphs (word 3-gram
shingles, overlap coefficient so that an update which adds a sentence still matches) can be
missing.

Comparing every pair of a 10,000-article week is fifty million comparisons, so candidates come
from a bottom-k sketch: each opening's SKETCH smallest shingle hashes, indexed. Pairs sharing
two sketch values (likely above 99.8% for openings 60% alike), or one and a similar headline
(above 99.6% at 30%), are then checked exactly. Hashes are CRC32-based, not Python's per-process
`hash()`, so the same archive always gives the same pairs. The signatures themselves are made
when articles are stored (digest/signatures.py); a build makes only those missing.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

from digest import signatures
from digest.forking import map_chunks
from digest.models import Article

SKETCH = 16
# A sketch value shared by more articles than this is boilerplate, not evidence of one story.
MAX_POSTING = 64


@dataclass(frozen=True, slots=True)
class _Signature:
    title: frozenset[str]
    lead: array  # sorted distinct shingle hashes of the opening

    @property
    def sketch(self) -> array:
        return self.lead[:SKETCH]


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def similarity(title_j: float, lead_overlap: float | None) -> float | None:
    """Score in [0, 1] when the pair counts as one story, else None."""
    if lead_overlap is None:  # one of them has no text to compare: headlines must agree
        return title_j if title_j >= 0.8 else None
    if lead_overlap >= 0.6 or (lead_overlap >= 0.3 and title_j >= 0.4):
        return round((title_j + lead_overlap) / 2, 3)
    return None


class DuplicateIndex:
    """Duplicate pairs among a set of articles, computed once per build and shared by every
    newsletter (each folds only among its own candidates); `processes` share the work of a
    big week out (digest.forking)."""

    def __init__(self, articles: Sequence[Article], processes: int = 1,
                 stored: Mapping[str, bytes | None] | None = None) -> None:
        """`stored`: the archive's signatures by id (digest/signatures.py), made at ingest;
        those missing or of another version are made here."""
        self._by_id = {a.id: a for a in articles}
        kept = stored or {}
        parts = {a.id: found for a in articles
                 if (found := signatures.from_store(kept.get(a.id))) is not None}
        # Making them was most of the time a 10,000-article week's curation took, so it is
        # shared among processes; they send back plain values (six times faster to pickle).
        missing = [a for a in articles if a.id not in parts]
        parts.update(zip((a.id for a in missing),
                         map_chunks(signatures.parts, missing, processes), strict=True))
        sigs = {i: _Signature(frozenset(title), array("I", lead))
                for i, (title, lead) in parts.items()}  # (_pairs sorts them by id)
        self.edges: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for a, b, score in _pairs(sigs):
            self.edges[a].append((b, score))
            self.edges[b].append((a, score))

    @classmethod
    def of(cls, articles: Sequence[Article], edges: dict[str, list[tuple[str, float]]]
           ) -> DuplicateIndex:
        """The index of `articles` whose `edges` another process worked out (digest.build)."""
        index = cls.__new__(cls)
        index._by_id = {a.id: a for a in articles}
        index.edges = edges
        return index

    def fold(self, candidates: Iterable[str], keep_first: Iterable[str] = ()
             ) -> dict[str, tuple[str, float]]:
        """{folded id: (kept id, score)} for near-duplicate groups among `candidates`.

        The newest version of each group is kept (by revision time, then publication, then
        id), unless the group holds an id in `keep_first` (an editor's pin)."""
        pool = set(candidates)
        pinned = set(keep_first)
        seen: set[str] = set()
        folded: dict[str, tuple[str, float]] = {}
        for start in sorted(i for i in pool if self.edges.get(i)):
            if start in seen:
                continue
            group, scores, stack = {start}, {}, [start]
            while stack:
                node = stack.pop()
                for other, score in self.edges.get(node, ()):
                    if other in pool:
                        scores[other] = max(scores.get(other, 0.0), score)
                        if other not in group:
                            group.add(other)
                            stack.append(other)
            seen |= group
            if len(group) < 2:
                continue
            keep = max(group, key=lambda i: (i in pinned, *self._age(i)))
            for other in sorted(group - {keep}):
                folded[other] = (keep, scores.get(other, 0.0))
        return folded

    def _age(self, article_id: str) -> tuple:
        article = self._by_id[article_id]
        return (article.revised_at, article.published_at, article_id)


def _pairs(sigs: dict[str, _Signature]) -> Iterable[tuple[str, str, float]]:
    ids = sorted(sigs)
    sketches = [sigs[article_id].sketch for article_id in ids]
    # Lists only for the values shared by a few articles: most occur once, and a list for each
    # of a big week's ~150,000 values kept the garbage collector busy for a quarter second.
    counts = Counter(chain.from_iterable(sketches))  # counted at C speed
    postings: dict[int, list[int]] = {value: [] for value, count in counts.items()
                                      if 1 < count <= MAX_POSTING}
    for n, sketch in enumerate(sketches):
        for value in sketch:
            if value in postings:
                postings[value].append(n)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for members in postings.values():
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                shared[(i, j)] += 1
    for (i, j), in_sketch in shared.items():  # insertion order: deterministic
        a, b = sigs[ids[i]], sigs[ids[j]]
        title_j = jaccard(a.title, b.title)
        # One shared sketch value is what unrelated openings with common phrases look like;
        # a real duplicate shares several (or at least has a similar headline).
        if in_sketch < 2 and title_j < 0.4:
            continue
        overlap = len(set(a.lead).intersection(b.lead)) / min(len(a.lead), len(b.lead))
        score = similarity(title_j, overlap)
        if score is not None:
            yield ids[i], ids[j], score
    yield from _headline_pairs(ids, sigs)


def _headline_pairs(ids: list[str], sigs: dict[str, _Signature]
                    ) -> Iterable[tuple[str, str, float]]:
    """Articles without an opening paragraph can only be matched on their headlines."""
    bare = [i for i in ids if not sigs[i].lead]
    if not bare:
        return
    position = {i: n for n, i in enumerate(ids)}
    by_word: dict[str, list[str]] = defaultdict(list)
    for article_id in ids:
        for word in sigs[article_id].title:
            by_word[word].append(article_id)
    done: set[tuple[str, str]] = set()
    for article_id in bare:
        others = {o for w in sigs[article_id].title for o in by_word[w] if o != article_id}
        for other in sorted(others):
            first, second = sorted((article_id, other), key=position.__getitem__)
            if (first, second) in done:
                continue
            done.add((first, second))
            score = similarity(jaccard(sigs[article_id].title, sigs[other].title), None)
            if score is not None:
                yield first, second, score
