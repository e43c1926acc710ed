"""The article model every stage shares: readers produce it, the archive stores it."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

BlockKind = Literal["paragraph", "subhead"]


def slugify(text: str) -> str:
    """`AI Policy` -> `ai-policy`; the normal form tags are matched by."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


@dataclass(frozen=True, slots=True)
class Tag:
    slug: str
    name: str
    inferred: bool = False

    @classmethod
    def from_name(cls, name: str, *, inferred: bool = False) -> Tag:
        return cls(slug=slugify(name), name=name.strip(), inferred=inferred)


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    text: str


@dataclass(slots=True)
class Article:
    id: str
    title: str
    published_at: datetime
    url: str | None = None
    authors: list[str] = field(default_factory=list)
    updated_at: datetime | None = None
    kind: str | None = None
    tags: list[Tag] = field(default_factory=list)
    standfirst: str | None = None
    body: Sequence[Block] = field(default_factory=list)  # a list, or the archive's StoredBody
    contact: str | None = None
    source: str = ""

    @property
    def paragraphs(self) -> list[str]:
        return [b.text for b in self.body if b.kind == "paragraph"]

    @property
    def revised_at(self) -> datetime:
        """When this version was last changed: decides which of two versions is newer."""
        return self.updated_at or self.published_at

    def to_dict(self) -> dict[str, Any]:
        """The model's fields as JSON-ready values, dates in ISO 8601 UTC.

        Spelled out rather than dataclasses.asdict, which deep-copies every string: at ingest
        rates that was a quarter of the run. A test checks every field is here.
        """
        return {
            "id": self.id,
            "title": self.title,
            "published_at": iso(self.published_at),
            "url": self.url,
            "authors": list(self.authors),
            "updated_at": iso(self.updated_at) if self.updated_at else None,
            "kind": self.kind,
            "tags": [{"slug": t.slug, "name": t.name, "inferred": t.inferred} for t in self.tags],
            "standfirst": self.standfirst,
            "body": [{"kind": b.kind, "text": b.text} for b in self.body],
            "contact": self.contact,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        """Inverse of `to_dict` (for trusted data such as the archive's own rows)."""
        return cls(
            id=data["id"],
            title=data["title"],
            published_at=parse_iso(data["published_at"]),
            url=data.get("url"),
            authors=list(data.get("authors") or []),
            updated_at=parse_iso(data["updated_at"]) if data.get("updated_at") else None,
            kind=data.get("kind"),
            tags=[Tag(**t) for t in data.get("tags") or []],
            standfirst=data.get("standfirst"),
            body=[Block(**b) for b in data.get("body") or []],
            contact=data.get("contact"),
            source=data.get("source") or "",
        )

    def content_hash(self) -> str:
        """Fingerprint of what a reader sees; `source` is left out so a moved file is unchanged."""
        data = self.to_dict()
        data.pop("source")
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
