"""The web archive: past editions newest first, and each email's web version.

Edition and slug come from the URL, so both are checked against strict patterns and the file
found must resolve inside the editions folder: nothing else on disk can be reached.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from digest import placeholders

EDITION_RE = re.compile(r"\d{4}-W\d{2}|\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}")
SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# Personal placeholders filled per recipient at send time; the public copy gets neutral text.
NEUTRAL_NAME = "reader"
NEUTRAL_EMAIL = "you"


@dataclass(frozen=True)
class ArchivedNewsletter:
    slug: str
    title: str
    subject: str


@dataclass
class ArchivedEdition:
    id: str
    label: str
    ends: date
    newsletters: list[ArchivedNewsletter] = field(default_factory=list)


def list_editions(out_dir: Path) -> list[ArchivedEdition]:
    """Every built edition with at least one email, newest first."""
    if not out_dir.is_dir():
        return []
    editions = []
    for folder in out_dir.iterdir():
        if not (EDITION_RE.fullmatch(folder.name) and folder.is_dir()):
            continue
        edition = _edition(out_dir, folder.name)
        if edition.newsletters:
            editions.append(edition)
    editions.sort(key=lambda e: (e.ends, e.id), reverse=True)
    return editions


def email_file(out_dir: Path, edition: str, slug: str, name: str = "email.html") -> Path | None:
    """OUT/EDITION/SLUG/NAME if it exists and lies inside OUT, else None."""
    if not (EDITION_RE.fullmatch(edition) and SLUG_RE.fullmatch(slug)):
        return None
    root = out_dir.resolve()
    candidate = (root / edition / slug / name).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def web_version(out_dir: Path, edition: str, slug: str, unsubscribe_help_url: str) -> str | None:
    """The edition's email HTML with the personal placeholders made neutral."""
    path = email_file(out_dir, edition, slug)
    if path is None:
        return None
    neutral = {
        placeholders.NAME: NEUTRAL_NAME,
        placeholders.EMAIL: NEUTRAL_EMAIL,
        placeholders.UNSUBSCRIBE_URL: unsubscribe_help_url,
    }
    return placeholders.fill(path.read_text(encoding="utf-8"), neutral, escape=True)


def _edition(out_dir: Path, edition_id: str) -> ArchivedEdition:
    folder = out_dir / edition_id
    label, ends = edition_id, _end_of(edition_id)
    newsletters = []
    for slug in _slugs(folder):
        if email_file(out_dir, edition_id, slug) is None:
            continue
        manifest = _json(folder / slug / "manifest.json")
        manifest = manifest if isinstance(manifest, dict) else {}
        info = manifest.get("newsletter") if isinstance(manifest.get("newsletter"), dict) else {}
        about = manifest.get("edition") if isinstance(manifest.get("edition"), dict) else {}
        label = str(about.get("label") or label)
        title, subject = info.get("title") or slug, manifest.get("subject") or ""
        newsletters.append(ArchivedNewsletter(slug, str(title), str(subject)))
    newsletters.sort(key=lambda n: n.title.lower())
    return ArchivedEdition(edition_id, label, ends, newsletters)


def _slugs(folder: Path) -> list[str]:
    """Newsletters named by index.json (a list of slugs or of {"slug": ...}), else subfolders."""
    index = _json(folder / "index.json")
    if isinstance(index, dict):
        index = index.get("newsletters")
    if isinstance(index, list):
        slugs = [item.get("slug") if isinstance(item, dict) else item for item in index]
    else:
        slugs = [p.name for p in folder.iterdir() if p.is_dir()]
    return [s for s in dict.fromkeys(slugs) if isinstance(s, str) and SLUG_RE.fullmatch(s)]


def _end_of(edition_id: str) -> date:
    """Last day an edition covers: Sunday of an ISO week, or a range's second date."""
    try:
        if "W" in edition_id:
            year, week = edition_id.split("-W")
            return date.fromisocalendar(int(year), int(week), 7)
        return date.fromisoformat(edition_id.split("_")[1])
    except ValueError:
        return date.min


def _json(path: Path) -> Any:
    """Parsed JSON, or None when missing or unreadable (the listing skips, it never fails)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
