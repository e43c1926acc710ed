"""The public site as an ASGI app: what `digest serve` runs."""

from __future__ import annotations

from starlette.applications import Starlette

from digest.settings import Settings
from digest.web.public.routes import public_routes


def create_app(settings: Settings, *, announce: bool = True) -> Starlette:
    """The public app; `announce` logs how the webhook is set up."""
    app = Starlette(routes=public_routes(settings, announce=announce))
    app.state.settings = settings
    return app
