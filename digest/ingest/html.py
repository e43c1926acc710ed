"""HTML from feeds turned into the body model: paragraphs and subheads, tags stripped.

Block-level elements end a paragraph, h1-h6 become subheads, list items become paragraphs of
their own, and script/style contents are dropped. Entities are unescaped by the parser itself.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from digest.ingest.text import squash
from digest.models import Block

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = _HEADINGS | {
    "p", "div", "li", "ul", "ol", "blockquote", "section", "article", "header", "footer",
    "table", "tr", "pre", "figure", "figcaption", "dl", "dt", "dd", "hr", "aside", "main",
}
_SKIPPED = {"script", "style", "template", "noscript", "head", "title"}
_MARKUP = re.compile(r"<[a-zA-Z!/?]")


class _BlockParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._parts: list[str] = []
        self._heading = False
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _BLOCKS:
            self._flush()
            self._heading = tag in _HEADINGS
        elif tag == "br":
            self._parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._flush()
        elif tag == "br":
            self._parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self._flush()
            self._heading = False

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._parts.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = squash("".join(self._parts))
        self._parts.clear()
        if text:
            self.blocks.append(Block("subhead" if self._heading else "paragraph", text))


def html_blocks(markup: str) -> list[Block]:
    """Paragraphs and subheads of an HTML fragment; plain text is split on blank lines."""
    if not _MARKUP.search(markup):
        return text_blocks(markup)
    parser = _BlockParser()
    parser.feed(markup)
    parser.close()
    return parser.blocks


def html_text(markup: str) -> str:
    """One line of text from an HTML fragment (titles, summaries)."""
    return " ".join(block.text for block in html_blocks(markup))


def text_blocks(text: str) -> list[Block]:
    paragraphs = re.split(r"\n\s*\n", unescape(text))
    return [Block("paragraph", p) for p in (squash(p) for p in paragraphs) if p]
