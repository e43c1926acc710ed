"""Newsletter titles for the public pages, read from newsletters.toml (the slug if unknown)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


class NewsletterNames:
    """slug -> title, re-read when newsletters.toml changes; never fails a page."""

    def __init__(self, subscribers_dir: Path) -> None:
        self.path = subscribers_dir / "newsletters.toml"
        self._stamp: float | None = None
        self._titles: dict[str, str] = {}

    def title(self, slug: str) -> str:
        self._refresh()
        return self._titles.get(slug, slug)

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
