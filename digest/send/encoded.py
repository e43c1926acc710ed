"""A quoted-printable body part encoded once per edition, only its personal values per recipient.

Encoding a ~70 KB page for every recipient was most of the sender's CPU time. Here the page's
literal text between placeholders is encoded once; a recipient's copy encodes just their values
and joins the pieces with soft line breaks (`=` at the end of a line, which decoders remove).
So the decoded text is exactly the filled-in page, and every encoded line keeps within the 76
characters RFC 2045 allows. The bytes differ from encoding the filled-in page whole (the soft
breaks fall elsewhere), not what any reader sees.

For SMTP the pieces also come dot-stuffed (a line's leading "." doubled, RFC 5321 4.5.2), once
per edition too: smtplib would otherwise scan every message for them.
"""

from __future__ import annotations

import binascii
import html
import re
from collections.abc import Mapping

from digest.placeholders import Template

CRLF = "\r\n"
SOFT_BREAK = b"=\r\n"
MAX_LINE = 76  # characters of an encoded line, CRLF not counted (RFC 2045)
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


class EncodedPart:
    """One MIME part (its headers and quoted-printable body) ready for any recipient."""

    def __init__(self, content_type: str, text: str, *, escape: bool = False) -> None:
        self.head = (
            f'Content-Type: {content_type}; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
        ).encode("ascii")
        # CRLF everywhere, once: what the values fill in never holds a line break.
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", CRLF)
        pieces = Template(text).pieces  # literal, name, literal, ..., literal
        self._literals = [quoted_printable(p) for p in pieces[0::2]]
        self._stuffed = [dot_stuffed(p) for p in self._literals]
        self._names = pieces[1::2]
        self._escape = escape

    def encode(self, values: Mapping[str, str], *, stuffed: bool = False) -> bytes:
        """The part for one recipient: `values` (unescaped) in place of the placeholders;
        dot-stuffed for SMTP's DATA when `stuffed`."""
        literals = self._stuffed if stuffed else self._literals
        encoded = [self.head]
        pieces = [literals[0]]
        for name, literal in zip(self._names, literals[1:], strict=True):
            value = quoted_printable(html.escape(values.get(name, name)) if self._escape
                                     else values.get(name, name))
            pieces += [dot_stuffed(value) if stuffed else value, literal]
        # Every piece starts a line (after the head, a soft break or its own line end), which
        # is what lets each be dot-stuffed on its own.
        for piece in pieces:
            if not piece:
                continue
            if len(encoded) > 1 and not encoded[-1].endswith(b"\r\n"):
                encoded.append(SOFT_BREAK)
            encoded.append(piece)
        if not encoded[-1].endswith(b"\r\n"):
            encoded.append(b"\r\n")
        return b"".join(encoded)


def quoted_printable(text: str) -> bytes:
    """`text` as quoted-printable with CRLF line ends, every line within 76 characters and the
    last within 75 (room for the soft break that may join it to the next piece)."""
    # A line end of our own at the end, removed again: b2a_qp writes its soft breaks with the
    # line ends it finds (none would mean bare LFs), and encodes whitespace before one.
    lines = binascii.b2a_qp((text + CRLF).encode("utf-8"), istext=True)[:-2].split(b"\r\n")
    last = len(lines) - 1
    folded: list[bytes] = []
    for n, line in enumerate(lines):
        folded += _fold(line, MAX_LINE - 1 if n == last else MAX_LINE)
    return b"\r\n".join(folded)


def dot_stuffed(encoded: bytes) -> bytes:
    """`encoded` (starting at the start of a line) with each line's leading "." doubled."""
    return _LEADING_DOT.sub(b"..", encoded) if b"." in encoded else encoded


def _fold(line: bytes, limit: int) -> list[bytes]:
    """`line` cut with soft breaks into lines of at most `limit` characters, never inside an
    =XX escape (b2a_qp itself lets a line run to 77 when it ends in encoded whitespace)."""
    folded = []
    while len(line) > limit:
        cut = limit - 1  # and the "=" of the soft break
        if line[cut - 1 : cut] == b"=":
            cut -= 1
        elif line[cut - 2 : cut - 1] == b"=":
            cut -= 2
        folded.append(line[:cut] + b"=")
        line = line[cut:]
    folded.append(line)
    return folded
