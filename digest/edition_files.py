"""The edition folder `digest build` writes: manifests, the index, and the atomic swap.

    OUT/EDITION/index.json            {"edition": {...}, "build": {overrides given},
                                       "newsletters": [{"slug", "title", "subject", ...}, ...]}
    OUT/EDITION/SLUG/email.html       final inlined HTML (placeholders for personal values)
    OUT/EDITION/SLUG/email.txt        plain-text part
    OUT/EDITION/SLUG/email.mjml       the MJML it was compiled from
    OUT/EDITION/SLUG/manifest.json    what was picked or left out and why, sizes, warnings

The new edition is assembled in a hidden sibling folder and renamed into place; newsletters
not rebuilt this time (and anything else kept in the edition folder, such as a send's outbox)
are carried over, as is anything besides the four build files inside a rebuilt newsletter's
folder. JSON has a fixed key order and no times: same inputs, same bytes.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest.curate import LeftOut, Pick, Selection, Window
from digest.models import iso
from digest.render import Fitted

if TYPE_CHECKING:
    from digest.build import NewsletterResult


BUILD_FILES = {"email.html", "email.txt", "email.mjml", "manifest.json"}


_ENCODER = json.JSONEncoder(ensure_ascii=False)


def dumps(data: dict[str, Any]) -> bytes:
    """JSON with one top-level key a line and one list item a line: readable and diffable
    (golden files), yet encoded by json's C encoder (indent= would use the slow Python one,
    and a big week's manifest lists thousands of left-out articles)."""
    def one(value: Any) -> str:
        return value.to_json() if isinstance(value, LeftOut) else _ENCODER.encode(value)

    lines = []
    for key, value in data.items():
        if isinstance(value, list) and value:
            items = ",\n    ".join(map(one, value))
            lines.append(f"  {one(key)}: [\n    {items}\n  ]")
        else:
            lines.append(f"  {one(key)}: {one(value)}")
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode()


def manifest(selection: Selection, fitted: Fitted, warnings: list[str], view_url: str,
             url_of: Callable[[Pick], str]) -> bytes:
    """manifest.json: the window, every decision with its reason, summaries, sizes, warnings."""
    newsletter, email = selection.newsletter, fitted.email
    sections = {id(p): s.title for s in selection.sections([e.pick for e in fitted.entries])
                for p in s.picks}
    articles = []
    for entry in sorted(fitted.entries, key=lambda e: e.pick.rank):
        pick, article, summary = entry.pick, entry.pick.article, entry.summary
        articles.append({
            "id": article.id,
            "title": article.title,
            "url": url_of(pick),
            "rank": pick.rank,
            "reason": pick.reason,
            "matched_tags": pick.matched,
            "tags": [{"slug": t.slug, "name": t.name, "inferred": t.inferred} for t in pick.tags],
            "section": sections.get(id(pick), ""),
            "kind": article.kind,
            "authors": article.authors,
            "published_at": iso(article.published_at),
            "pinned": pick.pinned,
            "folded": pick.folded,
            "summary": summary.text,
            "summary_method": summary.method,
            "summary_words": summary.words,
        })
    more = [{"id": e.pick.article.id, "title": e.pick.article.title, "url": url_of(e.pick),
             "rank": e.pick.rank, "reason": "moved to 'More this week' to fit the size budget"}
            for e in fitted.more]
    data = {
        "edition": selection.window.to_dict(),
        "newsletter": {"slug": newsletter.slug, "title": newsletter.title,
                       "description": newsletter.description, "from_name": newsletter.from_name},
        "subject": email.subject,
        "preheader": email.preheader,
        "quiet_week": not selection.picks,
        "articles": articles,
        "more_this_week": more,
        "left_out": selection.left_out,
        "sizes": email.sizes(),
        "warnings": warnings,
        "view_url": view_url,
    }
    return dumps(data)


def index_entry(result: NewsletterResult) -> dict[str, Any]:
    return {"slug": result.slug, "title": result.title, "subject": result.subject,
            "status": result.status, "articles": result.articles,
            "more_this_week": result.more, "html_bytes": result.html_bytes,
            "warnings": len(result.warnings), "path": f"{result.slug}/"}


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
        (stage / "index.json").write_bytes(dumps({"edition": window.to_dict(),
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
        old = json.loads((final / "index.json").read_text(encoding="utf-8"))
        for entry in old.get("newsletters", []):
            if isinstance(entry, dict) and entry.get("slug") not in rebuilt:
                kept[entry["slug"]] = entry
    except (OSError, ValueError, AttributeError):
        pass
    _copy_missing(final, stage, skip={"index.json"})
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
