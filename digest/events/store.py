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
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine

from digest.archive.schema import email_events
from digest.archive.upsert import insert_ignore
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


COLUMNS = tuple(email_events.c.keys())  # event_id first
TIMES = {n for n, name in enumerate(COLUMNS) if name in ("occurred_at", "received_at")}
SQLITE_ROWS = 500  # per statement: 7,000 parameters, well under SQLite's limit of 32,766


def _insert_new(conn: Connection, rows: Iterable[dict[str, Any]]) -> set[str]:
    """Insert the rows whose event id is not stored yet; the ids this call inserted.

    A webhook batch writes a thousand rows: they go as the driver's own SQL, since SQLAlchemy's
    per-row parameter processing would take longer than the database does (as the send
    ledger's insert does).
    """
    values = [tuple(row[name] for name in COLUMNS) for row in rows]
    if conn.dialect.name == "sqlite":
        return _insert_sqlite(conn, values)
    if conn.dialect.name == "postgresql":
        return _insert_pipelined(conn, values)
    return {row[0] for row in values  # any other database: one row at a time
            if insert_ignore(conn, email_events, dict(zip(COLUMNS, row, strict=True)))}


def _insert_sqlite(conn: Connection, rows: list[tuple[Any, ...]]) -> set[str]:
    """Multi-row INSERT ... RETURNING: sqlite3's executemany returns no rows."""
    stamp = email_events.c.received_at.type.dialect_impl(conn.dialect).bind_processor(
        conn.dialect) or (lambda value: value)  # a datetime as SQLAlchemy stores it in SQLite
    stamps: dict[Any, Any] = {}  # every row has the same received_at: converted once
    added: set[str] = set()
    for start in range(0, len(rows), SQLITE_ROWS):
        chunk = rows[start:start + SQLITE_ROWS]
        params: list[Any] = []
        for row in chunk:
            for n, value in enumerate(row):
                if n in TIMES:
                    if value not in stamps:
                        stamps[value] = stamp(value)
                    value = stamps[value]
                params.append(value)
        found = conn.exec_driver_sql(_values_sql(len(chunk)), tuple(params))
        added.update(row[0] for row in found)
    return added


@lru_cache(maxsize=8)
def _values_sql(rows: int) -> str:
    one = "(" + ", ".join(["?"] * len(COLUMNS)) + ")"
    return (f"INSERT INTO {email_events.name} ({', '.join(COLUMNS)}) VALUES "
            f"{', '.join([one] * rows)} ON CONFLICT (event_id) DO NOTHING RETURNING event_id")


def _insert_pipelined(conn: Connection, rows: list[tuple[Any, ...]]) -> set[str]:
    """psycopg's executemany in pipeline mode: one round trip for the batch, and per row a
    small statement prepared once (a 7,000-parameter VALUES list took twice as long to plan)."""
    sql = (f"INSERT INTO {email_events.name} ({', '.join(COLUMNS)}) VALUES "
           f"({', '.join(['%s'] * len(COLUMNS))}) ON CONFLICT (event_id) DO NOTHING "
           "RETURNING event_id")
    added: set[str] = set()
    with conn.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.executemany(sql, rows, returning=True)
        while True:
            added.update(found[0] for found in cursor.fetchall())
            if not cursor.nextset():
                break
    return added
