"""A built edition of one newsletter (or one of its variants), read strictly: what the sender
sends."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest.editions.ids import check_names
from digest.editions.layout import HTML, MANIFEST, OUTBOX, TEXT, newsletter_folder
from digest.editions.variants import Variant, is_variant_key, variant_folder, variants_of
from digest.errors import DigestError


@dataclass(frozen=True)
class BuiltEdition:
    edition: str  # the edition id, e.g. "2026-W47"
    slug: str
    folder: Path  # the newsletter's folder (a variant's files are under variants/KEY/)
    html: str  # final inlined HTML, personal placeholders still in it
    text: str  # plain-text part, placeholders still in it
    manifest: dict[str, Any]
    variant: str = ""  # the variant's key; "" for the full edition

    @property
    def subject(self) -> str:
        return str(self.manifest.get("subject") or "")

    @property
    def preheader(self) -> str:
        return str(self.manifest.get("preheader") or "")

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
        return self.folder / OUTBOX  # one for the newsletter: a reader's copy, whatever variant

    @property
    def variants(self) -> list[Variant]:
        """The variants the full edition's manifest lists."""
        return variants_of(self.manifest)


def load_built(out_dir: Path, edition: str, slug: str, variant: str = "") -> BuiltEdition:
    """Read OUT/EDITION/SLUG (or its variant KEY); a clear error saying to run `digest build`
    when it is not there."""
    check_names(edition, slug)
    if variant and not is_variant_key(variant):
        raise DigestError(f"{variant!r} is not a variant of {slug}",
                          hint="Variants are named by their topics, e.g. ai-policy+trade.")
    folder = newsletter_folder(out_dir, edition, slug)
    build_hint = f"Run `digest build` for {edition} first (it writes {folder})."
    if variant and not variant_folder(folder, variant).is_dir():
        raise DigestError(f"{slug} of {edition} has no variant {variant!r}", hint=build_hint)
    files = variant_folder(folder, variant) if variant else folder
    if not (out_dir / edition).is_dir():
        raise DigestError(
            f"edition {edition} has not been built: no folder {out_dir / edition}",
            hint=build_hint,
        )
    if not folder.is_dir():
        raise DigestError(
            f"newsletter {slug!r} is not in edition {edition}: no folder {folder}", hint=build_hint
        )
    parts: dict[str, str] = {}
    for name in (HTML, TEXT, MANIFEST):
        path = files / name
        try:
            parts[name] = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DigestError(
                f"{path} is missing: the build of {edition} is incomplete", hint=build_hint
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DigestError(f"cannot read {path}: {exc}", hint=build_hint) from None
    try:
        manifest = json.loads(parts[MANIFEST])
    except json.JSONDecodeError as exc:
        raise DigestError(
            f"{files / MANIFEST}:{exc.lineno}: not valid JSON ({exc.msg})", hint=build_hint
        ) from None
    if not isinstance(manifest, dict) or not str(manifest.get("subject") or "").strip():
        raise DigestError(f"{files / MANIFEST} has no subject", hint=build_hint)
    return BuiltEdition(edition, slug, folder, parts[HTML], parts[TEXT], manifest, variant)
