"""A built edition of one newsletter, as `digest build` leaves it: what the sender sends."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest.errors import DigestError
from digest.settings import Settings

# Edition ids ("2026-W47", "2026-11-02_2026-11-10") and slugs are plain names.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


@dataclass(frozen=True)
class BuiltEdition:
    edition: str  # the edition id, e.g. "2026-W47"
    slug: str
    folder: Path
    html: str  # final inlined HTML, personal placeholders still in it
    text: str  # plain-text part, placeholders still in it
    manifest: dict[str, Any]

    @property
    def subject(self) -> str:
        return str(self.manifest.get("subject") or "")

    @property
    def title(self) -> str:
        return str(self.manifest.get("newsletter", {}).get("title") or self.slug)

    @property
    def from_name(self) -> str:
        return str(self.manifest.get("newsletter", {}).get("from_name") or "")

    @property
    def label(self) -> str:
        return str(self.manifest.get("edition", {}).get("label") or self.edition)

    @property
    def outbox(self) -> Path:
        return self.folder / "outbox"


def load_edition(settings: Settings, edition: str, slug: str) -> BuiltEdition:
    """Read OUT/EDITION/SLUG; a clear error saying to run `digest build` when it is not there."""
    for what, name in (("edition", edition), ("newsletter", slug)):
        if not _NAME.match(name) or ".." in name:
            raise DigestError(f"{name!r} is not a valid {what} name")
    folder = settings.out_dir / edition / slug
    build_hint = f"Run `digest build` for {edition} first (it writes {folder})."
    if not (settings.out_dir / edition).is_dir():
        raise DigestError(
            f"edition {edition} has not been built: no folder {settings.out_dir / edition}",
            hint=build_hint,
        )
    if not folder.is_dir():
        raise DigestError(
            f"newsletter {slug!r} is not in edition {edition}: no folder {folder}", hint=build_hint
        )
    parts: dict[str, str] = {}
    for name in ("email.html", "email.txt", "manifest.json"):
        path = folder / name
        try:
            parts[name] = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DigestError(
                f"{path} is missing: the build of {edition} is incomplete", hint=build_hint
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DigestError(f"cannot read {path}: {exc}", hint=build_hint) from None
    try:
        manifest = json.loads(parts["manifest.json"])
    except json.JSONDecodeError as exc:
        raise DigestError(
            f"{folder / 'manifest.json'}:{exc.lineno}: not valid JSON ({exc.msg})", hint=build_hint
        ) from None
    if not isinstance(manifest, dict) or not str(manifest.get("subject") or "").strip():
        raise DigestError(f"{folder / 'manifest.json'} has no subject", hint=build_hint)
    return BuiltEdition(edition, slug, folder, parts["email.html"], parts["email.txt"], manifest)
