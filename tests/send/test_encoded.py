"""Parts encoded once, filled per recipient: what a reader decodes is exactly the filled-in text,
every line is within RFC 2045's 76 characters, and the SMTP copy only differs by dot-stuffing."""

from __future__ import annotations

import quopri
import random
import re

from digest.placeholders import EMAIL, NAME, UNSUBSCRIBE_URL, fill
from digest.send.encoded import EncodedPart

PIECES = ["a", "z", " ", "\t", ".", "=", "é", "—", "\n", "\r\n", "<b>", "&", "x" * 90,
          NAME, EMAIL, UNSUBSCRIBE_URL]


def body(part: bytes) -> bytes:
    return part.split(b"\r\n\r\n", 1)[1]


def test_random_pages_decode_to_the_filled_in_text() -> None:
    rng = random.Random(14)
    for _ in range(3000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 60)))
        values = {NAME: rng.choice(["Jo", "", "Ann " * 25, ".é", "a=b "]),
                  EMAIL: "jo@example.com",
                  UNSUBSCRIBE_URL: "https://x.example/u/" + "t" * rng.randint(0, 120)}
        escape = rng.random() < 0.5
        part = EncodedPart("text/html", text, escape=escape)
        encoded = body(part.encode(values))
        assert b"\n" not in encoded.replace(b"\r\n", b"")  # CRLF only
        assert max(map(len, encoded.split(b"\r\n"))) <= 76
        want = fill(text.replace("\r\n", "\n").replace("\n", "\r\n"), values, escape=escape)
        assert quopri.decodestring(encoded).decode() in (want, want + "\r\n")
        stuffed = body(part.encode(values, stuffed=True))
        assert re.sub(rb"(?m)^\.\.", b".", stuffed) == encoded  # SMTP's DATA undoes exactly that
        assert not re.search(rb"(?m)^\.(?!\.)", stuffed)
