"""What was sent: which editions of a newsletter went out, when, how, and with which stories.

A report needs two things only: the send ledger's rows (who got the edition) and the manifest
of what they got (the stories and their links).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from digest.archive.schema import deliveries
from digest.editions.layout import MANIFEST, newsletter_folder
from digest.editions.read import read_json

SENT = "sent"


@dataclass(frozen=True)
class SentNewsletter:
    edition: str
    newsletter: str
    started_at: datetime | None  # when the first batch went
    sent: int  # recipients the provider took
    has_events: bool  # sent through a backend that reports events (SendGrid)
    manifest: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.manifest.get("newsletter", {}).get("title") or self.newsletter)

    @property
    def subject(self) -> str:
        return str(self.manifest.get("subject") or "")

    @property
    def label(self) -> str:
        return str(self.manifest.get("edition", {}).get("label") or self.edition)


def sent_newsletter(conn: Connection, out_dir: Path, edition: str,
                    slug: str) -> SentNewsletter | None:
    """The send of `edition` of newsletter `slug`, or None when nobody was sent it."""
    d = deliveries.c
    this = (d.edition == edition) & (d.newsletter == slug) & (d.state == SENT)
    sent, started = conn.execute(select(func.count(), func.min(d.updated_at)).where(this)).one()
    if not sent:
        return None
    provider_id = conn.scalar(select(d.provider_id).where(this, d.provider_id.is_not(None))
                              .limit(1))
    return SentNewsletter(edition, slug, _aware(started), int(sent),
                          reports_events(provider_id), _manifest(out_dir, edition, slug))


def sent_editions(conn: Connection, slug: str, last: int) -> list[str]:
    """The `last` editions of `slug` sent, newest first."""
    d = deliveries.c
    query = (
        select(d.edition)
        .where(d.newsletter == slug, d.state == SENT)
        .group_by(d.edition)
        .order_by(func.min(d.updated_at).desc(), d.edition.desc())
        .limit(last)
    )
    return list(conn.scalars(query))


def next_send(conn: Connection, sent: SentNewsletter) -> datetime | None:
    """When the newsletter's next edition after this one began to go out, if one has."""
    if sent.started_at is None:
        return None
    d = deliveries.c
    starts = (
        select(func.min(d.updated_at).label("started"))
        .where(d.newsletter == sent.newsletter, d.state == SENT, d.edition != sent.edition)
        .group_by(d.edition)
        .subquery()
    )
    later = conn.scalar(select(func.min(starts.c.started)).where(starts.c.started
                                                                 > sent.started_at))
    return _aware(later)


def reports_events(provider_id: str | None) -> bool:
    # SMTP and the outbox keep the Message-ID they wrote ("<...@domain>"); SendGrid gives its
    # X-Message-Id, which its events refer to.
    return bool(provider_id) and not str(provider_id).startswith("<")


def _manifest(out_dir: Path, edition: str, slug: str) -> dict[str, Any]:
    found = read_json(newsletter_folder(out_dir, edition, slug) / MANIFEST)
    return found if isinstance(found, dict) else {}


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
