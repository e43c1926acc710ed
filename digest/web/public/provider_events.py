"""Applying SendGrid's events: those that mean "stop mailing" become suppressions, once each.

An event is applied once by its sg_event_id (SendGrid retries a batch until it gets a 2xx, so
the same event can arrive many times). The suppression is written before the event is
recorded: if the process dies in between, the retry applies it again, which is harmless because
suppressing is idempotent. Recording first would lose the event instead.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, func, select

from digest.archive.schema import deliveries, provider_events
from digest.archive.upsert import insert_ignore
from digest.subscribers import lenient_email, suppress

# event -> suppression reason
SUPPRESSING = {
    "bounce": "bounced",
    "dropped": "dropped",
    "spamreport": "complained",
    "unsubscribe": "unsubscribed",
    "group_unsubscribe": "unsubscribed",
}
ADDRESS_WIDE = {"bounce", "dropped", "spamreport"}  # about the address, not one newsletter
ALL_NEWSLETTERS = "*"
SOURCE = "webhook"
_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MAX_ID = 200  # column width of event and message ids

Outcome = Literal["applied", "duplicate", "ignored"]


@dataclass
class EventReport:
    received: int = 0
    applied: int = 0
    duplicate: int = 0
    ignored: int = 0
    matched: int = 0  # applied events found in the send ledger

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def apply_events(engine: Engine, events: list[Any]) -> EventReport:
    """Apply one webhook batch; other event kinds (delivered, open, ...) are ignored."""
    report = EventReport(received=len(events))
    for event in events:
        outcome, matched = apply_event(engine, event)
        setattr(report, outcome, getattr(report, outcome) + 1)
        report.matched += matched
    return report


def apply_event(engine: Engine, event: Any) -> tuple[Outcome, bool]:
    """(outcome, whether it matched a delivery in the ledger)."""
    if not isinstance(event, dict):
        return "ignored", False
    kind, email = event.get("event"), event.get("email")
    if kind not in SUPPRESSING or not isinstance(email, str) or not email.strip():
        return "ignored", False
    if kind == "bounce" and event.get("type") == "blocked":
        return "ignored", False  # a block is temporary; SendGrid retries it, so do we
    email = lenient_email(email)
    event_id = _text(event.get("sg_event_id"))
    message_id = _text(event.get("sg_message_id"))
    with engine.connect() as conn:
        if event_id and _seen(conn, event_id):
            return "duplicate", False
        delivery_id = _ledger_match(conn, message_id, email)
    newsletter = ALL_NEWSLETTERS if kind in ADDRESS_WIDE else _newsletter_of(event)
    suppress(engine, email, newsletter, SUPPRESSING[kind], SOURCE)
    if event_id:
        row = {
            "event_id": event_id,
            "event": kind,
            "email": email[:320],
            "message_id": message_id,
            "delivery_id": delivery_id,
            "received_at": datetime.now(UTC),
        }
        with engine.begin() as conn:
            insert_ignore(conn, provider_events, row)
    return "applied", delivery_id is not None


def _seen(conn: Connection, event_id: str) -> bool:
    query = select(provider_events.c.event_id).where(provider_events.c.event_id == event_id)
    return conn.execute(query).first() is not None


def _ledger_match(conn: Connection, message_id: str | None, email: str) -> int | None:
    """The delivery this event is about. sg_message_id is the X-Message-Id SendGrid returned
    for the batch, followed by ".filter..." parts; so try each dotted prefix (indexed lookups,
    no LIKE) and pick the recipient's row."""
    if not message_id:
        return None
    parts = message_id.split(".")
    prefixes = [".".join(parts[:n]) for n in range(1, min(len(parts), 8) + 1)]
    query = (
        select(deliveries.c.id)
        .where(deliveries.c.provider_id.in_(prefixes))
        .where(func.lower(deliveries.c.email) == email)
        .order_by(deliveries.c.id.desc())
        .limit(1)
    )
    return conn.execute(query).scalar()


def _newsletter_of(event: dict[str, Any]) -> str:
    """The newsletter a send tagged the message with (custom_args arrive as top-level fields;
    a nested custom_args object is accepted too), else every newsletter."""
    nested = event.get("custom_args")
    candidates = [event.get("newsletter")]
    if isinstance(nested, dict):
        candidates.append(nested.get("newsletter"))
    for value in candidates:
        if isinstance(value, str) and _SLUG_RE.fullmatch(value):
            return value
    return ALL_NEWSLETTERS


def _text(value: Any) -> str | None:
    return value[:_MAX_ID] if isinstance(value, str) and value else None
