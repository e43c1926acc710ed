"""The public site's routes, what `digest serve` exposes: unsubscribe, sign-up and the manage
page, the provider's event webhook, the archive of past editions and a health check."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from digest.archive import connect
from digest.settings import Settings
from digest.web.public.archive_routes import archive_routes
from digest.web.public.db_calls import Writer
from digest.web.public.pages import render_page
from digest.web.public.readers import reader_routes
from digest.web.public.unsubscribe import unsubscribe_routes
from digest.web.public.webhooks import webhook_routes

log = logging.getLogger("digest.web")


def public_routes(settings: Settings, *, announce: bool = True) -> list[BaseRoute]:
    """The public endpoints; `announce` logs how the webhook is set up."""
    engine = connect(settings.database)
    writer = Writer(engine)  # one write queue for unsubscribes and webhook events alike

    async def unsubscribe_help(request: Request) -> Response:
        return render_page(
            "unsubscribe_help.html",
            response_headers={"Cache-Control": "public, max-age=3600"},
            publisher=settings.publisher_name,
            archive_path=request.url_for("archive").path,
        )

    async def root(request: Request) -> Response:
        return RedirectResponse(request.url_for("archive").path, status_code=307)

    async def healthz(request: Request) -> Response:
        healthy = await run_in_threadpool(_database_answers, engine)
        if not healthy:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    return [
        *unsubscribe_routes(settings, writer),
        *reader_routes(settings, writer),
        *webhook_routes(settings, writer, announce=announce),
        *archive_routes(settings, engine),
        Route("/unsubscribe", unsubscribe_help, methods=["GET"], name="unsubscribe_help"),
        Route("/healthz", healthz, methods=["GET"], name="healthz"),
        Route("/", root, methods=["GET"], name="public_root"),
    ]


def _database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the details go to the server log
        log.warning("health check: the database does not answer (%s)", type(exc).__name__)
        return False
    return True
