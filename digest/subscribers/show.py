"""What is on file about one address, for `digest subscribers show` (the history is history.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from digest.archive.schema import signups, subscribers, suppressions
from digest.subscribers.erasure import is_erased
from digest.subscribers.history import aware
from digest.subscribers.topics import split_key


@dataclass(frozen=True)
class Listed:
    newsletter: str
    status: str
    origin: str
    topics: str  # "antitrust, trade (reader's choice)" or "whole edition"
    paused_until: str


@dataclass
class OnFile:
    erased: bool = False
    lists: list[Listed] = field(default_factory=list)
    suppressions: list[tuple[str, str, str, str]] = field(default_factory=list)
    pending: list[tuple[str, str]] = field(default_factory=list)


def on_file(engine: Engine, key: Any, email: str) -> OnFile:
    found = OnFile()
    s = subscribers.c
    with engine.connect() as conn:
        found.erased = is_erased(conn, key, email)
        for r in conn.execute(select(subscribers).where(s.email == email).order_by(s.newsletter)):
            topics = ", ".join(split_key(r.topics)) or "whole edition"
            if r.topics_by:
                topics += f" ({'their own choice' if r.topics_by == 'reader' else 'from the CSV'})"
            found.lists.append(Listed(r.newsletter, r.status, r.origin, topics,
                                      f"{aware(r.paused_until):%Y-%m-%d}" if r.paused_until
                                      else ""))
        for r in conn.execute(select(suppressions).where(suppressions.c.email == email)):
            found.suppressions.append((r.newsletter, r.reason, r.source,
                                       f"{aware(r.created_at):%Y-%m-%d %H:%M} UTC"))
        for r in conn.execute(select(signups).where(signups.c.email == email)):
            found.pending.append((r.newsletter, f"{aware(r.created_at):%Y-%m-%d %H:%M} UTC"))
    return found
