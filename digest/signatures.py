"""An article's near-duplicate signature: its headline's words and its opening's shingle hashes.

Made when an article is stored (the archive keeps it beside the content it was made from) and
compared by curation (digest/curate/similar.py says how). Hashes are CRC32-based, not Python's
per-process `hash()`, so the same article always has the same signature, on any machine.
"""

from __future__ import annotations

import re
import sys
import zlib
from array import array

from digest.models import Article

LEAD_WORDS = 40  # the opening is where rewrites of one story agree most
# The first byte of a stored signature: change it with `parts`, and the archive's signatures
# of the old kind are made again by the build, not misread.
VERSION = 1

_WORD = re.compile(r"[a-z0-9]+")
_TITLE_STOP = frozenset((
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "is", "it", "its", "of",
    "on", "or", "over", "the", "to", "with", "after", "says", "new", "update", "updated",
    "updates",
))

Parts = tuple[tuple[str, ...], bytes]  # a headline's words, an opening's hashes ("I" bytes)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def parts(article: Article) -> Parts:
    """The headline's words and the opening's sorted shingle hashes (array "I" bytes)."""
    title = {w for w in _words(article.title) if w not in _TITLE_STOP}
    hashes: set[int] = set()
    paragraphs = article.paragraphs
    for text in (article.standfirst or "", paragraphs[0] if paragraphs else ""):
        words = _words(text)[:LEAD_WORDS]
        shingles = [f"{a} {b} {c}".encode()
                    for a, b, c in zip(words, words[1:], words[2:], strict=False)]
        hashes.update(map(zlib.crc32, shingles))
    return tuple(title), array("I", sorted(hashes)).tobytes()


def stored(article: Article) -> bytes:
    """The signature as the archive keeps it: the version, the headline's words (sorted), a
    newline, and the opening's hashes as little-endian 32-bit integers."""
    title, lead = parts(article)
    return bytes([VERSION]) + " ".join(sorted(title)).encode() + b"\n" + _little_endian(lead)


def from_store(blob: bytes | None) -> Parts | None:
    """The parts of a stored signature; None when it is missing or of another version."""
    if not blob or blob[0] != VERSION:
        return None
    title, newline, lead = bytes(blob[1:]).partition(b"\n")  # words never hold a newline
    if not newline or len(lead) % 4:
        return None
    return tuple(title.decode().split()), _little_endian(lead)


def _little_endian(lead: bytes) -> bytes:
    """Native "I" array bytes to little-endian and back (the same swap both ways)."""
    if sys.byteorder == "little":
        return lead
    swapped = array("I", lead)
    swapped.byteswap()
    return swapped.tobytes()
