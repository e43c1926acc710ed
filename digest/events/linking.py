"""Which delivery of the send ledger an event is about: a batch's events linked in a few queries.

Every message a send makes carries custom_args naming its edition and newsletter, which come
back on each event; with the address, that is the ledger's unique key (edition, newsletter,
email). An event without them (mail sent before they were added) is matched by its
sg_message_id instead: the X-Message-Id SendGrid answered for the batch, followed by
".filter..." parts, so each dotted prefix is tried against the ledger's provider ids.
Test sends are never linked: the ledger does not know them, though the address may be on the list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, select

from digest.archive.chunks import in_slices
from digest.archive.schema import deliveries
from digest.events.sendgrid import Event

MAX_PARTS = 8


def link(conn: Connection, events: Sequence[Event]) -> None:
    """Set delivery_id (and the edition and newsletter it belongs to) on the events found."""
    sends: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in events:
        if not event.test and event.edition and event.newsletter:
            sends[event.edition, event.newsletter].add(event.email)
    found: dict[tuple[str, str, str], int] = {}
    d = deliveries.c
    for (edition, newsletter), emails in sends.items():
        for chunk in in_slices(sorted(emails)):
            query = select(d.id, d.email).where(
                d.edition == edition, d.newsletter == newsletter, d.email.in_(chunk)
            )
            for row in conn.execute(query):
                found[edition, newsletter, row.email] = row.id
    for event in events:
        if event.edition and event.newsletter and not event.test:
            event.delivery_id = found.get((event.edition, event.newsletter, event.email))
    _link_by_message_id(conn, [e for e in events if _unnamed(e)])


def _unnamed(event: Event) -> bool:
    return not event.test and not (event.edition and event.newsletter) and bool(event.message_id)


def _link_by_message_id(conn: Connection, events: list[Event]) -> None:
    if not events:
        return
    prefixes = {p for event in events for p in _prefixes(event.message_id or "")}
    rows: dict[tuple[str, str], tuple[int, str, str]] = {}
    d = deliveries.c
    for chunk in in_slices(sorted(prefixes)):
        query = select(d.id, d.provider_id, d.email, d.edition, d.newsletter).where(
            d.provider_id.in_(chunk)
        )
        for row in conn.execute(query):
            key = (row.provider_id, row.email)
            if key not in rows or row.id > rows[key][0]:  # a resend's row wins
                rows[key] = (row.id, row.edition, row.newsletter)
    for event in events:
        for prefix in _prefixes(event.message_id or ""):
            if (prefix, event.email) in rows:
                event.delivery_id, event.edition, event.newsletter = rows[prefix, event.email]
                break


def _prefixes(message_id: str) -> list[str]:
    parts = message_id.split(".")
    return [".".join(parts[:n]) for n in range(1, min(len(parts), MAX_PARTS) + 1)]
