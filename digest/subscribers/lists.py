"""Reading the lists: who is on them, who is suppressed, and who a send goes to."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, Engine, and_, exists, func, or_, select

from digest.archive.schema import subscribers, suppressions
from digest.subscribers.suppressions import EVERY


def whole_list_joins(conn: Connection) -> None:
    """Before a query over a whole list: on PostgreSQL, plan its anti-joins as hash joins.

    Without fresh statistics (a ledger filling up during a send, a list just loaded) the
    planner may pick nested loops that rescan one table per row of the other. Applies to the
    current transaction only.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")


def no_jit(conn: Connection) -> None:
    """On PostgreSQL, no JIT compilation for this transaction's queries.

    A page query over a big list is estimated expensive (the planner cannot see that LIMIT
    stops it early), which triggers JIT: tens of milliseconds of compiling for a query that
    runs in a few.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")


def blocked(newsletter: str) -> ColumnElement[bool]:
    """SQL: the subscriber row's address is suppressed for `newsletter` or for every list."""
    return exists().where(
        suppressions.c.email == subscribers.c.email,
        suppressions.c.newsletter.in_([newsletter, EVERY]),
    )


def receiving(newsletter: str, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL: the subscriber row is on `newsletter`'s list, active, not paused (at `now`) and
    not suppressed."""
    return and_(
        subscribers.c.newsletter == newsletter,
        subscribers.c.status == "active",
        not_paused(now),
        ~blocked(newsletter),
    )


def not_paused(now: datetime | None = None) -> ColumnElement[bool]:
    """SQL: the subscriber row is not paused at `now` (a reader's "pause until")."""
    return or_(subscribers.c.paused_until.is_(None),
               subscribers.c.paused_until <= (now or datetime.now(UTC)))


@dataclass
class Subscriber:
    newsletter: str
    email: str
    name: str
    status: str  # active | removed
    suppressed: str | None  # the reason, when a suppression keeps the address off the list

    @property
    def shown_status(self) -> str:
        if self.status == "active" and self.suppressed:
            return f"suppressed ({self.suppressed})"
        return self.status


def list_subscribers(engine: Engine, newsletter: str | None = None) -> Iterator[Subscriber]:
    """Every subscriber row (of one newsletter, or all), with the suppression that applies."""
    reason = (
        select(suppressions.c.reason)
        .where(
            suppressions.c.email == subscribers.c.email,
            suppressions.c.newsletter.in_([subscribers.c.newsletter, EVERY]),
        )
        .order_by(suppressions.c.newsletter.desc())  # the newsletter's own reason before "*"
        .limit(1)
        .scalar_subquery()
    )
    query = select(
        subscribers.c.newsletter,
        subscribers.c.email,
        subscribers.c.name,
        subscribers.c.status,
        reason.label("suppressed"),
    ).order_by(subscribers.c.newsletter, subscribers.c.email)
    if newsletter:
        query = query.where(subscribers.c.newsletter == newsletter)
    with engine.connect() as conn:
        for row in conn.execute(query):
            yield Subscriber(row.newsletter, row.email, row.name or "", row.status, row.suppressed)


@dataclass
class Counts:
    newsletter: str
    active: int = 0  # on the list (CSV) now
    suppressed: int = 0  # of those, kept off by a suppression
    removed: int = 0  # no longer in the CSV
    paused: int = 0  # of the others, paused by the reader for now

    @property
    def receiving(self) -> int:
        return self.active - self.suppressed - self.paused


def count_subscribers(engine: Engine, newsletter: str | None = None) -> list[Counts]:
    """Per newsletter: on the list, suppressed, removed, and so how many a send reaches."""
    found: dict[str, Counts] = {}
    query = select(subscribers.c.newsletter, subscribers.c.status, func.count()).group_by(
        subscribers.c.newsletter, subscribers.c.status
    )
    if newsletter:
        query = query.where(subscribers.c.newsletter == newsletter)
    with engine.connect() as conn:
        whole_list_joins(conn)
        for slug, status, n in conn.execute(query):
            counts = found.setdefault(slug, Counts(slug))
            if status == "active":
                counts.active += n
            else:
                counts.removed += n
        for slug, counts in found.items():
            counts.suppressed = suppressed_count(conn, slug)
            counts.paused = paused_count(conn, slug)
    if newsletter and newsletter not in found:
        found[newsletter] = Counts(newsletter)
    return [found[slug] for slug in sorted(found)]


def suppressed_count(conn: Connection, newsletter: str) -> int:
    """Active subscribers of `newsletter` whom a suppression keeps off the mailing."""
    query = select(func.count()).where(
        subscribers.c.newsletter == newsletter,
        subscribers.c.status == "active",
        blocked(newsletter),
    )
    return int(conn.scalar(query) or 0)


def paused_count(conn: Connection, newsletter: str) -> int:
    """Active, unsuppressed subscribers of `newsletter` who paused their mail for now."""
    query = select(func.count()).where(
        subscribers.c.newsletter == newsletter,
        subscribers.c.status == "active",
        ~not_paused(),
        ~blocked(newsletter),
    )
    return int(conn.scalar(query) or 0)


def topic_groups(engine: Engine, newsletter: str) -> dict[str | None, int]:
    """How many of `newsletter`'s readers hold each set of topics (None: no topics, the whole
    edition), as `digest build` groups them into variants. Paused readers count: their pause
    may end before the edition goes out."""
    query = (
        select(subscribers.c.topics, func.count())
        .where(subscribers.c.newsletter == newsletter, subscribers.c.status == "active",
               ~blocked(newsletter))
        .group_by(subscribers.c.topics)
    )
    with engine.connect() as conn:
        whole_list_joins(conn)
        rows = conn.execute(query).all()
    return summed(rows)


def summed(rows: Iterable[tuple[str | None, int]]) -> dict[str | None, int]:
    """(topics key, count) rows as a dict, "" and NULL both meaning no topics."""
    found: dict[str | None, int] = {}
    for key, n in rows:
        found[key or None] = found.get(key or None, 0) + int(n)
    return found
