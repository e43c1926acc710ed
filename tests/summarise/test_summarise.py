"""digest.summarise: standfirst vs extraction, budgets, whole sentences, cleaning, registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.errors import DigestError
from digest.models import Article, Block
from digest.registry import Registry
from digest.summarise import (
    SUMMARISERS,
    ExtractiveSummariser,
    LeadSummariser,
    Summary,
    get_summariser,
    register,
    summarise,
    summarise_sentences,
)
from digest.summarise.extractive import body_sentences
from digest.summarise.text import clean, is_contact_sentence, pysbd_split, split_sentences

ROOT = Path(__file__).resolve().parents[2]

# A made-up story: the bridge vote is what most sentences share, so it should be central.
PARAGRAPHS = [
    "Riverton council has approved plans for a new footbridge across the river Wend.",
    "The bridge will link the railway station with the old market and cost £4.2m. "
    "Councillors voted 31 to 9 in favour of the bridge after a three-hour debate.",
    "Opponents said the money should go on repairing roads. "
    "They argued the council had ignored the views of residents near the river.",
    "Supporters said the bridge would cut journey times for thousands of commuters. "
    "Council leader Ann Hale said the vote was a turning point for the town centre.",
    "Work on the bridge is due to start in the spring. It should open within two years.",
    "A public exhibition of the bridge designs will be held at the library in March.",
]


def make_article(
    paragraphs: list[str] | None = None,
    *,
    title: str = "Council backs river footbridge",
    standfirst: str | None = None,
    subheads: dict[int, str] | None = None,
) -> Article:
    body: list[Block] = []
    for i, text in enumerate(PARAGRAPHS if paragraphs is None else paragraphs):
        if subheads and i in subheads:
            body.append(Block("subhead", subheads[i]))
        body.append(Block("paragraph", text))
    return Article(
        id="test-1",
        title=title,
        published_at=datetime(2024, 5, 1, tzinfo=UTC),
        standfirst=standfirst,
        body=body,
    )


def sentence_indices(summary_text: str, sentences: list[str]) -> list[int]:
    """Where each summary sentence sits in the article; fails if one is not an article sentence."""
    indices, start = [], 0
    rest = summary_text
    while rest:
        for i in range(start, len(sentences)):
            if rest == sentences[i] or rest.startswith(sentences[i] + " "):
                indices.append(i)
                rest = rest[len(sentences[i]) :].lstrip()
                start = i + 1
                break
        else:
            raise AssertionError(f"not a sequence of whole article sentences: {rest!r}")
    return indices


# --- standfirst --------------------------------------------------------------------------------


def test_standfirst_wins_when_within_budget() -> None:
    article = make_article(
        standfirst="The town will get its first new river crossing in a century."
    )
    summary = summarise(article, max_words=60)
    assert summary == Summary(
        text="The town will get its first new river crossing in a century.",
        method="standfirst",
        sentences=1,
        words=12,
    )


def test_standfirst_budget_is_counted_after_cleaning() -> None:
    # 9 words once the marker is gone; 11 whitespace-separated pieces before cleaning.
    raw = "Councillors  backed the\n bridge (see here) by 31 votes to nine."
    summary = summarise(make_article(standfirst=raw), max_words=9)
    assert summary.method == "standfirst"
    assert summary.text == "Councillors backed the bridge by 31 votes to nine."
    assert summary.words == 9


def test_standfirst_over_budget_falls_back_to_body() -> None:
    long_standfirst = " ".join(["Word"] * 80) + "."
    summary = summarise(make_article(standfirst=long_standfirst), max_words=60)
    assert summary.method == "extractive"
    sentence_indices(summary.text, body_sentences(PARAGRAPHS))
    assert summary.words <= 60


@pytest.mark.parametrize("standfirst", [None, "", "   ", " (see here) "])
def test_missing_or_blank_standfirst_uses_body(standfirst: str | None) -> None:
    assert summarise(make_article(standfirst=standfirst)).method == "extractive"


# --- budget, whole sentences, order ------------------------------------------------------------


@pytest.mark.parametrize("budget", [8, 15, 20, 30, 45, 60, 100, 1000])
def test_budget_respected_with_whole_sentences_in_order(budget: int) -> None:
    sentences = body_sentences(PARAGRAPHS)
    summary = summarise(make_article(), max_words=budget)
    indices = sentence_indices(summary.text, sentences)  # whole article sentences only
    assert indices == sorted(indices)  # in article order
    assert summary.method == "extractive"
    assert summary.words == len(summary.text.split()) <= budget
    assert summary.sentences == len(indices) >= 1


def test_spare_budget_is_not_padded_with_off_topic_sentences() -> None:
    off_topic = "Rain is expected on Tuesday."
    article = make_article([*PARAGRAPHS, off_topic])
    summary = summarise(article, max_words=1000)
    assert off_topic not in summary.text
    assert summary.sentences >= 6  # the on-topic sentences still all fit
    assert off_topic in get_summariser("lead").summarise(article, 1000).text


def test_central_sentence_is_chosen_and_order_kept() -> None:
    paragraphs = [
        "Rain is expected on Tuesday.",
        "The bridge vote split the council, but the bridge plan won the council vote.",
        "Tickets for the summer fair go on sale next week.",
        "Council members said the bridge vote showed the council backs the bridge.",
    ]
    chosen = summarise_sentences(paragraphs, k=2)
    assert chosen == [paragraphs[1], paragraphs[3]]


def test_best_sentence_over_budget_gives_way_to_one_that_fits() -> None:
    long_central = (
        "The bridge vote, the bridge cost and the bridge design dominated a council meeting "
        "where the bridge plan won the vote after the council debated the bridge for hours."
    )
    short = "The bridge opens in 2026."
    article = make_article([long_central, short, "Rain is expected on Tuesday."])
    summary = summarise(article, max_words=7)  # room for one five-word sentence only
    assert summary == Summary(text=short, method="extractive", sentences=1, words=5)


def test_summarise_sentences_fixed_k() -> None:
    sentences = body_sentences(PARAGRAPHS)
    chosen = summarise_sentences(PARAGRAPHS, k=3)
    assert len(chosen) == 3
    indices = [sentences.index(s) for s in chosen]
    assert indices == sorted(indices)
    # A string is read as newline-separated paragraphs; asking for more gives everything.
    assert summarise_sentences("\n".join(PARAGRAPHS), k=3) == chosen
    assert summarise_sentences(PARAGRAPHS, k=99) == sentences
    assert summarise_sentences([], k=3) == []


def test_subheads_are_not_summarised() -> None:
    subhead = "Bridge bridge council vote bridge"
    article = make_article(subheads={2: subhead})
    assert subhead not in summarise(article, max_words=1000).text


# --- never empty -------------------------------------------------------------------------------


def test_one_huge_sentence_is_returned_whole_and_flagged() -> None:
    huge = "The council " + " ".join(f"heard objection {i}," for i in range(70)) + " then voted."
    summary = summarise(make_article([huge]), max_words=60)
    assert summary.method == "lead"  # tells the editor the budget could not be met
    assert summary.text == huge
    assert summary.words > 60


def test_nothing_fits_takes_the_shortest_sentence() -> None:
    first = "The council met on Monday evening to discuss the bridge plans in detail."
    second = "Councillors argued for hours about the bridge."
    summary = summarise(make_article([first, second]), max_words=3)
    assert summary == Summary(text=second, method="lead", sentences=1, words=7)


@pytest.mark.parametrize(
    "body",
    [[], ["   "], ["(see here)"], ["Please e-mail editors@example.com to contact the editors."]],
)
def test_empty_body_falls_back_to_title(body: list[str]) -> None:
    summary = summarise(make_article(body, title="  Council backs\nfootbridge "))
    assert summary == Summary(text="Council backs footbridge", method="lead", sentences=1, words=3)


def test_no_body_or_title_falls_back_to_a_standfirst_sentence() -> None:
    standfirst = "A long standfirst that runs well past the budget. It has two sentences."
    summary = summarise(make_article([], title="", standfirst=standfirst), max_words=5)
    assert summary == Summary(text="It has two sentences.", method="lead", sentences=1, words=4)


def test_article_without_any_text_is_an_error() -> None:
    with pytest.raises(DigestError, match="no body, standfirst or title"):
        summarise(make_article([], title=" ", standfirst=" (see here) "))


@pytest.mark.parametrize("budget", [0, -5])
def test_budget_must_be_positive(budget: int) -> None:
    with pytest.raises(DigestError, match="at least 1 word"):
        summarise(make_article(), max_words=budget)


# --- cleaning ----------------------------------------------------------------------------------


CONTACT = (
    "Please e-mail editors@riverton-news.example to contact the editorial staff about this story."
)


def test_see_here_markers_and_contact_sentences_are_removed() -> None:
    paragraphs = [
        "The council published the bridge designs (see here) on Friday.",
        "The bridge will cost £4.2m (See here).  " + CONTACT,
        CONTACT,
    ]
    summary = summarise(make_article(paragraphs), max_words=1000)
    assert summary.text == (
        "The council published the bridge designs on Friday. The bridge will cost £4.2m."
    )
    assert summary.sentences == 2
    for chosen in (summarise_sentences(paragraphs, k=5), body_sentences(paragraphs)):
        assert not any("see here" in s.lower() or "@" in s for s in chosen)


def test_contact_sentence_detection() -> None:
    assert is_contact_sentence(CONTACT)
    assert is_contact_sentence("E-mail news@paper.example with corrections.")
    # An address in a news sentence is news, not boilerplate.
    assert not is_contact_sentence("Police asked witnesses to e-mail tips@police.example.")
    assert not is_contact_sentence("Please contact the editorial staff.")


def test_clean_collapses_whitespace() -> None:
    assert clean("  a\n\tb  (see here)  c ") == "a b c"


# --- sentence splitting ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "paragraph",
    [
        "Profits rose 4.5% to $1.2bn. Sales fell in Europe. Mr. Smith said so.",
        'He said: "We won. It was close." Then he left. The U.S. team lost.',
        "The firm (which has 5.6m users. Or so) grew. Prices rose in 2004. J. K. Rowling wrote.",
        'Analysts called it "a trivial matter". Others disagreed! Why? Nobody knows...',
        "She works at No. 10 Downing St. in London. It is on Jan. 5 each year.",
        "Scores were 6-3 7-5. The final is on 5 May. It starts at 3 p.m. sharp.",
        "Visit bbc.co.uk for more. E-mail editors@paper.example today.",
        "He said 'it is over. We lost' and left. The end.",
        "A single sentence without an end",
    ],
)
def test_fast_split_matches_pysbd(paragraph: str) -> None:
    assert split_sentences(paragraph) == pysbd_split(paragraph)


# --- determinism -------------------------------------------------------------------------------


def test_deterministic_within_and_across_processes() -> None:
    article = make_article()
    runs = {summarise(article, max_words=n) for n in (20, 20, 20)}
    assert len(runs) == 1
    # Set and dict iteration order changes with the hash seed; results must not.
    script = """
import json, sys
from datetime import UTC, datetime
from digest.models import Article, Block
from digest.summarise import summarise, summarise_sentences
paragraphs = json.loads(sys.argv[1])
article = Article(id="x", title="t", published_at=datetime(2024, 1, 1, tzinfo=UTC),
                  body=[Block("paragraph", p) for p in paragraphs])
texts = [summarise(article, max_words=n).text for n in (12, 25, 40)]
print(json.dumps(texts + summarise_sentences(paragraphs, k=3)))
"""
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", script, json.dumps(PARAGRAPHS)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        outputs.add(result.stdout)
    assert len(outputs) == 1
    here = [summarise(article, max_words=n).text for n in (12, 25, 40)]
    assert json.loads(outputs.pop()) == here + summarise_sentences(PARAGRAPHS, k=3)


# --- registry ----------------------------------------------------------------------------------


@pytest.fixture
def registry() -> Iterator[Registry]:
    saved = SUMMARISERS.names()
    yield SUMMARISERS
    for name in set(SUMMARISERS.names()) - set(saved):
        SUMMARISERS.remove(name)


def test_builtins_are_registered() -> None:
    assert SUMMARISERS.get("extractive") is ExtractiveSummariser
    assert SUMMARISERS.get("lead") is LeadSummariser
    assert isinstance(get_summariser(), ExtractiveSummariser)
    assert isinstance(get_summariser("lead"), LeadSummariser)


def test_unknown_backend_is_a_clear_error() -> None:
    expected = "DIGEST_SUMMARISER='gpt': expected a known summariser"
    with pytest.raises(DigestError, match=expected) as info:
        summarise(make_article(standfirst="Short."), backend="gpt")
    assert "extractive" in str(info.value) and "lead" in str(info.value)


def test_third_party_backend_plugs_in(registry: Registry) -> None:
    @register
    class Shout:
        name = "shout"

        def summarise(self, article: Article, max_words: int) -> Summary:
            text = article.title.upper()
            return Summary(text=text, method="extractive", sentences=1, words=len(text.split()))

    assert registry.get("shout") is Shout
    assert summarise(make_article(), backend="shout").text == "COUNCIL BACKS RIVER FOOTBRIDGE"
    # The standfirst still wins over any backend when it fits.
    assert summarise(make_article(standfirst="Short."), backend="shout").method == "standfirst"


def test_register_rejects_duplicates_and_nameless(registry: Registry) -> None:
    class Other:
        name = "extractive"

        def summarise(self, article: Article, max_words: int) -> Summary:
            raise NotImplementedError

    class Nameless:
        def summarise(self, article: Article, max_words: int) -> Summary:
            raise NotImplementedError

    with pytest.raises(DigestError, match="'extractive' is taken twice") as taken:
        register(Other)
    assert "ExtractiveSummariser" in str(taken.value) and "Other" in str(taken.value)
    with pytest.raises(DigestError, match="has no name"):
        register(Nameless)  # type: ignore[type-var]
    assert register(ExtractiveSummariser) is ExtractiveSummariser  # re-registering is harmless
    assert registry.get("extractive") is ExtractiveSummariser


def test_lead_backend_takes_opening_sentences() -> None:
    sentences = body_sentences(PARAGRAPHS)
    summary = get_summariser("lead").summarise(make_article(), 30)
    assert summary.method == "lead"
    assert summary.text == " ".join(sentences[:2])
    assert summary.words <= 30
