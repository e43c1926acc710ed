"""Writing an edition folder in one swap (the layout is in `layout.py`).

The new edition is assembled in a hidden sibling folder and renamed into place; newsletters
not rebuilt this time (and anything else kept in the edition folder, such as a send's outbox)
are carried over, as is anything besides the four build files inside a rebuilt newsletter's
folder.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest.curate import Window
from digest.editions.layout import BUILD_FILES, INDEX
from digest.editions.manifest import dumps, index_entry

if TYPE_CHECKING:
    from digest.build import NewsletterResult


def write_edition(root: Path, window: Window, outputs: dict[str, dict[str, bytes]],
                  results: Sequence[NewsletterResult], order: Sequence[str],
                  build: dict[str, Any] | None = None) -> Path:
    """Write the edition folder in one swap; returns its path. `build` records the overrides
    the build was given, so the preview can rebuild the edition the same way."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / window.id
    for stale in root.glob(f".{window.id}.*"):  # left by a build that was killed
        shutil.rmtree(stale, ignore_errors=True)
    stage = root / f".{window.id}.{secrets.token_hex(4)}.tmp"
    stage.mkdir()
    try:
        for slug, files in outputs.items():
            folder = stage / slug
            folder.mkdir()
            for name, content in files.items():
                (folder / name).write_bytes(content)
        entries = _carry_over(final, stage)
        entries.update({r.slug: index_entry(r) for r in results})
        rank = {slug: n for n, slug in enumerate(order)}
        listed = sorted(entries.values(), key=lambda e: (rank.get(e["slug"], len(rank)),
                                                         e["slug"]))
        (stage / INDEX).write_bytes(dumps({"edition": window.to_dict(),
                                                  "build": build or {},
                                                  "newsletters": listed}))
        _swap(stage, final)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return final


def _carry_over(final: Path, stage: Path) -> dict[str, dict[str, Any]]:
    """Copy into `stage` whatever the old edition holds that this build did not write (other
    newsletters, a send's outbox, ...); returns the old index entries of the newsletters kept."""
    if not final.is_dir():
        return {}
    rebuilt = {p.name for p in stage.iterdir()}
    kept: dict[str, dict[str, Any]] = {}
    try:
        old = json.loads((final / INDEX).read_text(encoding="utf-8"))
        for entry in old.get("newsletters", []):
            if isinstance(entry, dict) and entry.get("slug") not in rebuilt:
                kept[entry["slug"]] = entry
    except (OSError, ValueError, AttributeError):
        pass
    _copy_missing(final, stage, skip={INDEX})
    for slug in rebuilt:
        if (final / slug).is_dir():
            _copy_missing(final / slug, stage / slug, skip=BUILD_FILES)
    return {slug: entry for slug, entry in kept.items() if (stage / slug).is_dir()}


def _copy_missing(source: Path, target: Path, skip: set[str]) -> None:
    for item in sorted(source.iterdir()):
        if item.name in skip or (target / item.name).exists():
            continue
        if item.is_dir():
            shutil.copytree(item, target / item.name, symlinks=True)
        else:
            shutil.copy2(item, target / item.name)


def _swap(stage: Path, final: Path) -> None:
    if not final.exists():
        os.rename(stage, final)
        return
    trash = final.with_name(f".{final.name}.{secrets.token_hex(4)}.old")
    os.rename(final, trash)
    os.rename(stage, final)
    shutil.rmtree(trash, ignore_errors=True)
