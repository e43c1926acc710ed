"""Suppressions: who must not be mailed, whatever the CSV says.

One row per (newsletter, address); newsletter "*" covers every list (a hard bounce or a spam
complaint is about the address, not one newsletter). Only an explicit resubscribe lifts one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select

from digest.archive.schema import suppressions
from digest.archive.upsert import insert_ignore
from digest.subscribers.addresses import lenient_email
from digest.subscribers.history import entry, record

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
        if insert_ignore(conn, suppressions, row):
            added += 1
            _recorded(conn, row)
    return added


def _recorded(conn: Connection, row: dict[str, Any]) -> None:
    record(conn, [entry(row["email"], "unsubscribed" if row["reason"] == "unsubscribed"
                        else "suppressed", row["source"], newsletter=row["newsletter"],
                        detail=row["reason"], at=row["created_at"])])


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


def resubscribe(engine: Engine, email: str, newsletter: str, source: str = "cli") -> Resubscribed:
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
            record(conn, [entry(address, "resubscribed", source, newsletter=newsletter,
                                detail=f"lifted: {result.lifted}")])
        others = conn.execute(
            select(suppressions.c.newsletter, suppressions.c.reason).where(
                suppressions.c.email == address,
                suppressions.c.newsletter.in_([newsletter, EVERY]),
            )
        )
        result.still = [(row.newsletter, row.reason) for row in others]
    return result


def lift_for(conn: Connection, email: str, newsletter: str, others: Iterable[str],
             source: str) -> list[str]:
    """A reader asked for `newsletter` again, through a proven address (a confirmed sign-up, the
    manage page): lift its suppression, and narrow one for every newsletter ("*") to the
    `others`, so only the newsletter asked for comes back. Returns the reasons lifted."""
    s = suppressions.c
    rows = conn.execute(select(s.id, s.newsletter, s.reason, s.source, s.created_at).where(
        s.email == email, s.newsletter.in_([newsletter, EVERY]))).all()
    if not rows:
        return []
    conn.execute(delete(suppressions).where(s.id.in_([r.id for r in rows])))
    for row in rows:
        if row.newsletter != EVERY:
            continue
        have = set(conn.scalars(select(s.newsletter).where(s.email == email)))
        narrowed = [{"newsletter": other, "email": email, "reason": row.reason,
                     "source": row.source, "created_at": row.created_at}
                    for other in sorted(set(others) - {newsletter, EVERY} - have)]
        if narrowed:
            conn.execute(suppressions.insert(), narrowed)
    reasons = [r.reason for r in rows]
    record(conn, [entry(email, "resubscribed", source, newsletter=newsletter,
                        detail="lifted: " + ", ".join(sorted(set(reasons))))])
    return reasons


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
