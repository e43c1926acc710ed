"""The summariser interface, its result type and the backend registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from digest.errors import DigestError
from digest.models import Article

# How a summary was made, so the editor knows what to check:
# "standfirst" - the article's own standfirst, cleaned;
# "extractive" - sentences chosen from the body by a scoring backend;
# "lead" - a positional fallback (the body's first or shortest sentence, or the title);
# "editor" - written by hand; never produced here, the caller sets it.
Method = Literal["standfirst", "extractive", "lead", "editor"]


@dataclass(frozen=True, slots=True)
class Summary:
    text: str
    method: Method
    sentences: int
    words: int


class Summariser(Protocol):
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


def get_summariser(name: str = "extractive") -> Summariser:
    try:
        cls = SUMMARISERS[name]
    except KeyError:
        known = ", ".join(sorted(SUMMARISERS)) or "none registered"
        raise DigestError(
            f"unknown summariser backend {name!r}", hint=f"available backends: {known}"
        ) from None
    return cls()
