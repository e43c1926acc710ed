"""Storing a webhook batch: each new event once, linked to the ledger and acted on, in one go.

SendGrid delivers at least once and retries a batch until it gets a 2xx, so the same event can
arrive many times, even in two requests at the same moment. The insert skips event ids already
stored (ON CONFLICT DO NOTHING) and says which rows it added; only those are acted on. The
events, their suppressions and the soft-bounce check commit together or not at all: a crash
before the commit leaves nothing, and SendGrid's retry brings the batch again.
Rows go in event-id order, so concurrent batches sharing events lock them in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from digest.archive.schema import email_events
from digest.events.actions import act
from digest.events.linking import link
from digest.events.links import OwnLinks
from digest.events.sendgrid import Event, parse_event


@dataclass
class EventReport:
    """What became of a batch: the webhook's answer."""

    received: int = 0
    stored: int = 0  # new events
    duplicate: int = 0  # stored before (or twice in this batch)
    ignored: int = 0  # not an event we keep (unknown kind, no address, not an object)
    matched: int = 0  # new events linked to a delivery of the send ledger
    suppressed: int = 0  # new suppressions

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class Batch:
    """A webhook body's events, parsed and checked, ready to store."""

    received: int
    events: list[Event]
    ignored: int


def parse_batch(raw: Sequence[Any], links: OwnLinks) -> Batch:
    """Check and parse every event of a batch (no database work: done outside the write queue)."""
    events = [event for event in (parse_event(item, links) for item in raw) if event is not None]
    return Batch(len(raw), events, len(raw) - len(events))


def store_batch(engine: Engine, batch: Batch, soft_bounce_limit: int) -> EventReport:
    """Store the batch's new events and act on them, in one transaction."""
    report = EventReport(received=batch.received, ignored=batch.ignored)
    unique = {event.event_id: event for event in batch.events}
    report.duplicate = len(batch.events) - len(unique)
    events = [unique[key] for key in sorted(unique)]
    if not events:
        return report
    received_at = datetime.now(UTC)
    with engine.begin() as conn:
        link(conn, events)
        added = _insert_new(conn, (event.row(received_at) for event in events))
        new = [event for event in events if event.event_id in added]
        report.suppressed = act(conn, new, soft_bounce_limit)
    report.stored = len(new)
    report.duplicate += len(events) - len(new)
    report.matched = sum(event.delivery_id is not None for event in new)
    return report


def _insert_new(conn: Connection, rows: Iterable[dict[str, Any]]) -> set[str]:
    """Insert the rows whose event id is not stored yet; the ids this call inserted."""
    rows = list(rows)
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        statement = (
            module.insert(email_events)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(email_events.c.event_id)
        )
        return set(conn.execute(statement, rows).scalars())
    added = set()
    for row in rows:
        try:
            with conn.begin_nested():
                conn.execute(insert(email_events).values(row))
        except IntegrityError:
            continue
        added.add(row["event_id"])
    return added
