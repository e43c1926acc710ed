"""The client-support table: ours (data/support.json), or caniemail's newer data when the
publisher has imported it (`digest import-caniemail`, into DATA_DIR/caniemail-support.json).

An imported table brings the support facts; our notes (impact, what degrades, whether MJML's
Outlook tables stand in) still apply to the features we describe. See data/CREDITS.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

PACKAGED = Path(__file__).resolve().parent / "data" / "support.json"
IMPORTED = "caniemail-support.json"
OUR_NOTES = ("impact", "degrades", "partial", "mso")


@dataclass(frozen=True)
class Feature:
    slug: str
    title: str
    support: dict[str, str]  # client -> yes | partial | no | unknown
    notes: dict[str, str] = field(default_factory=dict)  # client -> which platforms fall short
    impact: str = "cosmetic"  # layout (warning when unsupported) | cosmetic (info) | none
    degrades: str = ""  # what a reader sees where it is not supported
    partial: str = ""  # what degrades where it is partly supported (reported only if said)
    mso: bool = False  # MJML's Outlook-only tables stand in for it in Outlook for Windows


@dataclass
class Table:
    clients: dict[str, str]
    features: dict[str, Feature]
    source: dict[str, Any]
    path: str

    @cached_property
    def known(self) -> frozenset[str]:
        return frozenset(self.features)


def load_table(data_dir: Path) -> Table:
    imported = data_dir / IMPORTED
    try:
        stamp = imported.stat().st_mtime_ns
    except OSError:
        stamp = None
    return _load(str(imported) if stamp is not None else None, stamp)


@lru_cache(maxsize=4)
def _load(imported: str | None, stamp: int | None) -> Table:
    ours = json.loads(PACKAGED.read_text(encoding="utf-8"))
    features = dict(ours["features"])
    source, path, clients = ours["source"], str(PACKAGED), ours["clients"]
    if imported is not None:
        try:
            theirs = json.loads(Path(imported).read_text(encoding="utf-8"))
            newer = theirs["features"]
        except (OSError, ValueError, KeyError, TypeError):
            newer = None  # unreadable: ours still works (digest check says nothing worse)
        if isinstance(newer, dict):
            for slug, entry in newer.items():
                notes = {k: v for k, v in features.get(slug, {}).items() if k in OUR_NOTES}
                features[slug] = {**entry, **notes}
            source, path = theirs.get("source", {}), imported
            clients = theirs.get("clients") or clients
    return Table(clients, {slug: _feature(slug, e) for slug, e in features.items()
                           if isinstance(e, dict)}, source, path)


def _feature(slug: str, entry: dict[str, Any]) -> Feature:
    return Feature(
        slug=slug,
        title=str(entry.get("title") or slug),
        support={str(k): str(v) for k, v in (entry.get("support") or {}).items()},
        notes={str(k): str(v) for k, v in (entry.get("notes") or {}).items()},
        impact=str(entry.get("impact") or "cosmetic"),
        degrades=str(entry.get("degrades") or ""),
        partial=str(entry.get("partial") or ""),
        mso=bool(entry.get("mso")),
    )
