"""Variants: a newsletter's edition cut to a set of topics, for the readers who chose them.

`digest build` renders one variant per distinct set of topics its readers hold, beside the full
edition (layout.py: SLUG/variants/KEY/), and lists them in the newsletter's manifest.json:

    "topics":   [{"slug": "trade", "name": "Trade"}, ...]        what the newsletter offers
    "readers":  readers at build time who chose no topics (they get the full edition)
    "variants": [{"key": "ai-policy+trade", "topics": [...], "readers": 12,
                  "status": "built", "articles": 4, "html_bytes": 30211, "warnings": []}, ...]

A variant's status says what its readers get:
    built     its own email
    same      the full edition (the cut picked exactly the full edition's stories)
    fallback  the full edition (no story on those topics this week; DIGEST_VARIANT_QUIET=full)
    skipped   nothing this week (no story on those topics; DIGEST_VARIANT_QUIET=skip)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest.editions.layout import VARIANTS

KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*(?:\+[a-z0-9]+(?:-[a-z0-9]+)*)*")
MAX_KEY = 1000  # the subscribers.topics column's width
OWN, FULL, NOTHING = "variant", "full", "nothing"
GETS = {"built": OWN, "same": FULL, "fallback": FULL, "skipped": NOTHING}


def is_variant_key(text: str) -> bool:
    return len(text) <= MAX_KEY and KEY.fullmatch(text) is not None


def variant_folder(newsletter_folder: Path, key: str) -> Path:
    return newsletter_folder / VARIANTS / key


@dataclass(frozen=True)
class Variant:
    """One entry of a newsletter manifest's "variants"."""

    key: str
    topics: tuple[str, ...]
    names: tuple[str, ...]
    readers: int
    status: str  # built | same | fallback | skipped
    articles: int = 0
    html_bytes: int = 0
    warnings: tuple[str, ...] = field(default=())

    @property
    def gets(self) -> str:
        """What its readers get: "variant" (its own email), "full" or "nothing"."""
        return GETS.get(self.status, FULL)

    @property
    def label(self) -> str:
        return ", ".join(self.names or self.topics)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "topics": [{"slug": s, "name": n}
                                            for s, n in zip(self.topics, self.names, strict=True)],
                "readers": self.readers, "status": self.status, "articles": self.articles,
                "html_bytes": self.html_bytes, "warnings": list(self.warnings)}


def variants_of(manifest: dict[str, Any]) -> list[Variant]:
    """The variants a newsletter manifest lists (none for a newsletter without topics);
    entries that do not read as one are skipped, never guessed at."""
    found = []
    for item in manifest.get("variants") or []:
        if not isinstance(item, dict) or not is_variant_key(str(item.get("key") or "")):
            continue
        topics = [t for t in item.get("topics") or [] if isinstance(t, dict)]
        found.append(Variant(
            key=item["key"], topics=tuple(str(t.get("slug")) for t in topics),
            names=tuple(str(t.get("name") or t.get("slug")) for t in topics),
            readers=_int(item.get("readers")), status=str(item.get("status") or "built"),
            articles=_int(item.get("articles")), html_bytes=_int(item.get("html_bytes")),
            warnings=tuple(str(w) for w in item.get("warnings") or [])))
    return found


def offered_topics(manifest: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(t.get("slug")) for t in manifest.get("topics") or [] if isinstance(t, dict))


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0
