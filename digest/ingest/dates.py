"""Dates as the sources write them, turned into aware UTC datetimes.

Accepted: ISO 8601 (a date alone means midnight UTC; no offset means UTC), RFC 2822 as feeds
write it, and the publisher's own `February 12, 2025, 20:11 GMT`. Month names are matched by
hand rather than with strptime's %B, which follows the machine's locale.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
# "February 12, 2025, 20:11 GMT" (time and zone optional, the commas too)
_WRITTEN = re.compile(
    r"^(?P<month>[A-Za-z]+)\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})"
    r"(?:,?\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?:\s*(?P<zone>GMT|UTC|Z))?)?$",
    re.I,
)

DATE_FORMATS = "ISO 8601 (2026-11-03T09:30:00Z), RFC 2822 or 'November 3, 2026, 09:30 GMT'"


def parse_date(value: object) -> datetime:
    """An aware UTC datetime, or ValueError naming what was wrong."""
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if not isinstance(value, str):
        raise ValueError(f"expected a date, got {type(value).__name__} {value!r}")
    text = value.strip()
    if not text:
        raise ValueError("the date is empty")
    try:
        return _utc(datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")))
    except ValueError:
        pass
    written = parse_written(text)
    if written is not None:
        return written
    try:
        return _utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    raise ValueError(f"unparseable date {text!r}")


def parse_written(text: str) -> datetime | None:
    """`February 12, 2025, 20:11 GMT` -> 2025-02-12T20:11Z; None when it is not that shape.

    ValueError when it has the shape but not a real date (`February 30`).
    """
    match = _WRITTEN.match(text.strip())
    if not match:
        return None
    month = _MONTHS.get(match["month"].lower())
    if month is None:
        raise ValueError(f"unknown month {match['month']!r}")
    return datetime(
        int(match["year"]),
        month,
        int(match["day"]),
        int(match["hour"] or 0),
        int(match["minute"] or 0),
        tzinfo=UTC,
    )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_WEEK = re.compile(r"^(?P<year>\d{4})-?W(?P<week>\d{2})$", re.I)


def parse_bound(text: str, *, end: bool) -> datetime:
    """A `--since` / `--until` value as a UTC instant; ValueError when it is none of the forms.

    A day means its start (since) or its last instant (until), so `--until 2026-11-08` includes
    the whole of that Sunday; an ISO week (`2026-W46`) means its Monday or the end of its Sunday.
    """
    text = text.strip()
    week = _WEEK.match(text)
    if week:
        try:
            monday = date.fromisocalendar(int(week["year"]), int(week["week"]), 1)
        except ValueError:
            raise ValueError(f"{text!r}: {week['year']} has no week {week['week']}") from None
        day = monday + timedelta(days=6) if end else monday
        return _day_bound(day, end)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return _day_bound(day, end)
    try:
        return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(f"cannot read {text!r} as a date") from None


def _day_bound(day: date, end: bool) -> datetime:
    moment = datetime.combine(day, time(), tzinfo=UTC)
    return moment + timedelta(days=1, microseconds=-1) if end else moment
