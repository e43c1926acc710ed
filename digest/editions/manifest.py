"""The JSON `digest build` writes: manifest.json of each newsletter, the edition's index.json.

JSON has a fixed key order and no times: same inputs, same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from digest.curate import LeftOut, Pick, Selection
from digest.models import iso
from digest.render import Fitted

if TYPE_CHECKING:
    from digest.build import NewsletterResult


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
             url_of: Callable[[Pick], str], edition: dict[str, Any] | None = None) -> bytes:
    """manifest.json: the edition (its window; by default the selection's), every decision
    with its reason, summaries, sizes, warnings."""
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
    }
    return dumps(data)


def index_entry(result: NewsletterResult) -> dict[str, Any]:
    return {"slug": result.slug, "title": result.title, "subject": result.subject,
            "status": result.status, "articles": result.articles,
            "more_this_week": result.more, "html_bytes": result.html_bytes,
            "warnings": len(result.warnings), "path": f"{result.slug}/"}
