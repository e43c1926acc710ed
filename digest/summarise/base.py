"""The summariser interface, its result type and the backend registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from digest.errors import DigestError
from digest.models import Article

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


# Backend name -> class. Built-ins are added with `register` exactly as a plug-in would be.
SUMMARISERS: dict[str, type[Summariser]] = {}

S = TypeVar("S", bound=type[Summariser])


def register(cls: S) -> S:
    """Class decorator: make a backend available to `get_summariser` under `cls.name`."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise DigestError(f"summariser {cls.__qualname__} needs a non-empty `name` attribute")
    existing = SUMMARISERS.get(name)
    if existing is not None and existing is not cls:
        raise DigestError(
            f"summariser name {name!r} is already taken by {existing.__qualname__}",
            hint="give the new backend a different `name`",
        )
    SUMMARISERS[name] = cls
    return cls


def get_summariser(name: str = "extractive", **context: Any) -> Summariser:
    """The backend called `name`; `context` (settings, engine, refresh) goes to its `open`."""
    try:
        cls = SUMMARISERS[name]
    except KeyError:
        known = ", ".join(sorted(SUMMARISERS)) or "none registered"
        raise DigestError(
            f"unknown summariser backend {name!r}", hint=f"available backends: {known}"
        ) from None
    opener = getattr(cls, "open", None)
    return opener(**context) if opener is not None else cls()
