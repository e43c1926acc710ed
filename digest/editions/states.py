"""An edition's state per newsletter, in the database: draft -> sending -> sent.

    draft    built (and rebuilt freely); nothing of it has gone to a reader
    sending  the first real send has begun: the copy readers get is frozen (frozen.py)
    sent     a send went through the whole list; later runs only pick up who is left

A build records its newsletters as drafts; the first real send freezes the copy and moves it to
sending; the end of that send's pass moves it to sent. Nothing ever moves back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, and_, select, update

from digest.archive.schema import edition_states, frozen_editions
from digest.archive.upsert import insert_ignore

DRAFT, SENDING, SENT = "draft", "sending", "sent"
FROZEN = (SENDING, SENT)


@dataclass(frozen=True)
class EditionState:
    edition: str
    newsletter: str
    state: str
    revision_of: str | None
    content_hash: str | None
    built_at: datetime | None
    # From the frozen copy, once there is one:
    subject: str = ""
    sent_at: datetime | None = None
    finished_at: datetime | None = None
    recipients: int = 0

    @property
    def frozen(self) -> bool:
        return self.state in FROZEN


def states_of(engine: Engine | Connection, edition: str) -> dict[str, EditionState]:
    """Every newsletter of `edition` the database knows, by slug."""
    return {s.newsletter: s for s in _read(engine, edition_states.c.edition == edition)}


def state_of(engine: Engine | Connection, edition: str, newsletter: str) -> EditionState | None:
    found = _read(engine, and_(edition_states.c.edition == edition,
                               edition_states.c.newsletter == newsletter))
    return found[0] if found else None


def revisions_of(engine: Engine, base: str) -> dict[str, dict[str, EditionState]]:
    """The states of `base` and of its revisions ("2026-W47-r2", ...), by edition id."""
    found: dict[str, dict[str, EditionState]] = {}
    where = (edition_states.c.edition == base) | (edition_states.c.revision_of == base)
    for state in _read(engine, where):
        found.setdefault(state.edition, {})[state.newsletter] = state
    return found


def record_drafts(conn: Connection, edition: str, hashes: dict[str, str],
                  revision_of: str | None, built_at: datetime) -> None:
    """The newsletters just built are drafts (a frozen one is never touched: the build
    refused those before it wrote anything)."""
    now = datetime.now(UTC)
    for slug, content_hash in hashes.items():
        values = {"content_hash": content_hash, "built_at": built_at, "updated_at": now,
                  "revision_of": revision_of}
        key = and_(edition_states.c.edition == edition, edition_states.c.newsletter == slug)
        changed = conn.execute(
            update(edition_states).where(key, edition_states.c.state == DRAFT).values(values)
        ).rowcount
        if changed == 0:  # a new one (or a frozen one, which the insert leaves alone)
            insert_ignore(conn, edition_states,
                          {"edition": edition, "newsletter": slug, "state": DRAFT, **values})


def _read(engine: Engine | Connection, where: object) -> list[EditionState]:
    s, f = edition_states.c, frozen_editions.c
    query = (
        select(s.edition, s.newsletter, s.state, s.revision_of, s.content_hash, s.built_at,
               f.subject, f.sent_at, f.finished_at, f.recipients)
        .select_from(edition_states.outerjoin(
            frozen_editions, and_(f.edition == s.edition, f.newsletter == s.newsletter)))
        .where(where)  # type: ignore[arg-type]
        .order_by(s.edition, s.newsletter)
    )
    if isinstance(engine, Connection):
        rows = engine.execute(query).all()
    else:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    return [
        EditionState(row.edition, row.newsletter, row.state, row.revision_of, row.content_hash,
                     aware(row.built_at), row.subject or "", aware(row.sent_at),
                     aware(row.finished_at), row.recipients or 0)
        for row in rows
    ]


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
