"""Assemble the ASGI app from its parts: the preview (editors, localhost) and the public routes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from digest.settings import Settings


def create_app(settings: Settings, *, preview: bool = False, public: bool = True) -> Starlette:
    """`digest serve` mounts the public part only; `digest preview` mounts both."""
    routes: list[BaseRoute] = []
    if preview:
        from digest.web.preview import preview_routes

        routes += preview_routes(settings)
    if public:
        from digest.web.public import public_routes

        routes += public_routes(settings, announce=not preview)
    app = Starlette(routes=routes)
    app.state.settings = settings
    return app
