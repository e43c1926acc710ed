"""Article summaries for the digest: the editor's standfirst when it fits, else extracted
sentences, or a model's summary that the faithfulness guard passed (`model`). Backends plug in
through `register` or the `digest.summarisers` entry-point group; see `extractive` and `model`
for the built-ins."""

from __future__ import annotations

from digest.models import Article
from digest.summarise.base import (
    SUMMARISERS,
    Method,
    ModelVerdict,
    Summariser,
    Summary,
    get_summariser,
    register,
)
from digest.summarise.extractive import (
    ExtractiveSummariser,
    LeadSummariser,
    check_budget,
    make_summary,
    summarise_sentences,
)
from digest.summarise.model import ModelSummariser
from digest.summarise.text import clean, is_contact_sentence, split_sentences

__all__ = [
    "SUMMARISERS",
    "ExtractiveSummariser",
    "LeadSummariser",
    "Method",
    "ModelSummariser",
    "ModelVerdict",
    "Summariser",
    "Summary",
    "get_summariser",
    "register",
    "standfirst_summary",
    "summarise",
    "summarise_sentences",
]


def summarise(
    article: Article, max_words: int = 60, backend: str | Summariser = "extractive"
) -> Summary:
    """The article's summary in at most `max_words` words (see `Summary.method` for how).
    `backend` is a name, or a backend already opened (as a build does, once for all)."""
    check_budget(max_words)
    # An unknown backend fails even if the standfirst fits.
    summariser = get_summariser(backend) if isinstance(backend, str) else backend
    return standfirst_summary(article, max_words) or summariser.summarise(article, max_words)


def standfirst_summary(article: Article, max_words: int) -> Summary | None:
    """The editor's standfirst, cleaned, when it fits the budget: it wins over any backend."""
    standfirst = _clean_standfirst(article.standfirst)
    if standfirst and len(standfirst.split()) <= max_words:
        return make_summary(split_sentences(standfirst), "standfirst")
    return None


def _clean_standfirst(text: str | None) -> str:
    if not text:
        return ""
    cleaned = clean(text)
    if not cleaned:
        return ""
    return " ".join(s for s in split_sentences(cleaned) if not is_contact_sentence(s))
