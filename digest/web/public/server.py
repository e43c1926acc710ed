"""Running the public app under uvicorn: `digest serve`."""

from __future__ import annotations

from collections.abc import Callable

from digest.settings import Settings
from digest.web.core.sockets import bind, root_path


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    access_log: bool = True,
    ready: Callable[[], None] | None = None,
) -> None:
    """Serve the public endpoints until interrupted (Ctrl+C or SIGTERM); `ready` runs once the
    port is bound."""
    import uvicorn

    from digest.web.public.app import create_app

    app = create_app(settings)  # a bad setting fails before binding
    _purge_pending(settings)
    sock = bind(host, port)
    if ready is not None:
        ready()
    config = uvicorn.Config(
        app,
        proxy_headers=True,
        forwarded_allow_ips=settings.serve_forwarded_allow_ips,
        root_path=root_path(settings.base_url),
        access_log=access_log,
        server_header=False,
        log_level="info",
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


def _purge_pending(settings: Settings) -> None:
    """Sign-ups never confirmed go at start-up (and at every `digest subscribers sync`)."""
    import logging

    from digest.archive import connect
    from digest.subscribers.signup import purge_pending

    purged = purge_pending(connect(settings.database), settings.pending_days)
    if purged:
        logging.getLogger("digest.web").info(
            "deleted %d sign-up(s) never confirmed in %d days", purged, settings.pending_days)
