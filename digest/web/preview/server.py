"""Serving the preview: bind the port first (so "in use" is a clear message), then run uvicorn.

`digest preview` and `digest build --open` both end here.
"""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable
from urllib.parse import quote

import uvicorn

from digest.settings import Settings
from digest.web.core.sockets import bind
from digest.web.preview.app import create_app
from digest.web.preview.site import PreviewSite


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
    app = create_app(settings)
    server = _PreviewServer(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=3,
            lifespan="on",
        ),
        app.state.site,
    )
    url = f"http://{_url_host(host)}:{bound_port}{quote(open_path or '/')}"
    guard = app.state.site.guard
    if guard.token is None:
        announce(f"Preview: {url}  (Ctrl+C to stop)")
    elif guard.configured:
        announce(f"Preview: {url}  (on {host}, so it asks for its secret: add "
                 "?token=DIGEST_PREVIEW_TOKEN once; Ctrl+C to stop)")
    else:  # printed once: the only place the random secret is ever shown
        announce(f"Preview: {guard.link(url)}  (on {host}, so only browsers that open this "
                 "link get in; Ctrl+C to stop)")
    if open_browser:
        target = guard.link(url)
        threading.Thread(target=_open_when_ready, args=(server, target), daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl+C it handled; the editor asked to stop, so stop quietly
    finally:
        sock.close()


class _PreviewServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, site: PreviewSite) -> None:
        super().__init__(config)
        self.site = site

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Open pages hold event streams forever; end them first or uvicorn waits on them.
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
