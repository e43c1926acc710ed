"""What was sent: which editions of a newsletter went out, when, how, and with which stories.

A report needs two things only: the send ledger's rows (who got the edition) and the frozen
copy of what they got (digest/editions/frozen.py: its manifest names the stories and their
links; its sent_at is when the first real send began). The send runs say through which
backend it went, and so whether events will come.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from digest.archive.schema import deliveries, frozen_editions, send_runs

SENT, IN_DOUBT = "sent", "in_doubt"
MAYBE = (IN_DOUBT, "in_flight")  # in flight: with the provider now, or when a run died
WITH_EVENTS = {"sendgrid"}  # backends whose provider posts events to our webhook


@dataclass(frozen=True)
class SentNewsletter:
    edition: str
    newsletter: str
    started_at: datetime | None  # when the first real send began
    sent: int  # recipients the provider took
    in_doubt: int  # recipients whose batch's answer was lost: maybe taken, maybe not
    has_events: bool  # sent through a backend that reports events (SendGrid)
    manifest: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.manifest.get("newsletter", {}).get("title") or self.newsletter)

    @property
    def subject(self) -> str:
        return str(self.manifest.get("subject") or "")


def sent_newsletter(conn: Connection, edition: str, slug: str) -> SentNewsletter | None:
    """The send of `edition` of newsletter `slug`, or None when nobody was sent it."""
    d = deliveries.c
    this = (d.edition == edition) & (d.newsletter == slug)
    query = select(d.state, func.count()).where(this).group_by(d.state)
    states = {state: int(n) for state, n in conn.execute(query)}
    maybe = sum(states.get(state, 0) for state in MAYBE)
    if not states.get(SENT) and not maybe:
        return None
    f, r = frozen_editions.c, send_runs.c
    frozen = conn.execute(select(f.manifest, f.sent_at)
                          .where(f.edition == edition, f.newsletter == slug)).first()
    backends = set(conn.scalars(select(r.backend).distinct()
                                .where(r.edition == edition, r.newsletter == slug)))
    return SentNewsletter(
        edition, slug, _aware(frozen.sent_at) if frozen else None, states.get(SENT, 0), maybe,
        reports_events(backends),
        _parsed(frozen.manifest) if frozen else {},
    )


def sent_editions(conn: Connection, slug: str, last: int) -> list[str]:
    """The `last` editions of `slug` sent, newest first."""
    d = deliveries.c
    query = (
        select(d.edition)
        .where(d.newsletter == slug, d.state.in_((SENT, *MAYBE)))
        .group_by(d.edition)
        .order_by(func.min(d.updated_at).desc(), d.edition.desc())
        .limit(last)
    )
    return list(conn.scalars(query))


def next_send(conn: Connection, sent: SentNewsletter) -> datetime | None:
    """When the newsletter's next edition after this one began to go out, if one has."""
    if sent.started_at is None:
        return None
    f = frozen_editions.c
    later = conn.scalar(select(func.min(f.sent_at)).where(
        f.newsletter == sent.newsletter, f.edition != sent.edition, f.sent_at > sent.started_at))
    return _aware(later)


def reports_events(backends: set[str]) -> bool:
    return bool(backends & WITH_EVENTS)


def _parsed(manifest: str) -> dict[str, Any]:
    try:
        found = json.loads(manifest)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
