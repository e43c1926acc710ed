"""What every public form shares: a bounded body read as UTF-8 form fields, the honeypot, rate
limits per client and per address (429 with Retry-After), and the pages for refusing a post."""

from __future__ import annotations

import math
import time
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from digest.settings import Settings
from digest.web.core.bodies import BodyTooLarge, read_limited
from digest.web.public.pages import render_page

FORM_TYPE = "application/x-www-form-urlencoded"
HONEYPOT = "website"  # a field people never see and bots fill in
MAX_VALUES = 200  # fields in one post: the manage page has a few dozen


class Refused(Exception):
    """A post answered with a page of its own (too large, not a form, too many tries)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class Form:
    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.fields = fields

    def get(self, name: str) -> str:
        values = self.fields.get(name) or [""]
        return values[0].strip()

    def all(self, name: str) -> list[str]:
        return [v.strip() for v in self.fields.get(name, []) if v.strip()]

    @property
    def is_bot(self) -> bool:
        """The honeypot was filled in: answer as if all went well, do nothing."""
        return bool(self.get(HONEYPOT))


async def read_form(request: Request, limit: int) -> Form:
    """The posted fields, or Refused with a 413/415/400 page."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in (FORM_TYPE, ""):
        raise Refused(problem(415, "This address takes web forms only."))
    try:
        body = await read_limited(request, limit)
    except BodyTooLarge:
        raise Refused(problem(413, "That was far more than this form sends.",
                              headers={"Connection": "close"})) from None
    if body and not kind:  # an empty form may come without a type; anything else must say
        raise Refused(problem(415, "This address takes web forms only."))
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True,
                          max_num_fields=MAX_VALUES, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise Refused(problem(400, "The form could not be read.")) from None
    return Form(fields)


class RateLimits:
    """Moving windows in memory (one `digest serve` process): DIGEST_SIGNUP_RATE_IP per client
    address, DIGEST_SIGNUP_RATE_ADDRESS per email address, for each kind of request."""

    def __init__(self, settings: Settings) -> None:
        from limits import parse, storage, strategies

        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._per_ip = parse(settings.signup_rate_ip)
        self._per_address = parse(settings.signup_rate_address)

    def client(self, request: Request, scope: str) -> None:
        """Count one request from this client; Refused (429) once it is over its limit."""
        host = request.client.host if request.client else "unknown"
        self._hit(self._per_ip, scope, "ip", host)

    def address(self, scope: str, email: str) -> None:
        self._hit(self._per_address, scope, "address", email)

    def _hit(self, rate: object, *keys: str) -> None:
        if self._limiter.hit(rate, *keys):  # type: ignore[arg-type]
            return
        reset = self._limiter.get_window_stats(rate, *keys).reset_time  # type: ignore[arg-type]
        wait = max(1, math.ceil(reset - time.time()))
        raise Refused(render_page("too_many.html", status_code=429,
                                  response_headers={"Retry-After": str(wait)},
                                  minutes=max(1, math.ceil(wait / 60))))


def problem(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return render_page("problem.html", status_code=status, response_headers=headers,
                       message=message)
