"""The personal placeholders (%%name%%, %%email%%, %%unsubscribe_url%%, %%manage_url%%) and their
one substitution.

An edition is rendered once; each recipient's copy is the same text with these few names filled
in. Filling is one pass over a fixed set of names: a value is copied in as it is and never read
again, so a subscriber called `%%unsubscribe_url%%` gets that name, not a link. Every part that
fills placeholders (the sender, the SendGrid backend, the preview's sample reader, the web
archive) goes through here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

NAME = "%%name%%"
EMAIL = "%%email%%"
UNSUBSCRIBE_URL = "%%unsubscribe_url%%"
MANAGE_URL = "%%manage_url%%"  # the reader's preference centre (digest/subscribers/links.py)
PERSONAL = (NAME, EMAIL, UNSUBSCRIBE_URL, MANAGE_URL)

# SendGrid fills one set of substitutions into subject, text and HTML alike, so the HTML part
# carries twins of its own that get HTML-escaped values (see send/backends/sendgrid.py).
HTML_TWINS = {
    NAME: "%%name_html%%",
    EMAIL: "%%email_html%%",
    UNSUBSCRIBE_URL: "%%unsubscribe_url_html%%",
    MANAGE_URL: "%%manage_url_html%%",
}
KNOWN = (*PERSONAL, *HTML_TWINS.values())
# The only placeholders that may stand for a whole link (`safe_url` lets nothing else through).
URLS = frozenset({UNSUBSCRIBE_URL, HTML_TWINS[UNSUBSCRIBE_URL], MANAGE_URL,
                  HTML_TWINS[MANAGE_URL]})

# Longest first, so that %%name_html%% is never read as %%name%% followed by text.
_PATTERN = re.compile("(" + "|".join(re.escape(p) for p in sorted(KNOWN, key=len, reverse=True))
                      + ")")


def fill(text: str, values: Mapping[str, str], *, escape: bool = False) -> str:
    """`text` with each known placeholder named in `values` replaced by its value, in one pass
    (HTML-escaped when `escape`). Placeholders not in `values` are left as they are."""
    if "%%" not in text:
        return text
    return Template(text).fill(values, escape=escape)


def contains_placeholder(value: str) -> bool:
    """True when `value` holds one of the known placeholders (a hostile name or address)."""
    return "%%" in value and _PATTERN.search(value) is not None


def inert(value: str) -> str:
    """`value` with any known placeholder in it broken by an invisible word joiner (U+2060)
    after its first `%`, so that no later substitution can see it: for text that comes from
    articles or subscribers and is handed to a substitution we do not run (SendGrid's), or that
    is rendered into the edition (where the sender fills placeholders afterwards). The joiner is
    a character, not markup, so it survives MJML, the CSS inliner and the text part alike."""
    if not contains_placeholder(value):
        return value
    return _PATTERN.sub(lambda m: "%\u2060" + m.group()[1:], value)


class Template:
    """A text split once at its placeholders, to be filled for many recipients.

    The sender fills the same ~100 KB page for every recipient of a send: splitting it once and
    joining the pieces per recipient is one pass by construction and cheaper than searching the
    page again for each one.
    """

    __slots__ = ("_names", "_pieces")

    def __init__(self, text: str) -> None:
        # re.split with one group alternates: literal, placeholder, literal, ..., literal.
        self._pieces = _PATTERN.split(text) if "%%" in text else [text]
        self._names = self._pieces[1::2]

    @property
    def names(self) -> frozenset[str]:
        """The placeholders this text uses."""
        return frozenset(self._names)

    @property
    def pieces(self) -> list[str]:
        """The text cut at its placeholders: literal, placeholder, literal, ..., literal."""
        return list(self._pieces)

    def fill(self, values: Mapping[str, str], *, escape: bool = False) -> str:
        if not self._names:
            return self._pieces[0]
        pieces = self._pieces.copy()
        if escape:
            values = {name: html.escape(value) for name, value in values.items()}
        pieces[1::2] = [values.get(name, name) for name in self._names]
        return "".join(pieces)
