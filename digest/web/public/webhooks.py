"""POST /webhooks/sendgrid: SendGrid's event webhook, signature-checked, each event stored once.

The whole batch is stored in one transaction before the answer goes (digest/events/store.py),
so a 200 means every event of it is kept; anything else makes SendGrid send the batch again.
"""

from __future__ import annotations

import json
import logging
import time

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from digest.events.links import OwnLinks
from digest.events.store import Batch, parse_batch, store_batch
from digest.settings import Settings
from digest.web.core.bodies import BodyTooLarge, read_limited
from digest.web.public.db_calls import Writer
from digest.web.public.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureCheck,
    load_public_key,
)

log = logging.getLogger("digest.web")


def webhook_mode(settings: Settings) -> str:
    """How the webhook treats requests: signed, unsigned (explicitly allowed) or refused."""
    if settings.sendgrid_webhook_public_key.strip():
        return "signed"
    return "unsigned" if settings.webhook_allow_unsigned else "refused"


def webhook_routes(settings: Settings, writer: Writer, *, announce: bool = True) -> list[Route]:
    mode = webhook_mode(settings)
    check = None
    if mode == "signed":  # a bad key stops the server here, not at the first event
        key = load_public_key(settings.sendgrid_webhook_public_key)
        check = SignatureCheck(key, settings.webhook_max_age_seconds)
    elif announce and mode == "refused":
        log.warning(
            "POST /webhooks/sendgrid refuses every request (503): set "
            "DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY to SendGrid's verification key"
        )
    elif announce:
        log.warning(
            "POST /webhooks/sendgrid accepts UNSIGNED events (DIGEST_WEBHOOK_ALLOW_UNSIGNED): "
            "anyone who can reach it can suppress addresses"
        )
    limit = settings.webhook_max_body_bytes
    links = OwnLinks(settings.base_url)
    soft_bounce_limit = settings.soft_bounce_limit

    def checked(body: bytes, signature: str | None, timestamp: str | None) -> Batch | Response:
        # CPU work (the signature over the whole body, JSON, each event's checks): in a worker
        # thread, so the event loop keeps answering, and outside the database's write queue.
        if check is not None:
            problem = check.failure(signature, timestamp, body, time.time())
            if problem:
                log.warning("refused a SendGrid webhook request: %s", problem)
                return _error(403, "signature check failed")
        try:
            events = json.loads(body)
        except (ValueError, RecursionError):  # also bytes that are not UTF-8, or [[[[...
            return _error(400, "the body is not JSON")
        if not isinstance(events, list):
            return _error(400, "the body is not a JSON array of events")
        return parse_batch(events, links)

    async def sendgrid_events(request: Request) -> Response:
        if mode == "refused":
            return _error(503, "the webhook is disabled: no verification key is configured")
        try:
            body = await read_limited(request, limit)
        except BodyTooLarge:
            return _error(413, f"the body passes {limit} bytes")
        batch = await run_in_threadpool(
            checked, body, request.headers.get(SIGNATURE_HEADER),
            request.headers.get(TIMESTAMP_HEADER),
        )
        if isinstance(batch, Response):
            return batch
        try:
            report = await writer.run(store_batch, batch, soft_bounce_limit)
        except OperationalError as exc:  # the database is away or locked: SendGrid retries
            log.error("could not store a SendGrid webhook batch: %s", exc.orig)
            return _error(503, "the events could not be stored now; try again later")
        return JSONResponse(report.as_dict())

    return [Route("/webhooks/sendgrid", sendgrid_events, methods=["POST"], name="sendgrid_events")]


def _error(status: int, message: str) -> Response:
    # Connection: close so a refused upload need not be drained before the socket is reused.
    headers = {"Connection": "close"} if status == 413 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)
