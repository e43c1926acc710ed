"""Each address's history: what changed, when, and through what (form, manage, csv, webhook, cli).

Written in the same transaction as the change itself, so the history never claims a change that
did not happen, nor misses one that did. `digest subscribers show ADDRESS` prints it, and the
data download includes it; erasure deletes it with everything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from digest.archive.schema import subscriber_history


@dataclass(frozen=True)
class Change:
    at: datetime
    newsletter: str | None  # "*": every newsletter; None: about the person
    change: str  # subscribed | confirmed | unsubscribed | resubscribed | topics | paused | ...
    detail: str
    source: str  # form | manage | csv | webhook | cli | one-click | unsubscribe-page

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "newsletter": self.newsletter, "change": self.change,
                "detail": self.detail, "source": self.source}


def entry(email: str, change: str, source: str, *, newsletter: str | None = None,
          detail: str = "", at: datetime | None = None) -> dict[str, Any]:
    """One history row, to be written with `record`."""
    return {"email": email, "newsletter": newsletter, "change": change, "detail": detail or None,
            "source": source, "at": at or datetime.now(UTC)}


def record(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Write history rows (made by `entry`) in the caller's transaction."""
    if rows:
        conn.execute(subscriber_history.insert(), list(rows))


def history_of(engine: Engine, email: str) -> list[Change]:
    """Everything recorded about `email`, oldest first."""
    h = subscriber_history.c
    query = select(h.at, h.newsletter, h.change, h.detail, h.source).where(h.email == email)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(h.id)).all()
    return [Change(aware(r.at), r.newsletter, r.change, r.detail or "", r.source) for r in rows]


def aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
