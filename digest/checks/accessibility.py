"""Accessibility rules for email that need no browser (axe-core in Chromium does the rest):

- `lang` and `dir` on <html> and on a wrapper inside <body> (some clients drop <html>);
- role="presentation" on every layout table (data tables have <th> or <caption>);
- alt on every image (empty for a decorative one), and not a file name;
- headings in order, none skipped;
- link text that says where it goes: no "Read more" twice for different stories unless an
  aria-label tells them apart, and no link without any text.
Plus the dark-mode hint clients read: the color-scheme meta tag.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from digest.checks.document import describe, markup, text_of
from digest.checks.findings import Finding, shorten
from digest.checks.message import Message

GENERIC = {"click here", "here", "read more", "more", "link", "this", "continue", "learn more",
           "read the full story", "full story", "details", "go"}
FILE_NAME = re.compile(r"^[\w\s.-]+\.(png|jpe?g|gif|webp|svg|avif|bmp)$", re.IGNORECASE)
LAYOUT_ROLES = {"presentation", "none"}


def check_accessibility(message: Message) -> Iterator[Finding]:
    doc = message.document
    yield from _language(doc.root, doc.body)
    yield from _tables(doc.tags("table"))
    yield from _images(doc.tags("img"))
    yield from _headings(doc.headings)
    yield from _link_text(doc.tags("a"))
    yield from _color_scheme(doc.tags("meta"))


def _language(root: Any, body: Any) -> Iterator[Finding]:
    for attribute in ("lang", "dir"):
        if not (root.get(attribute) or "").strip():
            yield Finding(f"a11y.{attribute}", "warning", "<html>",
                          f"<html> has no {attribute} attribute: screen readers "
                          + ("guess the language." if attribute == "lang" else
                             "guess the text direction."),
                          f"Put {attribute}= on <mjml> in email.mjml.j2.", markup(root, 80))
    wrapper = next((e for e in body.iterdescendants() if isinstance(e.tag, str)
                    and e.get("lang") and e.get("dir")), None)
    if wrapper is None:
        yield Finding("a11y.wrapper-lang", "warning", "<body>",
                      "No element inside <body> carries both lang and dir: clients that drop "
                      "<html> (Gmail, Outlook.com) leave screen readers guessing.",
                      "Wrap the content in an element with lang and dir (MJML's <mj-body> gets "
                      "them from <mjml lang=... dir=...>).")
    elif root.get("lang") and wrapper.get("lang") != root.get("lang"):
        yield Finding("a11y.wrapper-lang", "warning", describe(wrapper),
                      f"The wrapper says lang={wrapper.get('lang')!r} but <html> says "
                      f"{root.get('lang')!r}.", "Use one language for both.", markup(wrapper))


def _tables(tables: list[Any]) -> Iterator[Finding]:
    layout = [t for t in tables
              if (t.get("role") or "").lower() not in LAYOUT_ROLES
              and t.find(".//th") is None and t.find("caption") is None]
    if layout:
        yield Finding("a11y.layout-table", "warning", describe(layout[0]),
                      f"{len(layout)} layout table(s) without role=\"presentation\": screen "
                      "readers announce their rows and columns.",
                      "Add role=\"presentation\" to layout tables (MJML does this for its own).",
                      markup(layout[0]))


def _images(images: list[Any]) -> Iterator[Finding]:
    for image in images:
        alt = image.get("alt")
        if alt is None:
            yield Finding("a11y.alt", "error", describe(image),
                          "This image has no alt attribute: screen readers read out its file "
                          "name, and clients that block images show nothing.",
                          "Describe it in alt=\"...\", or alt=\"\" if it is decorative.",
                          markup(image))
        elif FILE_NAME.match(alt.strip()):
            yield Finding("a11y.alt", "warning", describe(image),
                          f"The alt text {alt!r} is a file name, not a description.",
                          "Say what the image shows, or use alt=\"\" if it is decorative.",
                          markup(image))


def _headings(headings: list[tuple[int, Any]]) -> Iterator[Finding]:
    if not headings:
        yield Finding("a11y.headings", "warning", "HTML body", "The email has no headings: "
                      "screen-reader users cannot jump from story to story.",
                      "Use <h1> for the title and <h2>/<h3> for sections and headlines.")
        return
    previous = 0
    for level, element in headings:
        if previous and level > previous + 1:
            yield Finding("a11y.headings", "warning", describe(element),
                          f"<h{level}> follows <h{previous}>: a heading level is skipped.",
                          f"Use <h{previous + 1}> here, or add the missing level.",
                          markup(element))
        previous = level


def accessible_name(anchor: Any) -> str:
    """What a screen reader announces for a link: aria-label, else its text, else the alt
    text of its images."""
    label = (anchor.get("aria-label") or "").strip()
    if label:
        return " ".join(label.split())
    text = text_of(anchor)
    if text:
        return text
    return " ".join(filter(None, ((img.get("alt") or "").strip() for img in anchor.iter("img"))))


def _link_text(anchors: list[Any]) -> Iterator[Finding]:
    targets: dict[str, set[str]] = defaultdict(set)
    first: dict[str, Any] = {}
    for anchor in anchors:
        href = (anchor.get("href") or "").strip()
        if not href:
            continue
        name = accessible_name(anchor)
        if not name:
            yield Finding("a11y.link-text", "error", describe(anchor),
                          "This link has no text a screen reader can announce.",
                          "Give it text, an aria-label, or alt text on its image.",
                          markup(anchor))
            continue
        key = name.lower().rstrip(" →>».:")
        targets[key].add(href)
        first.setdefault(key, anchor)
    for key, hrefs in targets.items():
        if len(hrefs) > 1:
            anchor = first[key]
            yield Finding("a11y.link-text", "warning", describe(anchor),
                          f"{len(hrefs)} links say {accessible_name(anchor)!r} but go to "
                          "different places: a screen reader's list of links cannot tell them "
                          "apart.", "Add an aria-label naming the story, e.g. "
                          "aria-label=\"Read the full story: {{ item.title }}\".",
                          markup(anchor))
        elif key in GENERIC:
            anchor = first[key]
            yield Finding("a11y.link-text", "warning", describe(anchor),
                          f"The link text {accessible_name(anchor)!r} does not say where it "
                          "goes.", "Say where it goes, or add an aria-label that does.",
                          markup(anchor))


def _color_scheme(metas: list[Any]) -> Iterator[Finding]:
    schemes = " ".join((m.get("content") or "") for m in metas
                       if (m.get("name") or "").lower() == "color-scheme")
    if "dark" not in schemes.lower():
        yield Finding("dark.color-scheme", "warning", "<head>",
                      "No <meta name=\"color-scheme\" content=\"light dark\">: clients that "
                      "read it cannot tell the email has dark-mode styles, and may invert its "
                      "colours themselves.", "Keep the color-scheme meta in partials/head.mjml.j2.",
                      shorten(schemes) or "")
