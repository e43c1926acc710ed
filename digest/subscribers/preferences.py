"""A reader's own choices, as the manage page makes them: which newsletters, which topics, a
pause; and what is on file about them (the data download).

Every change is written with its history row in one transaction. Joining a newsletter needs no
new confirmation: the reader came through a signed link mailed to the address.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from digest.archive.schema import deliveries, signups, subscribers, suppressions
from digest.subscribers.history import aware, entry, history_of, record
from digest.subscribers.suppressions import EVERY, lift_for, suppress
from digest.subscribers.topics import split_key, topics_key

KEEP: Any = object()  # "leave the topics as they are"


@dataclass
class Subscription:
    newsletter: str
    status: str = "none"  # active | removed | none (never on this list)
    origin: str | None = None
    topics: tuple[str, ...] = ()
    topics_by: str | None = None
    paused_until: datetime | None = None
    suppressed: str | None = None  # reason of the newsletter's own suppression

    def receiving(self, everywhere: str | None) -> bool:
        """On the list, and no suppression of its own or of every list stops it."""
        return self.status == "active" and not self.suppressed and not everywhere


@dataclass
class Person:
    email: str
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    everywhere: str | None = None  # reason of a suppression of every newsletter

    def get(self, slug: str) -> Subscription:
        return self.subscriptions.get(slug) or Subscription(slug)

    def receiving(self, slug: str) -> bool:
        return self.get(slug).receiving(self.everywhere)

    @property
    def paused_until(self) -> datetime | None:
        """The end of the reader's pause, while it lasts."""
        now = datetime.now(UTC)
        ends = [s.paused_until for s in self.subscriptions.values()
                if s.paused_until and s.paused_until > now]
        return max(ends) if ends else None


def person(conn: Connection, email: str) -> Person:
    found = Person(email)
    s = subscribers.c
    for row in conn.execute(select(s.newsletter, s.status, s.origin, s.topics, s.topics_by,
                                   s.paused_until).where(s.email == email)):
        found.subscriptions[row.newsletter] = Subscription(
            row.newsletter, row.status, row.origin, split_key(row.topics), row.topics_by,
            aware(row.paused_until) if row.paused_until else None)
    for slug, reason in conn.execute(select(suppressions.c.newsletter, suppressions.c.reason)
                                     .where(suppressions.c.email == email)):
        if slug == EVERY:
            found.everywhere = reason
        else:
            found.subscriptions.setdefault(slug, Subscription(slug)).suppressed = reason
    return found


def load_person(engine: Engine, email: str) -> Person:
    with engine.connect() as conn:
        return person(conn, email)


def join(conn: Connection, email: str, newsletter: str, source: str, others: Iterable[str], *,
         name: str | None = None, topics: Any = KEEP, why: str = "") -> None:
    """Put `email` on `newsletter`'s list by the reader's own choice: suppressions that stopped
    it lifted, the row active and the reader's (so no CSV sync removes it). `others` are the
    publisher's other newsletters (a suppression of every list stays on those)."""
    lift_for(conn, email, newsletter, others, source)
    now = datetime.now(UTC)
    s = subscribers.c
    row = conn.execute(select(s.id, s.name).where(s.email == email, s.newsletter == newsletter)
                       ).first()
    values: dict[str, Any] = {"status": "active", "origin": source, "updated_at": now}
    if name:
        values["name"] = name
    if topics is not KEEP:
        values.update(topics=topics, topics_by="reader")
    if row is None:
        known = conn.scalar(select(s.name).where(s.email == email, s.name != "").limit(1))
        values["name"] = name or known or ""
        paused = person(conn, email).paused_until  # a pause covers newsletters joined during it
        conn.execute(subscribers.insert().values({
            "newsletter": newsletter, "email": email, "extra": None,
            "created_at": now, "paused_until": paused, "topics": None, "topics_by": None,
            **values}))
    else:
        conn.execute(update(subscribers).where(s.id == row.id).values(values))
    detail = why
    if topics is not KEEP:
        detail = f"{why}; topics: {topics or 'the whole edition'}".lstrip("; ")
    record(conn, [entry(email, "subscribed", source, newsletter=newsletter, detail=detail,
                        at=now)])


def set_topics(conn: Connection, email: str, newsletter: str, topics: str | None,
               source: str) -> bool:
    """The reader's topics for one newsletter they are on; False when nothing changed."""
    s = subscribers.c
    this = (s.email == email) & (s.newsletter == newsletter)
    row = conn.execute(select(s.topics, s.topics_by).where(this)).first()
    if row is None or row.topics == topics:  # the same topics: whoever set them still owns them
        return False
    conn.execute(update(subscribers).where(this).values(
        topics=topics, topics_by="reader", updated_at=datetime.now(UTC)))
    record(conn, [entry(email, "topics", source, newsletter=newsletter,
                        detail=topics or "the whole edition")])
    return True


@dataclass(frozen=True)
class Choice:
    receive: bool
    topics: tuple[str, ...] | None = None  # None: the newsletter offers no choice of topics


def apply_choices(engine: Engine, email: str, choices: Mapping[str, Choice],
                  source: str) -> list[str]:
    """What the manage page's main form asks: per newsletter, on or off, and its topics.
    Returns the newsletters whose state changed."""
    changed: list[str] = []
    with engine.begin() as conn:
        now = person(conn, email)
        for slug, choice in choices.items():
            key = KEEP if choice.topics is None else topics_key(choice.topics)
            was = now.receiving(slug)
            if choice.receive and not was:
                join(conn, email, slug, source, choices, topics=key,
                     why="joined on the manage page")
                changed.append(slug)
                continue
            if key is not KEEP and now.get(slug).status != "none" and set_topics(
                    conn, email, slug, key, source):
                changed.append(slug)
    for slug, choice in choices.items():
        if not choice.receive and now.receiving(slug):
            suppress(engine, email, slug, "unsubscribed", source)
            changed.append(slug)
    return list(dict.fromkeys(changed))


def pause(engine: Engine, email: str, until: datetime | None, source: str) -> None:
    """No mail before `until` (None: resume now), on every list the reader is on."""
    with engine.begin() as conn:
        conn.execute(update(subscribers).where(subscribers.c.email == email)
                     .values(paused_until=until, updated_at=datetime.now(UTC)))
        record(conn, [entry(email, "paused" if until else "resumed", source, newsletter=EVERY,
                            detail=f"until {until:%Y-%m-%d}" if until else "")])


def leave_all(engine: Engine, email: str, source: str) -> bool:
    return suppress(engine, email, EVERY, "unsubscribed", source)


def export(engine: Engine, email: str) -> dict[str, Any]:
    """Everything on file about `email`, as the data download gives it."""
    s, p, d = subscribers.c, signups.c, deliveries.c
    with engine.connect() as conn:
        lists = [
            {"newsletter": r.newsletter, "name": r.name or "", "status": r.status,
             "origin": r.origin, "topics": list(split_key(r.topics)),
             "topics_chosen_by": r.topics_by,
             "paused_until": _iso(r.paused_until), "since": _iso(r.created_at),
             "details": r.extra or {}}
            for r in conn.execute(select(subscribers).where(s.email == email)
                                  .order_by(s.newsletter))
        ]
        stops = [
            {"newsletter": r.newsletter, "reason": r.reason, "source": r.source,
             "since": _iso(r.created_at)}
            for r in conn.execute(select(suppressions).where(suppressions.c.email == email)
                                  .order_by(suppressions.c.newsletter))
        ]
        pending = [
            {"newsletter": r.newsletter, "name": r.name or "", "topics": list(split_key(r.topics)),
             "requested": _iso(r.created_at)}
            for r in conn.execute(select(signups).where(p.email == email))
        ]
        sent = [
            {"edition": r.edition, "newsletter": r.newsletter, "state": r.state,
             "copy": r.variant or "full edition", "at": _iso(r.updated_at)}
            for r in conn.execute(select(deliveries).where(d.email == email)
                                  .order_by(d.updated_at, d.edition, d.newsletter))
        ]
    names = sorted({item["name"] for item in lists if item["name"]})
    return {
        "address": email,
        "names": names,
        "lists": lists,
        "topics": {item["newsletter"]: item["topics"] for item in lists if item["topics"]},
        "suppressions": stops,
        "pending_signups": pending,
        "sent": sent,
        "history": [change.to_dict() for change in history_of(engine, email)],
        "exported_at": _iso(datetime.now(UTC)),
    }


def _iso(moment: datetime | None) -> str | None:
    return aware(moment).isoformat() if moment else None
