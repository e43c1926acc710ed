"""When readers opened and clicked: recipients by the hour of their first open (or click) after
the send began, for the chart. Hours are counted in the database, so the rows read are one per
hour, however many recipients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, DateTime, Integer, cast, func, literal, select

from digest.archive.schema import email_events
from digest.report.sent import SentNewsletter

MIN_HOURS, MAX_HOURS = 24, 72  # the chart shows a day at least, three at most


@dataclass
class Timeline:
    start: datetime
    opened: list[int]  # recipients whose first open by a person fell in each hour
    clicked: list[int]  # recipients whose first click fell in each hour
    later_opened: int = 0  # after the hours shown
    later_clicked: int = 0

    @property
    def hours(self) -> int:
        return len(self.opened)


def timeline(conn: Connection, send: SentNewsletter, this: ColumnElement[bool],
             opened: ColumnElement[bool], clicked: ColumnElement[bool]) -> Timeline | None:
    if send.started_at is None:
        return None
    opens = _first_by_hour(conn, this, opened, send.started_at)
    clicks = _first_by_hour(conn, this, clicked, send.started_at)
    last = max([*opens, *clicks], default=0)
    shown = min(max(last + 1, MIN_HOURS), MAX_HOURS)
    found = Timeline(send.started_at, [0] * shown, [0] * shown)
    for counts, bars, later in ((opens, found.opened, "later_opened"),
                                (clicks, found.clicked, "later_clicked")):
        for hour, n in counts.items():
            if hour < shown:
                bars[hour] += n
            else:
                setattr(found, later, getattr(found, later) + n)
    return found


def _first_by_hour(conn: Connection, this: ColumnElement[bool], condition: ColumnElement[bool],
                   start: datetime) -> dict[int, int]:
    e = email_events.c
    first = (
        select(func.min(e.occurred_at).label("at"))
        .where(this, condition, e.occurred_at.is_not(None))
        .group_by(e.delivery_id)
        .subquery()
    )
    hour = _hours_since(conn, first.c.at, start).label("hour")
    rows = conn.execute(select(hour, func.count()).select_from(first).group_by(hour))
    found: dict[int, int] = {}
    for value, n in rows:
        key = max(int(value or 0), 0)  # an event stamped before the send began: hour 0
        found[key] = found.get(key, 0) + int(n)
    return found


def _hours_since(conn: Connection, column: ColumnElement[datetime],
                 start: datetime) -> ColumnElement[int]:
    since = literal(start, DateTime(timezone=True))
    if conn.dialect.name == "sqlite":  # days as a float: whole milliseconds first, then hours
        millis = cast(func.round((func.julianday(column) - func.julianday(since)) * 86_400_000),
                      Integer)
        return millis / 3_600_000
    return cast(func.floor(func.extract("epoch", column - since) / 3600), Integer)
