"""The email's HTML, parsed once and sorted into what the checks look at.

Every static check reads the same `Document`: one lxml parse and one walk over the elements per
message, whatever the number of checks. Content inside conditional comments (MJML's
`<!--[if mso | IE]>` tables for Outlook on Windows) is not part of the tree, so the checks see
what every other client sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lxml import etree

from digest.checks.findings import shorten

HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
MSO = re.compile(r"<!--\[if [^\]]*mso", re.IGNORECASE)
# lxml's plain elements: lxml.html's element classes cost a lookup per element, for nothing here.
PARSER = etree.HTMLParser()


@dataclass
class Document:
    html: str
    root: Any  # the <html> element (lxml.etree)
    body: Any
    elements: list[Any] = field(default_factory=list)  # every element in document order

    @classmethod
    def parse(cls, html: str) -> Document:
        root = etree.fromstring(html or "<html><body></body></html>", PARSER)
        if root is None:  # nothing lxml could read
            root = etree.fromstring("<html><body></body></html>", PARSER)
        body = root.find("body")
        if body is None:
            body = root
        return cls(html, root, body, list(root.iter(etree.Element)))  # no comments

    def tags(self, *names: str) -> list[Any]:
        """The elements with these tag names, in document order."""
        return list(self.root.iter(*names))

    @cached_property
    def text(self) -> str:
        """The body's text, white space collapsed (what a reader can read, hidden parts too)."""
        return " ".join("".join(self.body.itertext()).split())

    @cached_property
    def has_mso_fallback(self) -> bool:
        """True when the HTML carries Outlook-only conditional markup (MJML always does)."""
        return MSO.search(self.html) is not None

    @cached_property
    def stylesheets(self) -> list[str]:
        return [style.text or "" for style in self.root.iter("style")]

    @cached_property
    def headings(self) -> list[tuple[int, Any]]:
        return [(HEADINGS[e.tag], e) for e in self.root.iter(*HEADINGS)]


def text_of(element: Any, limit: int | None = None) -> str:
    """The element's text, a space between the texts of its children (h1 then h2 do not run
    together); with `limit`, reading stops once that many characters are found (describing a
    wrapper should not read the whole email)."""
    if limit is None:
        return " ".join(" ".join(element.itertext()).split())
    parts, size = [], 0
    for piece in element.itertext():
        parts.append(piece)
        size += len(piece)
        if size > limit * 2:
            break
    return " ".join(" ".join(parts).split())


def markup(element: Any, limit: int = 120) -> str:
    """The element's opening tag and the start of its own text, on one line (built from the
    tag and attributes: serialising a <table> whole to show its first line is slow)."""
    attributes = "".join(f' {name}="{value}"' for name, value in element.items())
    return shorten(f"<{element.tag}{attributes}>{element.text or ''}", limit)


def describe(element: Any) -> str:
    """`<a> "View in browser"`: the tag, and the text it shows or the text around it."""
    text = text_of(element, 60)
    if text:
        return f"<{element.tag}> {shorten(text, 60)!r}"
    near = _text_before(element)
    return f"<{element.tag}> near {shorten(near, 50)!r}" if near else f"<{element.tag}>"


def _text_before(element: Any) -> str:
    """The closest text before an element with none of its own (the headline above an image),
    else its container's text."""
    for level, current in enumerate(element.iterancestors()):
        if level > 3:
            return text_of(current, 50)
        child = element if level == 0 else list(element.iterancestors())[level - 1]
        for sibling in child.itersiblings(preceding=True):
            if isinstance(sibling.tag, str) and (found := text_of(sibling, 50)):
                return found
    return ""
