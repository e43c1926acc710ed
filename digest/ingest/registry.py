"""Readers and the registry that picks one per source: by extension, else by sniffing.

A reader is a small class: a `name`, the file extensions it claims, a `sniff(head)` test for
files whose extension says nothing, and `read(source)`, which yields an `Article` or an
`InputError` per record so one bad record never stops the rest. The built-in readers register
exactly as a third-party one would: with `@register`, or through the `digest.readers` entry-point
group of an installed package (digest/registry.py: a name is taken once).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import ClassVar, TypeVar

from digest.errors import InputError
from digest.ingest.text import decode_text
from digest.models import Article
from digest.registry import Registry

ENTRY_POINT_GROUP = "digest.readers"
HEAD_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Source:
    """One file or fetched URL, fully read: what a reader parses."""

    name: str
    """How the user named it (a path or URL): shown in messages, stored as `Article.source`."""
    data: bytes
    path: Path | None = None
    """The file on disk, when it is one (page-text ids come from file names)."""

    @property
    def filename(self) -> str:
        """Last segment of the path or URL, e.g. `001_0123456789abcdef.txt`."""
        if self.path is not None:
            return self.path.name
        return posixpath.basename(self.name.split("?", 1)[0].split("#", 1)[0].rstrip("/"))

    @property
    def extension(self) -> str:
        return posixpath.splitext(self.filename)[1].lower()

    @property
    def head(self) -> bytes:
        return self.data[:HEAD_BYTES]

    def text(self) -> str:
        """The data as text: UTF-8 (BOM tolerated) or Windows-1252, newlines as `\\n`.

        Raises InputError for binary data or bytes that are neither.
        """
        return decode_text(self.data, self.name)


ReadResult = Article | InputError


class Reader:
    """Base class of every reader (subclass it, then decorate the class with `@register`)."""

    name: ClassVar[str] = ""
    """Short unique name, e.g. `pagetext`."""
    extensions: ClassVar[tuple[str, ...]] = ()
    """Lower-case extensions with the dot, e.g. `(".md", ".markdown")`."""

    def sniff(self, head: bytes) -> bool:
        """True when the first bytes of a file look like this format."""
        return False

    def read(self, source: Source) -> Iterator[ReadResult]:
        """Yield one Article (or one InputError) per record in the source."""
        raise NotImplementedError


def _not_a_reader(item: object) -> str | None:
    if isinstance(item, type) and issubclass(item, Reader):
        return None
    return f"{item!r} is not a subclass of digest.ingest.Reader"


READERS: Registry[type[Reader]] = Registry("reader", ENTRY_POINT_GROUP, check=_not_a_reader)
R = TypeVar("R", bound=type[Reader])


def register(reader_class: R) -> R:
    """Class decorator: add a reader. When two claim an extension, the later one is asked first."""
    if not reader_class.name:
        raise ValueError(f"{reader_class.__name__} has no name")
    READERS.add(reader_class.name, reader_class)
    return reader_class


def unregister(name: str) -> None:
    READERS.remove(name)


def readers() -> list[Reader]:
    """Every registered reader, latest registered first (the order choices are made in)."""
    return [_instance(cls) for cls in reversed(READERS.values())]


@cache
def _instance(reader_class: type[Reader]) -> Reader:
    return reader_class()


def choose(source: Source) -> Reader:
    """The reader claiming the source's extension, else the first whose sniff agrees."""
    candidates = readers()
    extension = source.extension
    if extension:
        for reader in candidates:
            if extension in reader.extensions:
                return reader
    head = source.head
    for reader in candidates:
        if reader.sniff(head):
            return reader
    formats = "; ".join(
        f"{r.name} ({', '.join(r.extensions) or 'by content'})" for r in candidates
    )
    raise InputError(
        source.name,
        "unknown format: neither the extension nor the content matches a reader",
        hint=f"Known formats: {formats}.",
    )
