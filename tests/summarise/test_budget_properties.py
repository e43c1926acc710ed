"""Properties of budgeted summaries (Hypothesis): whole sentences in article order, never
empty, never over the budget except the single-sentence fallback; and `pack` is optimal."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.models import Article, Block
from digest.summarise import summarise
from digest.summarise.extractive import body_sentences, pack, select_within
from digest.summarise.text import word_count
from tests.summarise.test_summarise import sentence_indices

# Plain words (no abbreviations such as "no" or "st", so every full stop ends a sentence).
WORDS = ["bridge", "council", "vote", "river", "budget", "plan", "residents", "mayor",
         "station", "market", "repairs", "tickets", "rain", "summer", "library", "design",
         "cost", "million", "opponents", "supporters", "2026", "4.2m", "approved", "delayed"]

sentence = st.lists(st.sampled_from(WORDS), min_size=1, max_size=30).map(
    lambda ws: " ".join([ws[0].capitalize(), *ws[1:]]) + "."
)
paragraph = st.lists(sentence, min_size=1, max_size=4).map(" ".join)


def article_of(paragraphs: list[str], standfirst: str | None = None) -> Article:
    return Article(id="p", title="Council backs bridge", standfirst=standfirst,
                   published_at=datetime(2026, 3, 1, tzinfo=UTC),
                   body=[Block("paragraph", p) for p in paragraphs])


@settings(max_examples=150, deadline=None)
@given(paragraphs=st.lists(paragraph, min_size=1, max_size=10),
       budget=st.integers(min_value=1, max_value=90),
       backend=st.sampled_from(["extractive", "lead"]))
def test_summaries_are_whole_sentences_within_budget(paragraphs: list[str], budget: int,
                                                     backend: str) -> None:
    sentences = body_sentences(paragraphs)
    summary = summarise(article_of(paragraphs), max_words=budget, backend=backend)
    assert summary.text.strip()
    chosen = sentence_indices(summary.text, sentences)
    assert summary.sentences == len(chosen) >= 1
    assert summary.words == word_count(summary.text)
    if summary.words > budget:  # the documented fallback: one sentence, the shortest, flagged
        assert summary.method == "lead" and len(chosen) == 1
        assert summary.words == min(map(word_count, sentences)) > budget
    else:
        assert summary.method == backend


@settings(max_examples=60, deadline=None)
@given(paragraphs=st.lists(paragraph, min_size=1, max_size=6), budget=st.integers(10, 90))
def test_standfirst_within_budget_always_wins(paragraphs: list[str], budget: int) -> None:
    standfirst = "The council backed the bridge."
    summary = summarise(article_of(paragraphs, standfirst), max_words=budget)
    assert (summary.text, summary.method) == (standfirst, "standfirst")


# Sentences with words of their own, so no two are near-repeats and only the budget binds.
distinct = st.lists(st.tuples(st.integers(1, 25), st.floats(0.01, 1.0)), min_size=1, max_size=9)


def sentences_of(shape: list[tuple[int, float]]) -> tuple[list[str], list[float]]:
    texts = [" ".join(f"w{n}x{k}" for k in range(length)) for n, (length, _) in enumerate(shape)]
    return texts, [score for _, score in shape]


@settings(max_examples=200, deadline=None)
@given(shape=distinct, budget=st.integers(1, 60))
def test_pack_is_the_best_fill_after_the_best_sentence(shape: list[tuple[int, float]],
                                                       budget: int) -> None:
    texts, scores = sentences_of(shape)
    words = [word_count(t) for t in texts]
    chosen = pack(texts, scores, budget)
    fits = [i for i in range(len(texts)) if words[i] <= budget]
    if not fits:
        assert chosen == []
        return
    first = max(fits, key=lambda i: (scores[i], -i))
    assert first in chosen and chosen == sorted(chosen)
    assert sum(words[i] for i in chosen) <= budget

    def value(ids: list[int] | tuple[int, ...]) -> float:
        return sum(scores[i] * words[i] for i in ids if i != first)

    others = [i for i in range(len(texts)) if i != first]
    best = max(value(c) for r in range(len(others) + 1) for c in combinations(others, r)
               if words[first] + sum(words[i] for i in c) <= budget)
    assert abs(value(chosen) - best) < 1e-9
    # Never worse than the greedy fill it replaces.
    assert value(chosen) >= value(select_within(texts, scores, budget)) - 1e-9


def test_pack_fills_the_gap_greedy_leaves() -> None:
    texts, scores = sentences_of([(25, 1.0), (10, 0.9), (15, 0.8)])
    assert select_within(texts, scores, 40) == [0, 1]  # 35 words: the 15-word one no longer fits
    assert pack(texts, scores, 40) == [0, 2]  # 40 words, more of the article's central content


def test_pack_floor_and_near_repeats() -> None:
    texts = ["Council backs the bridge plan today.", "Council backs the bridge plan today again.",
             "Rain is expected on Tuesday."]
    assert pack(texts, [1.0, 0.9, 0.2], 100) == [0, 2]  # the near-repeat gives way
    assert pack(texts, [1.0, 0.9, 0.2], 100, floor=0.3) == [0]  # the weak one-liner stays out

