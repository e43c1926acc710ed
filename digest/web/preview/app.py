"""The preview as an ASGI app: the editor's pages only, live reload running with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware

from digest.settings import Settings
from digest.web.preview.guard import RequireSecret
from digest.web.preview.site import PreviewSite


def create_app(settings: Settings, *, live: bool = True) -> Starlette:
    """The preview app; with `live`, its lifespan watches inputs and outputs (`digest preview`).
    The site is `app.state.site`."""
    site = PreviewSite(settings)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with site.running():
            yield

    # Off loopback every request needs the preview's secret (guard.py); on loopback, none.
    middleware = [] if site.guard.token is None else [Middleware(RequireSecret, guard=site.guard)]
    app = Starlette(routes=site.routes(), lifespan=lifespan if live else None,
                    middleware=middleware)
    app.state.settings = settings
    app.state.site = site
    return app
