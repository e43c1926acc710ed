"""The edition's time window: an ISO week, a date range, or the seven days up to now (UTC).

Both ends are inclusive: a week runs from Monday 00:00:00 to Sunday 23:59:59.999999, so an
article stamped at the week's last second is in it and one at the next Monday's first is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, func, select

from digest.errors import DigestError
from digest.models import iso, parse_iso

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.I)
_LAST_MICRO = timedelta(microseconds=1)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


@dataclass(frozen=True, slots=True)
class Window:
    id: str  # "2026-W47" or "2026-11-02_2026-11-10": the edition folder's name
    label: str  # "16–22 November 2026": what readers see
    since: datetime
    until: datetime
    week: str | None = None

    def __contains__(self, moment: datetime) -> bool:
        return self.since <= moment <= self.until

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "label": self.label, "since": iso(self.since),
                "until": iso(self.until)}


def week_window(spec: str) -> Window:
    """`2026-W47` -> Monday 00:00 to Sunday 23:59:59.999999 UTC of that ISO week."""
    found = _WEEK.match(spec.strip())
    if not found:
        raise DigestError(
            f"malformed --week {spec!r}: expected an ISO week such as 2026-W47",
            hint="Use YYYY-Www (weeks run Monday to Sunday, UTC), or 'latest'.",
        )
    year, number = int(found.group(1)), int(found.group(2))
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError:
        last = date(year, 12, 28).isocalendar().week
        raise DigestError(
            f"malformed --week {spec!r}: {year} has ISO weeks 1 to {last}",
            hint="Use YYYY-Www such as 2026-W47, or 'latest'.",
        ) from None
    since = datetime.combine(monday, time.min, UTC)
    until = since + timedelta(days=7) - _LAST_MICRO
    week_id = f"{year}-W{number:02d}"
    return Window(id=week_id, label=date_label(since, until), since=since, until=until,
                  week=week_id)


def range_window(since: str | datetime | None, until: str | datetime | None,
                 *, now: datetime | None = None) -> Window:
    """`--since/--until`: dates mean whole days (until is inclusive); either may be left out
    (until defaults to now, since to seven days before until)."""
    end = _moment(until, "--until", end_of_day=True) if until is not None else None
    start = _moment(since, "--since", end_of_day=False) if since is not None else None
    end = end or (now or datetime.now(UTC))
    start = start or end - timedelta(days=7)
    if start > end:
        raise DigestError(f"--since {iso(start)} is after --until {iso(end)}",
                          hint="Give the earlier moment as --since.")
    as_week = _exact_week(start, end)
    if as_week:  # a range that is exactly an ISO week is that week's edition
        return as_week
    window_id = f"{start:%Y-%m-%d}_{end:%Y-%m-%d}"
    return Window(id=window_id, label=date_label(start, end), since=start, until=end)


def _exact_week(start: datetime, end: datetime) -> Window | None:
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if start.weekday() != 0 or start.time() != time.min:
        return None
    if end != start + timedelta(days=7) - _LAST_MICRO:
        return None
    year, week, _ = start.isocalendar()
    return week_window(f"{year}-W{week:02d}")


def latest_week(engine: Engine) -> Window:
    """The ISO week of the newest article in the archive."""
    from digest.archive.schema import articles

    with engine.connect() as conn:
        newest = conn.execute(select(func.max(articles.c.published_at))).scalar()
    if newest is None:
        raise DigestError("--week latest: the archive is empty",
                          hint="Ingest articles first: digest ingest.")
    if isinstance(newest, str):  # SQLite without type affinity hands back text
        newest = parse_iso(newest)
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    year, week, _ = newest.astimezone(UTC).isocalendar()
    return week_window(f"{year}-W{week:02d}")


def resolve_window(engine: Engine, *, week: str | None = None, since: str | None = None,
                   until: str | None = None, now: datetime | None = None) -> Window:
    """The window the command line asked for; the seven days up to now by default."""
    if week and (since or until):
        raise DigestError("give either --week or --since/--until, not both")
    if week:
        return latest_week(engine) if week.strip().lower() == "latest" else week_window(week)
    return range_window(since, until, now=now)


def _moment(value: str | datetime, flag: str, *, end_of_day: bool) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.min, UTC)
            return moment + timedelta(days=1) - _LAST_MICRO if end_of_day else moment
        return parse_iso(text)
    except ValueError:
        raise DigestError(
            f"malformed {flag} {value!r}: expected a date (2026-11-02) or an ISO 8601 time",
            hint="Times without a zone are taken as UTC, e.g. 2026-11-02T09:00 or ...Z.",
        ) from None


def date_label(since: datetime, until: datetime) -> str:
    """'16–22 November 2026', '30 November – 6 December 2026', '29 December 2025 – 4 January
    2026': only what differs between the ends is repeated."""
    a, b = since.astimezone(UTC).date(), until.astimezone(UTC).date()
    if a == b:
        return long_date(a)
    if a.year != b.year:
        return f"{long_date(a)} – {long_date(b)}"
    if a.month != b.month:
        return f"{a.day} {_MONTHS[a.month - 1]} – {long_date(b)}"
    return f"{a.day}–{long_date(b)}"


def long_date(day: date | datetime) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
