"""Double opt-in: a sign-up waits, pending, until the link mailed to the address is followed.

    request_signup(...)   a pending sign-up (one per newsletter and address; asking again
                          refreshes it and keeps its earlier links working)
    confirm_signup(...)   the reader pressed the button on the confirmation page: on the list
    purge_pending(...)    sign-ups never confirmed, deleted after DIGEST_PENDING_DAYS

A pending sign-up is not a subscriber: nothing is mailed to it but its confirmation, and nothing
about it outlives the purge. Confirming lifts what stopped the address for that newsletter (an
unsubscribe, an erasure): the person has just proven the address and asked again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select, update

from digest.archive.schema import signups
from digest.subscribers.erasure import forget_erasure
from digest.subscribers.history import aware
from digest.subscribers.links import new_nonce
from digest.subscribers.preferences import KEEP, join, person

SOURCE = "form"


@dataclass(frozen=True)
class Pending:
    newsletter: str
    email: str
    name: str
    topics: str | None
    nonce: str
    created_at: datetime
    already: bool = False  # the address already receives the newsletter


def request_signup(engine: Engine, newsletter: str, email: str, name: str,
                   topics: str | None) -> Pending:
    """Record (or refresh) the pending sign-up of `email` for `newsletter`."""
    now = datetime.now(UTC)
    p = signups.c
    with engine.begin() as conn:
        found = conn.execute(select(p.id, p.nonce).where(p.newsletter == newsletter,
                                                         p.email == email)).first()
        if found is None:
            nonce = new_nonce()
            conn.execute(signups.insert().values(newsletter=newsletter, email=email, name=name,
                                                 topics=topics, nonce=nonce, created_at=now))
        else:
            nonce = found.nonce
            conn.execute(update(signups).where(p.id == found.id).values(
                name=name, topics=topics, created_at=now))
        already = person(conn, email).receiving(newsletter)
    return Pending(newsletter, email, name, topics, nonce, now, already)


def pending_signup(engine: Engine, nonce: str) -> Pending | None:
    with engine.connect() as conn:
        row = conn.execute(select(signups).where(signups.c.nonce == nonce)).first()
    if row is None:
        return None
    return Pending(row.newsletter, row.email, row.name or "", row.topics, row.nonce,
                   row.created_at)


def confirm_signup(engine: Engine, key: Any, nonce: str, newsletters: Iterable[str],
                   offers_topics: bool) -> Pending | None:
    """Put the pending sign-up on its list (None when it is gone: confirmed or purged).

    `newsletters` are all the publisher's newsletters; `offers_topics` whether this one lets
    readers choose (then the sign-up's topics, none ticked meaning everything, are theirs)."""
    with engine.begin() as conn:
        row = conn.execute(select(signups).where(signups.c.nonce == nonce)).first()
        if row is None:
            return None
        forget_erasure(conn, key, row.email)
        requested = aware(row.created_at)
        join(conn, row.email, row.newsletter, SOURCE, newsletters, name=row.name or None,
             topics=row.topics if offers_topics else KEEP,
             why=f"confirmed the sign-up of {requested:%Y-%m-%d %H:%M} UTC")
        conn.execute(delete(signups).where(signups.c.id == row.id))
    return Pending(row.newsletter, row.email, row.name or "", row.topics, row.nonce, requested)


def purge_pending(engine: Engine, days: int, now: datetime | None = None) -> int:
    """Delete sign-ups left unconfirmed for more than `days` days; returns how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    with engine.begin() as conn:
        return conn.execute(delete(signups).where(signups.c.created_at < cutoff)).rowcount
