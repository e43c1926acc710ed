"""Edition ids and newsletter slugs: the one place that says what a valid name is.

    2026-W47                  an ISO week's edition
    2026-11-02_2026-11-10     a date range's edition (both days inclusive)
    2026-W47-r2               the second revision of 2026-W47: a correction built after the
                              first was sent (r2, r3, ...; the original is revision 1)

Ids and slugs come from URLs and command lines, so they are checked against these patterns
before they get near the file system or the database.
"""

from __future__ import annotations

import re
from datetime import date

from digest.errors import DigestError

_BASE = r"\d{4}-W\d{2}|\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}"
EDITION_ID = re.compile(rf"(?P<base>{_BASE})(?:-r(?P<revision>[2-9]|[1-9]\d{{1,2}}))?")
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_SLUG = 100  # the database columns' width


def is_edition_id(text: str) -> bool:
    return EDITION_ID.fullmatch(text) is not None


def is_slug(text: str) -> bool:
    return len(text) <= MAX_SLUG and SLUG.fullmatch(text) is not None


def check_names(edition: str, slug: str | None = None) -> None:
    """A DigestError naming what is wrong when `edition` (or `slug`) is not a valid name."""
    if not is_edition_id(edition):
        raise DigestError(
            f"{edition!r} is not an edition id",
            hint="Edition ids look like 2026-W47, 2026-11-02_2026-11-10 or 2026-W47-r2 "
            "(what `digest build` printed).",
        )
    if slug is not None and not is_slug(slug):
        raise DigestError(
            f"{slug!r} is not a newsletter slug",
            hint="Slugs are lower-case words joined by hyphens, as in newsletters.toml.",
        )


def base_of(edition: str) -> str:
    """The edition a revision corrects ("2026-W47" for "2026-W47-r2"); an original itself."""
    found = EDITION_ID.fullmatch(edition)
    return found["base"] if found else edition


def revision_of(edition: str) -> int:
    """1 for an original, N for its "-rN" revision."""
    found = EDITION_ID.fullmatch(edition)
    return int(found["revision"]) if found and found["revision"] else 1


def revision_id(base: str, revision: int) -> str:
    return base if revision <= 1 else f"{base}-r{revision}"


def last_day(edition: str) -> date:
    """Last day an edition covers: Sunday of an ISO week, or a range's second date."""
    base = base_of(edition)
    try:
        if "W" in base:
            year, week = base.split("-W")
            return date.fromisocalendar(int(year), int(week), 7)
        return date.fromisoformat(base.split("_")[1])
    except (ValueError, IndexError):
        return date.min
