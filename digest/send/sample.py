"""The sample reader: whose copy the preview shows and the pre-send checks examine.

The first usable row of the newsletter's subscriber list, so what the editor sees is what a
real subscriber gets; a made-up reader when the list is empty or unreadable.
"""

from __future__ import annotations

import csv
from pathlib import Path

from digest.send.message import Recipient

FALLBACK = Recipient(email="sam.sample@example.com", name="Sam Sample")


def first_subscriber(path: Path) -> Recipient:
    """The first usable row of a subscriber list, or the made-up reader."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                email = (row.get("email") or "").strip()
                if "@" in email and not email.startswith("#"):
                    name = (row.get("name") or "").strip()
                    return Recipient(email=email, name=name)
    except (OSError, csv.Error, UnicodeDecodeError):
        pass  # no list or an unreadable one: the preview still works with the made-up reader
    return FALLBACK


def sample_reader(subscribers_dir: Path, slug: str) -> Recipient:
    return first_subscriber(subscribers_dir / f"{slug}.csv")
