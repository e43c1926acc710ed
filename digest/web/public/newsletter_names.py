"""Newsletter titles for the public pages: newsletters.toml when the server has it, else the
title of the newsletter's latest sent edition in the database, else the slug."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from digest.archive.schema import frozen_editions

SENT_TITLES_SECONDS = 300.0  # how long titles read from the database are trusted


class NewsletterNames:
    """slug -> title, re-read when newsletters.toml changes; never fails a page."""

    def __init__(self, subscribers_dir: Path, engine: Engine | None = None) -> None:
        self.path = subscribers_dir / "newsletters.toml"
        self.engine = engine
        self._stamp: float | None = None
        self._titles: dict[str, str] = {}
        self._sent: dict[str, tuple[float, str | None]] = {}

    def title(self, slug: str) -> str:
        self._refresh()
        return self._titles.get(slug) or self._sent_title(slug) or slug

    def _sent_title(self, slug: str) -> str | None:
        if self.engine is None:
            return None
        known = self._sent.get(slug)
        if known and time.monotonic() - known[0] < SENT_TITLES_SECONDS:
            return known[1]
        query = (select(frozen_editions.c.title).where(frozen_editions.c.newsletter == slug)
                 .order_by(frozen_editions.c.sent_at.desc()).limit(1))
        try:
            with self.engine.connect() as conn:
                title = conn.scalar(query)
        except Exception:  # never fail a reader's page over a title
            title = None
        self._sent[slug] = (time.monotonic(), title)
        return title

    def _refresh(self) -> None:
        try:
            stamp = self.path.stat().st_mtime
        except OSError:
            self._titles, self._stamp = {}, None
            return
        if stamp == self._stamp:
            return
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}  # the CLI reports a broken file; a reader's page just shows slugs
        self._titles, self._stamp = _titles(data), stamp


def _titles(data: dict[str, Any]) -> dict[str, str]:
    """Accept `[[newsletter]]` / `[[newsletters]]` arrays or `[SLUG]` tables."""
    found: dict[str, str] = {}
    entries: list[Any] = []
    for key in ("newsletter", "newsletters"):
        value = data.get(key)
        if isinstance(value, list):
            entries += value
        elif isinstance(value, dict):
            entries += [{"slug": k, **v} for k, v in value.items() if isinstance(v, dict)]
    entries += [{"slug": k, **v} for k, v in data.items()
                if isinstance(v, dict) and k not in ("newsletter", "newsletters")]
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("slug"), str):
            title = entry.get("title") or entry.get("name") or entry["slug"]
            found[entry["slug"]] = str(title)
    return found
