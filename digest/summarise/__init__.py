"""Article summaries for the digest: the editor's standfirst when it fits, else extracted
sentences. Backends plug in through `register`; see `extractive` for the built-ins."""

from __future__ import annotations

from digest.models import Article
from digest.summarise.base import SUMMARISERS, Method, Summariser, Summary, get_summariser, register
from digest.summarise.extractive import (
    ExtractiveSummariser,
    LeadSummariser,
    check_budget,
    make_summary,
    summarise_sentences,
)
from digest.summarise.text import clean, is_contact_sentence, split_sentences

__all__ = [
    "SUMMARISERS",
    "ExtractiveSummariser",
    "LeadSummariser",
    "Method",
    "Summariser",
    "Summary",
    "get_summariser",
    "register",
    "summarise",
    "summarise_sentences",
]


def summarise(article: Article, max_words: int = 60, backend: str = "extractive") -> Summary:
    """The article's summary in at most `max_words` words (see `Summary.method` for how)."""
    check_budget(max_words)
    summariser = get_summariser(backend)  # an unknown backend fails even if the standfirst fits
    standfirst = _clean_standfirst(article.standfirst)
    if standfirst and len(standfirst.split()) <= max_words:
        return make_summary(split_sentences(standfirst), "standfirst")
    return summariser.summarise(article, max_words)


def _clean_standfirst(text: str | None) -> str:
    if not text:
        return ""
    cleaned = clean(text)
    if not cleaned:
        return ""
    return " ".join(s for s in split_sentences(cleaned) if not is_contact_sentence(s))
