"""Markdown with YAML front matter: the fields on top, the body below.

    ---
    title: EU fines a chipmaker
    date: 2026-11-03T09:30:00Z
    authors: [Ana Ruiz, Tom Berg]
    tags: [Antitrust, EU]
    kind: News
    ---
    First paragraph, which may wrap
    over several lines.

    ## A subhead

Front-matter keys are the model's field names (see records.py); `## ` headings (any level)
become subheads; inline emphasis, code marks and link targets are dropped, keeping the words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from digest.errors import InputError
from digest.ingest.records import article_from_record
from digest.ingest.registry import Reader, ReadResult, Source, register
from digest.ingest.text import squash
from digest.models import Article, Block

try:  # libyaml's loader is several times faster; the pure-Python one gives the same result
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

_FENCE = re.compile(r"^(?:---|\.\.\.)\s*$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.*?)(?:\s+#+)?\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_RULE = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
# (character that must be present, pattern, replacement): most paragraphs have no markup at
# all, and testing for one character is far cheaper than running the pattern.
_INLINE = [
    ("!", re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    ("[", re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links keep their words
    ("[", re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference links
    ("`", re.compile(r"`([^`]+)`"), r"\1"),
    ("*", re.compile(r"(\*\*)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    ("_", re.compile(r"(__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    ("*", re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    ("_", re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),
    ("<", re.compile(r"</?[a-zA-Z][^>]*>"), ""),  # inline HTML tags
]
_HINT = "A Markdown article starts with YAML front matter between two '---' lines."


@register
class MarkdownReader(Reader):
    name = "markdown"
    extensions = (".md", ".markdown", ".mdown")

    def sniff(self, head: bytes) -> bool:
        return head.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n").startswith(b"---")

    def read(self, source: Source) -> Iterator[ReadResult]:
        try:
            yield parse_markdown(source.text(), source)
        except InputError as error:
            yield error


def parse_markdown(text: str, source: Source) -> Article:
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise InputError(source.name, "the file is empty", hint=_HINT)
    if lines[first].strip() != "---":
        raise InputError(source.name, "no YAML front matter", line=first + 1, hint=_HINT)
    end = next((i for i in range(first + 1, len(lines)) if _FENCE.match(lines[i])), None)
    if end is None:
        raise InputError(
            source.name, "the front matter is not closed", line=first + 1,
            hint="End the front matter with a line holding only '---'.",
        )
    try:
        fields = yaml.load("\n".join(lines[first + 1 : end]), Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first + 2 + mark.line if mark is not None else first + 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(
            source.name, f"invalid YAML front matter: {problem}", line=line,
            hint="Check the indentation and quote values that contain ': '.",
        ) from None
    return article_from_record(fields, source.name, body=markdown_blocks(lines[end + 1 :]))


def markdown_blocks(lines: list[str]) -> list[Block]:
    """Paragraphs (blank-line separated, wrapped lines joined) and headings as subheads."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            text = _inline(" ".join(paragraph))
            if text:
                blocks.append(Block("paragraph", text))
            paragraph.clear()

    for line in lines:
        heading = _HEADING.match(line)
        if heading:
            flush()
            text = _inline(heading["text"])
            if text:
                blocks.append(Block("subhead", text))
        elif not line.strip() or _RULE.match(line):
            flush()
        else:
            if _LIST_ITEM.match(line):
                flush()
                line = _LIST_ITEM.sub("", line, count=1)
            paragraph.append(line.strip().removeprefix("> ").removeprefix(">"))
    flush()
    return blocks


def _inline(text: str) -> str:
    for trigger, pattern, replacement in _INLINE:
        if trigger in text:
            text = pattern.sub(replacement, text)
    return squash(text)
