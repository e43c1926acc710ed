"""Serving the preview: bind the port first (so "in use" is a clear message), then run uvicorn.

`digest preview` and `digest build --open` both end here.
"""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import uvicorn
from starlette.applications import Starlette

from digest.settings import Settings
from digest.web.app import create_app
from digest.web.preview import PreviewSite
from digest.web.server import bind


def serve_preview(
    settings: Settings,
    open_path: str | None = None,
    open_browser: bool = True,
    port: int | None = None,
    host: str | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the preview until interrupted; `open_path` (e.g. "/preview/2026-W47") is opened
    in the browser once the server answers, unless `open_browser` is false."""
    host = host or settings.preview_host
    port = settings.preview_port if port is None else port
    # The pages check the Host header against the interface they were told to serve on.
    settings = settings.model_copy(update={"preview_host": host})
    sock = bind(host, port, command="preview", backlog=128)
    bound_port = sock.getsockname()[1]
    app = preview_app(settings)
    server = _PreviewServer(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=3,
            lifespan="on",
        ),
        find_site(app),
    )
    url = f"http://{_url_host(host)}:{bound_port}{quote(open_path or '/')}"
    announce(f"Preview: {url}  (Ctrl+C to stop)")
    if open_browser:
        threading.Thread(target=_open_when_ready, args=(server, url), daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl+C it handled; the editor asked to stop, so stop quietly
    finally:
        sock.close()


def preview_app(settings: Settings) -> Starlette:
    """The whole app (the preview and the public part) with live reload attached."""
    app = create_app(settings, preview=True, public=True)
    attach_live(app)
    return app


class _PreviewServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, site: PreviewSite | None) -> None:
        super().__init__(config)
        self.site = site

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Open pages hold event streams forever; end them first or uvicorn waits on them.
        if self.site is not None:
            self.site.hub.close()
        await super().shutdown(sockets)


def _open_when_ready(server: uvicorn.Server, url: str) -> None:
    for _ in range(200):
        if server.started:
            webbrowser.open(url)
            return
        if server.should_exit:
            return
        threading.Event().wait(0.05)


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def find_site(app: Starlette) -> PreviewSite | None:
    """The PreviewSite whose routes `app` serves (create_app builds it from preview_routes)."""
    for route in app.routes:
        owner = getattr(getattr(route, "endpoint", None), "__self__", None)
        if isinstance(owner, PreviewSite):
            return owner
    return None


def attach_live(app: Starlette) -> None:
    """Run the preview's watcher in `app`'s lifespan, around whatever lifespan it already has."""
    site = find_site(app)
    if site is None:
        return
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(target: Any) -> AsyncIterator[Any]:
        async with previous(target) as state, site.running():
            yield state

    app.router.lifespan_context = lifespan
