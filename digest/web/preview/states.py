"""Each newsletter's state (draft / sending / sent) for the preview, read from the database.

The preview never creates the archive just by looking: with no SQLite file yet, every built
newsletter is a draft. A database that does not answer is logged, not shown as an error page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from digest.archive.schema import edition_states
from digest.editions.states import EditionState, states_of
from digest.settings import Settings

log = logging.getLogger("digest.preview")
States = dict[str, dict[str, EditionState]]  # edition -> slug -> state


def existing_archive(settings: Settings) -> Engine | None:
    """The archive's engine, or None when it is a SQLite file that does not exist yet."""
    url = make_url(settings.database)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return None
    from digest.archive.db import connect

    return connect(settings.database)


def read_states(settings: Settings, editions: Iterable[str]) -> States:
    try:
        engine = existing_archive(settings)
        if engine is None:
            return {}
        return {edition: states_of(engine, edition) for edition in editions}
    except Exception as exc:  # a server that went away must not break the preview
        log.warning("cannot read the editions' states: %s", exc)
        return {}


def states_mark(settings: Settings) -> tuple[object, ...]:
    """Changes whenever a newsletter's state changes (a build, the start or end of a send)."""
    try:
        engine = existing_archive(settings)
        if engine is None:
            return ("absent",)
        query = select(func.count(), func.max(edition_states.c.updated_at))
        with engine.connect() as conn:
            return tuple(conn.execute(query.select_from(edition_states)).one())
    except Exception as exc:
        log.warning("cannot read the editions' states: %s", exc)
        return ("unreadable",)


def all_frozen(states: dict[str, EditionState], slugs: Iterable[str]) -> bool:
    """Whether every one of `slugs` is frozen (sent or being sent): nothing left to rebuild."""
    slugs = list(slugs)
    return bool(slugs) and all(s in states and states[s].frozen for s in slugs)
