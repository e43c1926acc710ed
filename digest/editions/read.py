"""Reading built editions from the output folder, as `digest build` leaves them.

Tolerant, for the preview: OUT/EDITION/index.json names the newsletters built and the manifests
are the source of truth, so a folder whose manifest is unreadable still shows up (with its
problem) instead of vanishing from the list. The sender's strict reading is `built.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest.editions.ids import is_edition_id, is_slug, last_day
from digest.editions.layout import INDEX, MANIFEST
from digest.editions.variants import Variant, is_variant_key, variant_folder, variants_of


@dataclass
class Newsletter:
    """One newsletter of one edition (or one of its variants): its manifest and where its
    files are."""

    edition: str
    slug: str
    folder: Path
    manifest: dict[str, Any]
    problem: str | None = None
    variant: str = ""  # the variant's key; "" for the full edition

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

    @property
    def variants(self) -> list[Variant]:
        """The variants cut to readers' topics that the build listed (full edition only)."""
        return variants_of(self.manifest)

    @property
    def readers_without_topics(self) -> int | None:
        readers = self.manifest.get("readers")
        return readers if isinstance(readers, int) else None

    def cut(self, key: str) -> Newsletter | None:
        """The variant `key` as a newsletter of its own, when the build rendered one."""
        if self.variant or not is_variant_key(key):
            return None
        if not any(v.key == key and v.status == "built" for v in self.variants):
            return None
        folder = variant_folder(self.folder, key)
        manifest = read_json(folder / MANIFEST)
        problem = None
        if not isinstance(manifest, dict):
            problem = f"{folder / MANIFEST} is missing or is not valid JSON; run `digest build`."
            manifest = {}
        return Newsletter(self.edition, self.slug, folder, manifest, problem, key)


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
    revision_of: str | None = None
    """The edition this one corrects (for a correction such as 2026-W47-r2)."""

    def newsletter(self, slug: str) -> Newsletter | None:
        return next((n for n in self.newsletters if n.slug == slug), None)


def list_editions(out_dir: Path) -> list[Edition]:
    """Every built edition under `out_dir`, newest first."""
    if not out_dir.is_dir():
        return []
    found = [e for e in (read_edition(out_dir, p.name) for p in out_dir.iterdir()) if e]
    # Newest window first (a revision after the edition it corrects); then the recorded times.
    found.sort(key=lambda e: (last_day(e.id), e.until, e.since, e.id), reverse=True)
    return found


def read_edition(out_dir: Path, edition_id: str) -> Edition | None:
    """The edition called `edition_id`, or None when there is no such built edition."""
    if not is_edition_id(edition_id):
        return None
    folder = out_dir / edition_id
    if not folder.is_dir():
        return None
    index = read_json(folder / INDEX)
    slugs = _slugs_from_index(index) or sorted(
        p.name for p in folder.iterdir() if (p / MANIFEST).is_file()
    )
    if not slugs and index is None:
        return None  # some other folder, not an edition
    newsletters = [_read_newsletter(edition_id, folder, slug) for slug in slugs if is_slug(slug)]
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
        revision_of=str(window["revision_of"]) if window.get("revision_of") else None,
    )


def read_json(path: Path) -> Any:
    """Parsed JSON, or None when missing or unreadable (listings skip, they never fail)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _read_newsletter(edition_id: str, folder: Path, slug: str) -> Newsletter:
    path = folder / slug / MANIFEST
    manifest = read_json(path)
    problem = None
    if not isinstance(manifest, dict):
        problem = f"{path} is missing or is not valid JSON; run `digest build` again."
        manifest = {}
    return Newsletter(edition_id, slug, folder / slug, manifest, problem)


def _slugs_from_index(index: Any) -> list[str]:
    # Tolerant: a list of slugs, a list of {"slug": ...}, or either under "newsletters".
    entries = index.get("newsletters") if isinstance(index, dict) else index
    slugs: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        slug = entry.get("slug") if isinstance(entry, dict) else entry
        if isinstance(slug, str):
            slugs.append(slug)
    return list(dict.fromkeys(slugs))


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


def newsletter_file(out_dir: Path, edition: str, slug: str, name: str) -> Path | None:
    """OUT/EDITION/SLUG/NAME if the names are valid and the file exists and lies inside OUT
    (no symlink leads out of it), else None."""
    if not (is_edition_id(edition) and is_slug(slug)):
        return None
    root = out_dir.resolve()
    candidate = (root / edition / slug / name).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate
