"""The preview's HTML: autoescaped Jinja2 pages under templates/, plus their filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from digest.render.budget import GMAIL_CLIP_BYTES
from digest.web.core.pages import Pages

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

# Pages load their script and stylesheet from this server only; the email itself lives in a
# sandboxed frame served with its own, stricter policy (see site.EMAIL_HEADERS).
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "frame-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on the
    # page's own form posts, which the cross-site check must refuse.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def kilobytes(size: int | float | None) -> str:
    if not size:
        return "0 KB"
    return f"{size / 1024:.1f} KB"


def size_level(size: int, warn_kb: float) -> str:
    """ok / warn / clip: the colour of a size, against the warning setting and Gmail's clip line."""
    if size >= GMAIL_CLIP_BYTES:
        return "clip"
    return "warn" if size >= warn_kb * 1024 else "ok"


def tag_label(tag: Any) -> tuple[str, bool, str]:
    """(name, inferred, slug) of a tag, whether the manifest stores a slug or a record."""
    if isinstance(tag, dict):
        slug = str(tag.get("slug") or "")
        return str(tag.get("name") or slug or "?"), bool(tag.get("inferred")), slug
    return str(tag), False, str(tag)


def title_of(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry.get("title") or entry.get("id") or "")
    return str(entry)


PAGES = Pages(
    TEMPLATES,
    PAGE_HEADERS,
    filters={"kb": kilobytes, "tag_label": tag_label, "title_of": title_of},
    globals={"clip_bytes": GMAIL_CLIP_BYTES, "size_level": size_level},
)
render_page = PAGES.render
