"""The JSON `digest build` writes: manifest.json of each newsletter, the edition's index.json.

JSON has a fixed key order and no times: same inputs, same bytes.
"""

from __future__ import annotations

import json
import operator
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest.editions.layout import MANIFEST
from digest.models import iso

if TYPE_CHECKING:
    from digest.build import NewsletterResult
    from digest.curate import Pick, Selection
    from digest.render import Fitted


_ENCODER = json.JSONEncoder(ensure_ascii=False)
_JSON_OF = operator.attrgetter("json")


def dumps(data: dict[str, Any]) -> bytes:
    """JSON with one top-level key a line and one list item a line: readable and diffable
    (golden files), yet encoded by json's C encoder (indent= would use the slow Python one,
    and a big week's manifest lists thousands of left-out articles)."""
    encode = _ENCODER.encode
    parts = []  # joined once: a big week's manifest is megabytes, each copy of it costs
    for key, value in data.items():
        parts.append(",\n  " if parts else "{\n  ")
        if isinstance(value, list) and value:
            parts += [encode(key), ": [\n    ", ",\n    ".join(_items(value)), "\n  ]"]
        else:
            parts += [encode(key), ": ", encode(value)]
    parts.append("\n}\n" if parts else "{\n\n}\n")
    return "".join(parts).encode()


def _items(values: list[Any]) -> list[str]:
    """Each item as JSON. Left-out decisions (digest.curate.LeftOut) carry theirs, made once;
    duck-typed so that reading and rewriting a manifest (digest check) needs none of the
    build's modules."""
    try:
        return list(map(_JSON_OF, values))
    except AttributeError:  # plain values (or a mix)
        return [getattr(v, "json", None) or _ENCODER.encode(v) for v in values]


def manifest(selection: Selection, fitted: Fitted, warnings: list[str], view_url: str,
             url_of: Callable[[Pick], str], edition: dict[str, Any] | None = None) -> bytes:
    """manifest.json: the edition (its window; by default the selection's), every decision
    with its reason, summaries, sizes, warnings."""
    return dumps(manifest_data(selection, fitted, warnings, view_url, url_of, edition))


def manifest_data(selection: Selection, fitted: Fitted, warnings: list[str], view_url: str,
                  url_of: Callable[[Pick], str], edition: dict[str, Any] | None = None,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """What manifest.json holds, before it is encoded (the build adds the checks' findings);
    `extra` adds the topics and variants of a newsletter that offers topics (variants.py)."""
    newsletter, email = selection.newsletter, fitted.email
    sections = {id(p): s.title for s in selection.sections([e.pick for e in fitted.entries])
                for p in s.picks}
    articles = []
    for entry in sorted(fitted.entries, key=lambda e: e.pick.rank):
        pick, article, summary = entry.pick, entry.pick.article, entry.summary
        item = {
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
        }
        verdict = getattr(summary, "model", None)
        if verdict is not None:  # only when a model was asked: default builds are unchanged
            item["summary_model"] = verdict.to_dict()
        articles.append(item)
    more = [{"id": e.pick.article.id, "title": e.pick.article.title, "url": url_of(e.pick),
             "rank": e.pick.rank, "reason": "moved to 'More this week' to fit the size budget"}
            for e in fitted.more]
    data = {
        "edition": edition or selection.window.to_dict(),
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
        **(extra or {}),
    }
    return data


def update_manifest(folder: Path, **changes: Any) -> None:
    """Set top-level keys of a built newsletter's manifest.json (`digest check` records its
    findings this way), written whole to a temporary file and renamed over the old one."""
    path = folder / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    staged = path.with_name(f".{MANIFEST}.{secrets.token_hex(4)}.tmp")
    staged.write_bytes(dumps(data))
    os.replace(staged, path)


def index_entry(result: NewsletterResult) -> dict[str, Any]:
    return {"slug": result.slug, "title": result.title, "subject": result.subject,
            "status": result.status, "articles": result.articles,
            "more_this_week": result.more, "html_bytes": result.html_bytes,
            "warnings": len(result.warnings), "checks": result.checks,
            "variants": sum(v.status == "built" for v in result.variants),  # renders by topics
            "path": f"{result.slug}/"}
