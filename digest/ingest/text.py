"""Text clean-up the readers share: decoding, whitespace, ids, the editorial-contact footer."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from digest.errors import InputError
from digest.models import Block, iso

# "Please e-mail editors@... to contact the editorial staff regarding this story, ..."
_CONTACT = re.compile(r"^please\s+e-?mail\b.*\bto\s+contact\s+the\s+editorial\s+staff\b", re.I)


def untextual(value: Any) -> str | None:
    """The first NUL or lone UTF-16 surrogate among the strings in `value` (nested lists and
    mappings too), or None. JSON and YAML escapes can make either ("\\u0000", "\\ud800");
    PostgreSQL stores neither, and no mail server takes them (found by the fuzz suite: ingest
    stopped with a traceback)."""
    if isinstance(value, str):
        if "\x00" in value:
            return "\x00"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return value[exc.start]
        return None
    if isinstance(value, Mapping):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list | tuple):
        for item in value:
            if (found := untextual(item)) is not None:
                return found
    return None


def untextual_problem(value: Any) -> str | None:
    found = untextual(value)
    if found is None:
        return None
    what = "a NUL character" if found == "\x00" else "half of a UTF-16 surrogate pair"
    return f"holds \\u{ord(found):04x}, {what}, which is not text (a broken export?)"


def decode_text(data: bytes, where: str) -> str:
    """UTF-8 (BOM tolerated), falling back to Windows-1252, which older exports are saved in.

    Newlines come out as `\\n` whatever the file used. Binary data is refused: it would decode
    as cp1252 into nonsense and then fail with a misleading "no headline" message.
    """
    if b"\x00" in data[:8192]:
        raise InputError(
            where, "binary data, not a text file", hint="Give a text export of the article."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise InputError(
                where,
                f"not text: neither UTF-8 nor Windows-1252 (byte 0x{data[exc.start]:02x} "
                f"at offset {exc.start})",
                hint="Save the file as UTF-8.",
            ) from None
    text = text.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def squash(text: str) -> str:
    """Collapse runs of whitespace (non-breaking spaces included) into one space."""
    return " ".join(text.split())  # str.split() knows Unicode spaces; faster than a regex


def is_contact(paragraph: str) -> bool:
    return bool(_CONTACT.match(paragraph))


def split_contact(blocks: list[Block]) -> tuple[list[Block], str | None]:
    """Take the editorial-contact paragraph out of the body."""
    for index in range(len(blocks) - 1, -1, -1):
        block = blocks[index]
        if block.kind == "paragraph" and is_contact(block.text):
            return blocks[:index] + blocks[index + 1 :], block.text
    return blocks, None


def derived_id(title: str, published_at: datetime) -> str:
    """A stable id for an article that came without one: 16 hex digits, like the publisher's."""
    key = f"{squash(title)}\n{iso(published_at)}".encode()
    return hashlib.sha256(key).hexdigest()[:16]


def hashed_id(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()[:16]
