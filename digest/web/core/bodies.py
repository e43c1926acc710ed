"""Reading request bodies with a ceiling, so a huge upload is refused before it is read."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLarge(Exception):
    """The request announced or sent more bytes than the endpoint accepts."""


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, or BodyTooLarge as soon as it is known to pass `limit` bytes.

    A Content-Length over the limit is refused without reading a byte; a chunked body is read
    only until it crosses the limit.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLarge
        except ValueError:
            raise BodyTooLarge from None  # unparsable length: refuse rather than guess
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise BodyTooLarge
    return bytes(received)
