"""The publisher's page-text export: the article page's text, platform chrome included.

Top to bottom: an optional banner ending in a `Dismiss` line; the headline; `By A, B and C`;
the dateline `Month D, YYYY, HH:MM GMT | Kind`; the body, one paragraph a line, whose first
paragraph (the standfirst) the export prints twice; `— Subhead —` lines; `(see here)` where a
link was lost; the editorial-contact paragraph; then `Tags` and one tag a line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from digest.errors import InputError
from digest.ingest.dates import parse_written
from digest.ingest.registry import Reader, ReadResult, Source, register
from digest.ingest.text import derived_id, split_contact, squash
from digest.models import Article, Block, Tag

# A line that means to be a dateline: starts like a date, or has a time in GMT in it.
_DATE_START = re.compile(r"^\s*[A-Za-z]+\.?\s+\d{1,2},?\s+\d{4}\b")
_GMT_TIME = re.compile(r"\d{1,2}:\d{2}\s*(?:GMT|UTC)\b", re.I)
_DATELINE = re.compile(r"^(?P<when>[^|]+?)\s*(?:\|\s*(?P<kind>[^|]*?))?\s*$")
_FILE_ID = re.compile(r"^\d+_(?P<id>[0-9a-f]{16})$", re.I)
_SUBHEAD = re.compile(r"^[—–]\s*(?P<text>\S.*?)\s*[—–]$")
_SEE_HERE = re.compile(r"\(see (?:also )?here(?: and here)*\)", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*")
_DATELINE_HINT = "Expected a dateline like 'November 3, 2026, 09:30 GMT | News'."


@register
class PageTextReader(Reader):
    name = "pagetext"
    extensions = (".txt",)

    def sniff(self, head: bytes) -> bool:
        text = head.decode("utf-8-sig", errors="replace")
        lines = text.splitlines()[:60]
        return any(_DATE_START.match(line) and _GMT_TIME.search(line) for line in lines)

    def read(self, source: Source) -> Iterator[ReadResult]:
        try:
            yield parse_pagetext(source.text(), source)
        except InputError as error:
            yield error


def parse_pagetext(text: str, source: Source) -> Article:
    lines = text.split("\n")
    where = source.name
    dateline_at = _find_dateline(lines)
    if dateline_at is None:
        raise InputError(where, "no dateline found", hint=_DATELINE_HINT)
    published_at, kind = _parse_dateline(lines[dateline_at], where, dateline_at + 1)

    # Above the dateline: [chrome ... Dismiss] headline [By ...]
    start = 0
    for index in range(dateline_at):
        if lines[index].strip().lower() == "dismiss":
            start = index + 1
    above = [squash(line) for line in lines[start:dateline_at] if line.strip()]
    authors: list[str] = []
    if above and above[-1].startswith("By "):
        authors = _authors(above.pop())
    if not above:
        raise InputError(
            where,
            "no headline above the dateline",
            line=dateline_at + 1,
            hint="The headline is the line before the byline ('By ...') and the dateline.",
        )
    title = above[-1]  # anything above it is a banner without a Dismiss line

    # Below: the body, then "Tags" and one tag a line.
    below = lines[dateline_at + 1 :]
    tags_at = next(
        (i for i in range(len(below) - 1, -1, -1) if below[i].strip() == "Tags"), len(below)
    )
    tags = _tags(below[tags_at + 1 :])
    paragraphs = [line for line in below[:tags_at] if line.strip()]

    standfirst = None
    if len(paragraphs) >= 2 and squash(paragraphs[0]) == squash(paragraphs[1]):
        standfirst = _clean(paragraphs[0])
        paragraphs = paragraphs[2:]
    body, contact = split_contact([_block(line) for line in paragraphs])
    match = _FILE_ID.match(source.filename.rsplit(".", 1)[0])
    return Article(
        id=match["id"].lower() if match else derived_id(title, published_at),
        title=title,
        published_at=published_at,
        authors=authors,
        kind=kind,
        tags=tags,
        standfirst=standfirst,
        body=[b for b in body if b.text],
        contact=contact,
        source=source.name,
    )


def _find_dateline(lines: list[str]) -> int | None:
    """The first line with a GMT time or a `| Kind`; failing that, the first starting like a date.

    The preference keeps a headline such as "March 3, 2026 deadline looms" from being taken
    for the dateline below it.
    """
    fallback = None
    for index, line in enumerate(lines):
        starts_like_date = _DATE_START.match(line)
        if _GMT_TIME.search(line) or (starts_like_date and "|" in line):
            return index
        if starts_like_date and fallback is None:
            fallback = index
    return fallback


def _parse_dateline(line: str, where: str, number: int) -> tuple[datetime, str | None]:
    match = _DATELINE.match(line.strip())
    when = match["when"] if match else line.strip()
    try:
        published_at = parse_written(when)
    except ValueError as exc:
        raise InputError(where, f"unparseable date {when!r}: {exc}", line=number,
                         hint=_DATELINE_HINT) from None
    if published_at is None:
        raise InputError(where, f"unparseable date {when!r}", line=number, hint=_DATELINE_HINT)
    kind = squash(match["kind"]) if match and match["kind"] else None
    return published_at, kind or None


def _authors(byline: str) -> list[str]:
    names = _AUTHOR_SPLIT.split(byline.removeprefix("By ").strip())
    return [name for name in (squash(n) for n in names) if name]


def _tags(lines: list[str]) -> list[Tag]:
    seen: dict[str, Tag] = {}
    for line in lines:
        name = squash(line)
        if name:
            tag = Tag.from_name(name)
            if tag.slug:
                seen.setdefault(tag.slug, tag)
    return list(seen.values())


def _block(line: str) -> Block:
    stripped = line.strip()
    if stripped[:1] in ("—", "–") and len(stripped) < 160:
        subhead = _SUBHEAD.match(stripped)
        if subhead:
            return Block("subhead", squash(subhead["text"]))
    return Block("paragraph", _clean(line))


def _clean(text: str) -> str:
    """Drop the `(see here)` markers of lost links and the space before each.

    "firms (see here), Lehane said" -> "firms, Lehane said". The marker is cut out first and
    the space trimmed after, because a pattern starting with optional spaces is tried at every
    position of every paragraph.
    """
    if "(see" in text or "(See" in text:
        pieces = _SEE_HERE.split(text)
        text = "".join(piece.rstrip() for piece in pieces[:-1]) + pieces[-1]
    return squash(text)
