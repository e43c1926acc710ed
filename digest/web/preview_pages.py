"""The preview's HTML: autoescaped Jinja2 pages under templates/preview, plus their filters."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from digest.web.editions import GMAIL_CLIP_BYTES

TEMPLATES = Path(__file__).parent / "templates" / "preview"
STATIC = Path(__file__).parent / "static" / "preview"

# Pages load their script and stylesheet from this server only; the email itself lives in a
# sandboxed frame served with its own, stricter policy (see preview.EMAIL_HEADERS).
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


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["kb"] = kilobytes
    env.filters["tag_label"] = tag_label
    env.filters["title_of"] = title_of
    env.globals["clip_bytes"] = GMAIL_CLIP_BYTES
    env.globals["size_level"] = size_level
    return env


def render_page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
