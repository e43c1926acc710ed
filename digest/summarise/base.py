"""The summariser interface, its result type and the backend registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from digest.models import Article
from digest.registry import Registry

# How a summary was made, so the editor knows what to check:
# "standfirst" - the article's own standfirst, cleaned;
# "extractive" - sentences chosen from the body by a scoring backend;
# "lead" - a positional fallback (the body's first or shortest sentence, or the title);
# "model" - written by a language model and passed by the faithfulness guard;
# "editor" - written by hand; never produced here, the caller sets it.
Method = Literal["standfirst", "extractive", "lead", "model", "editor"]


@dataclass(frozen=True, slots=True)
class ModelVerdict:
    """What became of a model's answer: `accepted` with the guard's verdict in `detail`, or set
    aside (the summary is then the extractive one) with the reason, and the answer itself."""

    model: str
    accepted: bool
    detail: str
    answer: str = ""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"model": self.model, "accepted": self.accepted,
                                "detail": self.detail}
        if self.answer:
            data["answer"] = self.answer
        return data


@dataclass(frozen=True, slots=True)
class Summary:
    text: str
    method: Method
    sentences: int
    words: int
    model: ModelVerdict | None = None  # set whenever a model was asked for this summary


class Summariser(Protocol):
    """`name` plus `summarise`. A backend that needs settings or the database defines a
    classmethod `open(*, settings, engine, refresh)` that `get_summariser` calls instead of the
    class; it may also define `prefetch([(article, max_words), ...])` to work ahead in bulk and
    `close()`."""

    name: str

    def summarise(self, article: Article, max_words: int) -> Summary:
        """Summarise the article's body in at most `max_words` words where possible."""
        ...


def _not_a_summariser(item: object) -> str | None:
    if isinstance(item, type) and callable(getattr(item, "summarise", None)):
        return None
    return f"{item!r} is not a class with a summarise(article, max_words) method"


# Backend name -> class. Built-ins are added with `register` exactly as a plug-in would be.
SUMMARISERS: Registry[type[Summariser]] = Registry(
    "summariser", "digest.summarisers", check=_not_a_summariser, setting="DIGEST_SUMMARISER"
)

S = TypeVar("S", bound=type[Summariser])


def register(cls: S) -> S:
    """Class decorator: make a backend available to `get_summariser` under `cls.name`."""
    SUMMARISERS.add(getattr(cls, "name", ""), cls)
    return cls


def get_summariser(name: str = "extractive", **context: Any) -> Summariser:
    """The backend called `name`; `context` (settings, engine, refresh) goes to its `open`."""
    cls = SUMMARISERS.get(name)
    opener = getattr(cls, "open", None)
    return opener(**context) if opener is not None else cls()
