"""Suppressions: who must not be mailed, whatever the CSV says.

One row per (newsletter, address); newsletter "*" covers every list (a hard bounce or a spam
complaint is about the address, not one newsletter). Only an explicit resubscribe lifts one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, select

from digest.archive.schema import suppressions
from digest.archive.upsert import insert_ignore
from digest.subscribers.addresses import lenient_email

EVERY = "*"
"""The newsletter name of a suppression that covers every list."""


def suppress(engine: Engine, email: str, newsletter: str, reason: str, source: str) -> bool:
    """Stop mailing `email` for `newsletter` ("*": every newsletter). Safe to call again.

    Returns True when the suppression is new, False when it was already there (the first
    reason and source are kept). Used by the one-click endpoint, the provider webhook and the CLI.
    """
    with engine.begin() as conn:
        return add_suppressions(conn, [(newsletter, email, reason)], source) == 1


def add_suppressions(conn: Connection, wanted: Iterable[tuple[str, str, str]], source: str) -> int:
    """Suppress each (newsletter, email, reason) in the caller's transaction, keeping the ones
    already there; returns how many are new. Rows go in key order, so two transactions
    suppressing the same addresses take their locks in the same order (no deadlock)."""
    now = datetime.now(UTC)
    rows: dict[tuple[str, str], str] = {}
    for newsletter, email, reason in wanted:
        rows.setdefault((newsletter or EVERY, lenient_email(email)), reason)
    added = 0
    for (newsletter, email), reason in sorted(rows.items()):
        row = {"newsletter": newsletter, "email": email, "reason": reason, "source": source,
               "created_at": now}
        # ON CONFLICT DO NOTHING: two webhook deliveries of the same event may race.
        added += insert_ignore(conn, suppressions, row)
    return added


def unsubscribe(
    engine: Engine, email: str, newsletter: str | None = None, source: str = "cli"
) -> bool:
    """An unsubscribe typed by an editor: one newsletter, or all of them when none is named."""
    return suppress(engine, email, newsletter or EVERY, "unsubscribed", source)


@dataclass
class Resubscribed:
    email: str
    newsletter: str
    lifted: str | None = None  # reason of the suppression lifted, None when there was none
    still: list[tuple[str, str]] = field(
        default_factory=list
    )  # (newsletter, reason) still blocking


def resubscribe(engine: Engine, email: str, newsletter: str) -> Resubscribed:
    """Lift the suppression of `email` for `newsletter` (on purpose: nothing else lifts one).

    A suppression for every newsletter ("*", e.g. a bounce) is only lifted when "*" is named;
    the result says whether one still blocks the address.
    """
    address = lenient_email(email)
    result = Resubscribed(email=address, newsletter=newsletter)
    key = (suppressions.c.email == address) & (suppressions.c.newsletter == newsletter)
    with engine.begin() as conn:
        result.lifted = conn.scalar(select(suppressions.c.reason).where(key))
        if result.lifted is not None:
            conn.execute(delete(suppressions).where(key))
        others = conn.execute(
            select(suppressions.c.newsletter, suppressions.c.reason).where(
                suppressions.c.email == address,
                suppressions.c.newsletter.in_([newsletter, EVERY]),
            )
        )
        result.still = [(row.newsletter, row.reason) for row in others]
    return result


@dataclass
class Suppression:
    newsletter: str
    email: str
    reason: str
    source: str
    created_at: datetime


def suppressions_of(engine: Engine, email: str) -> list[Suppression]:
    """Every suppression of one address."""
    query = select(suppressions).where(suppressions.c.email == lenient_email(email))
    with engine.connect() as conn:
        return [
            Suppression(r.newsletter, r.email, r.reason, r.source, r.created_at)
            for r in conn.execute(query.order_by(suppressions.c.newsletter))
        ]
