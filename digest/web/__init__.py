"""The web part: one Starlette app with the editor's preview and/or the public endpoints."""

from digest.web.app import create_app

__all__ = ["create_app"]
