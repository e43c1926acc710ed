"""Reading built editions from the output folder, as `digest build` leaves them.

OUT/EDITION/index.json lists the newsletters built; OUT/EDITION/SLUG/ holds email.html,
email.txt, email.mjml and manifest.json. The manifests are the source of truth here: the index
only tells which folders belong to the edition, so a folder whose manifest is unreadable still
shows up (with its problem) instead of vanishing from the list.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Edition ids ("2026-W47", "2026-11-02_2026-11-10") and slugs are plain names; anything else in a
# URL is refused before it gets near the file system.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")

GMAIL_CLIP_BYTES = 102 * 1024
"""Gmail hides the rest of a message whose HTML passes about 102 KB."""


def safe_name(name: str) -> bool:
    return bool(_NAME.match(name)) and ".." not in name


@dataclass
class Newsletter:
    """One newsletter of one edition: its manifest and where its files are."""

    edition: str
    slug: str
    folder: Path
    manifest: dict[str, Any]
    problem: str | None = None

    @property
    def title(self) -> str:
        return str(self.manifest.get("newsletter", {}).get("title") or self.slug)

    @property
    def subject(self) -> str:
        return str(self.manifest.get("subject") or "")

    @property
    def preheader(self) -> str:
        return str(self.manifest.get("preheader") or "")

    @property
    def articles(self) -> list[dict[str, Any]]:
        return list(self.manifest.get("articles") or [])

    @property
    def left_out(self) -> list[dict[str, Any]]:
        return list(self.manifest.get("left_out") or [])

    @property
    def more_this_week(self) -> list[Any]:
        return list(self.manifest.get("more_this_week") or [])

    @property
    def warnings(self) -> list[str]:
        return [_warning_text(w) for w in self.manifest.get("warnings") or []]

    @property
    def html_bytes(self) -> int:
        sizes = self.manifest.get("sizes") or {}
        if isinstance(sizes.get("html_bytes"), int):
            return sizes["html_bytes"]
        html = self.folder / "email.html"
        return html.stat().st_size if html.exists() else 0

    @property
    def sizes(self) -> dict[str, int]:
        return {k: v for k, v in (self.manifest.get("sizes") or {}).items() if isinstance(v, int)}

    def read(self, name: str) -> str:
        """One of the newsletter's files as text ("" when the build did not write it)."""
        path = self.folder / name
        return path.read_text(encoding="utf-8") if path.exists() else ""


@dataclass
class Edition:
    id: str
    folder: Path
    label: str
    since: str
    until: str
    newsletters: list[Newsletter] = field(default_factory=list)
    build: dict[str, Any] = field(default_factory=dict)
    """How the edition was built, when index.json records it (overrides to repeat on rebuild)."""

    def newsletter(self, slug: str) -> Newsletter | None:
        return next((n for n in self.newsletters if n.slug == slug), None)


def list_editions(out_dir: Path) -> list[Edition]:
    """Every built edition under `out_dir`, newest first."""
    if not out_dir.is_dir():
        return []
    found = [e for e in (read_edition(out_dir, p.name) for p in out_dir.iterdir()) if e]
    # Newest window first; the id breaks ties and orders editions without dates.
    found.sort(key=lambda e: (e.until, e.since, e.id), reverse=True)
    return found


def read_edition(out_dir: Path, edition_id: str) -> Edition | None:
    """The edition called `edition_id`, or None when there is no such built edition."""
    if not safe_name(edition_id):
        return None
    folder = out_dir / edition_id
    if not folder.is_dir():
        return None
    index = _read_json(folder / "index.json")
    slugs = _slugs_from_index(index) or sorted(
        p.name for p in folder.iterdir() if (p / "manifest.json").is_file()
    )
    if not slugs and index is None:
        return None  # some other folder, not an edition
    newsletters = [_read_newsletter(edition_id, folder, slug) for slug in slugs if safe_name(slug)]
    window = _window(index, newsletters)
    return Edition(
        id=edition_id,
        folder=folder,
        label=str(window.get("label") or edition_id),
        since=str(window.get("since") or ""),
        until=str(window.get("until") or ""),
        newsletters=newsletters,
        build=index["build"] if isinstance(index, dict) and isinstance(index.get("build"), dict)
        else {},
    )


def fingerprint(*paths: Path) -> str:
    """A short token that changes whenever one of the files `paths` changes *content*, appears
    or goes away. Content, not modification time: a rebuild that writes the same bytes (same
    inputs, same output) must not reload the editor's page."""
    seen = hashlib.sha256()
    for path in paths:
        seen.update(f"{path}:{_content_digest(path)};".encode())
    return seen.hexdigest()[:16]


_digests: dict[Path, tuple[int, int, str]] = {}


def _content_digest(path: Path) -> str:
    """SHA-256 of a file, remembered while its size and mtime stay the same."""
    try:
        stat = path.stat()
        known = _digests.get(path)
        if known and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return "absent"
    except OSError as exc:
        return f"unreadable {exc.errno}"
    if len(_digests) > 4096:
        _digests.clear()
    _digests[path] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def _read_newsletter(edition_id: str, folder: Path, slug: str) -> Newsletter:
    path = folder / slug / "manifest.json"
    manifest = _read_json(path)
    problem = None
    if manifest is None:
        problem = f"{path} is missing or is not valid JSON; run `digest build` again."
        manifest = {}
    return Newsletter(edition_id, slug, folder / slug, manifest, problem)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _slugs_from_index(index: Any) -> list[str]:
    # Tolerant: a list of slugs, a list of {"slug": ...}, or either under "newsletters".
    entries = index.get("newsletters") if isinstance(index, dict) else index
    slugs: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        slug = entry.get("slug") if isinstance(entry, dict) else entry
        if isinstance(slug, str):
            slugs.append(slug)
    return slugs


def _window(index: Any, newsletters: list[Newsletter]) -> dict[str, Any]:
    if isinstance(index, dict) and isinstance(index.get("edition"), dict):
        return index["edition"]
    for newsletter in newsletters:
        if isinstance(newsletter.manifest.get("edition"), dict):
            return newsletter.manifest["edition"]
    return {}


def _warning_text(warning: Any) -> str:
    if isinstance(warning, dict):
        return str(warning.get("message") or warning.get("text") or json.dumps(warning))
    return str(warning)
