"""Writing an edition folder in one swap (the layout is in `layout.py`).

The new edition is assembled in a hidden sibling folder and renamed into place; newsletters
not rebuilt this time (and anything else kept in the edition folder, such as a send's outbox)
are carried over, as is anything besides the four build files inside a rebuilt newsletter's
folder. The caller holds the edition's build lease, so two builds never swap at once.

Staging folders are named after their build (.EDITION.HOST.PID.TOKEN.tmp): a build removes its
own, and those of builds on this machine whose process is gone; never another live build's.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest.editions.layout import BUILD_FILES, INDEX
from digest.editions.lease import HOST, process_runs
from digest.editions.manifest import dumps, index_entry

if TYPE_CHECKING:
    from digest.build import NewsletterResult


def write_edition(root: Path, edition: dict[str, Any], outputs: dict[str, dict[str, bytes]],
                  results: Sequence[NewsletterResult], order: Sequence[str],
                  build: dict[str, Any] | None = None) -> Path:
    """Write the edition folder in one swap; returns its path. `edition` is the edition's
    record ({"id", "label", "since", "until", ...}); `build` records the overrides the build
    was given, so the preview can rebuild the edition the same way."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / edition["id"]
    remove_dead_stages(root, edition["id"])
    stage = _sibling(final, "tmp")
    stage.mkdir()
    try:
        for slug, files in outputs.items():
            folder = stage / slug
            folder.mkdir()
            for name, content in files.items():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)  # variants/KEY/...
                (folder / name).write_bytes(content)
        entries = _carry_over(final, stage)
        entries.update({r.slug: index_entry(r) for r in results})
        rank = {slug: n for n, slug in enumerate(order)}
        listed = sorted(entries.values(), key=lambda e: (rank.get(e["slug"], len(rank)),
                                                         e["slug"]))
        (stage / INDEX).write_bytes(dumps({"edition": edition,
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
    trash = _sibling(final, "old")
    os.rename(final, trash)
    os.rename(stage, final)
    shutil.rmtree(trash, ignore_errors=True)


def _sibling(final: Path, kind: str) -> Path:
    return final.with_name(f".{final.name}.{HOST}.{os.getpid()}.{secrets.token_hex(4)}.{kind}")


def remove_dead_stages(root: Path, edition: str) -> None:
    """Remove staging and trash folders of `edition` left by builds on this machine that died."""
    for folder in root.glob(f".{edition}.*"):
        parts = folder.name[len(edition) + 2:].rsplit(".", 3)
        if len(parts) != 4 or parts[3] not in ("tmp", "old") or not parts[1].isdigit():
            continue
        host, pid = parts[0], int(parts[1])
        if host == HOST and not process_runs(pid):
            shutil.rmtree(folder, ignore_errors=True)
