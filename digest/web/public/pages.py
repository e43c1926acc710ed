"""The public pages' HTML: small autoescaped Jinja2 templates, no scripts, nothing remote."""

from __future__ import annotations

from pathlib import Path

from digest.web.core.pages import Pages

# The unsubscribe pages carry a personal token in their URL: no-referrer keeps it from leaking
# to any site a reader goes on to; no-store keeps it out of shared caches.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

PAGES = Pages(Path(__file__).parent / "templates", PAGE_HEADERS, strict=True)
render_page = PAGES.render
