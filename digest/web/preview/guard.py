"""Who may use the preview: the editor's own browser tab, and off loopback only with its secret.

- On 127.0.0.1 (the default) the Host check in site.py keeps other sites' pages out.
- Bound to any other interface, anyone on the network could read the drafts and send tests:
  every request must then carry the preview's secret (DIGEST_PREVIEW_TOKEN, or a random one
  made at start-up and printed once as a link). `?token=` on any URL trades it for an HttpOnly,
  SameSite=Strict cookie and redirects to the same URL without it; anything else gets 401.
- Every POST, on loopback too, needs this page's Origin *and* the CSRF token that the page's own
  forms carry: a form on another site has neither.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from digest.settings import Settings

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
COOKIE = "digest_preview"
CSRF_FIELD = "csrf"


class Guard:
    def __init__(self, token: str | None, *, configured: bool = False) -> None:
        self.token = token  # None: loopback, no secret asked
        self.configured = configured  # DIGEST_PREVIEW_TOKEN, which is never printed
        self.csrf = secrets.token_urlsafe(32)  # per server run: a reload picks up a new one
        # The cookie holds a value derived from the secret, not the secret itself.
        self._cookie = (
            hmac.new(token.encode(), b"digest preview session", hashlib.sha256).hexdigest()
            if token else ""
        )

    @classmethod
    def for_settings(cls, settings: Settings) -> Guard:
        configured = settings.preview_token.get_secret_value()
        if configured:
            return cls(configured, configured=True)
        return cls(None if settings.preview_host in LOOPBACK else secrets.token_urlsafe(24))

    def link(self, url: str) -> str:
        """`url` with the secret, the link that signs a browser in."""
        if self.token is None:
            return url
        return f"{url}{'&' if '?' in url else '?'}{urlencode({'token': self.token})}"

    def signed_in(self, request: Request) -> bool:
        # As bytes: compare_digest refuses str with non-ASCII, and a cookie may hold anything.
        offered = request.cookies.get(COOKIE, "").encode("utf-8", "replace")
        return hmac.compare_digest(offered, self._cookie.encode())

    def sign_in(self, request: Request) -> Response:
        """A request with `?token=`: the cookie and a redirect without the token, or 401."""
        offered = request.query_params.get("token", "").encode("utf-8", "replace")
        if not hmac.compare_digest(offered, (self.token or "").encode()):
            return _unauthorised("that is not this preview's token")
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, self._cookie, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        return response

    async def refuse_post(self, request: Request) -> Response | None:
        """403 unless the POST carries this page's Origin and the forms' CSRF token."""
        own = f"{request.url.scheme}://{request.url.netloc}"
        if request.headers.get("origin") != own:
            return PlainTextResponse("cross-site request refused: a POST must come from this "
                                     "preview's own pages", status_code=403)
        try:
            form = await request.form()
        except Exception:  # a body that is no form at all (Starlette raises several kinds)
            return PlainTextResponse("the request body is not a form", status_code=400)
        offered = str(form.get(CSRF_FIELD, "")).encode("utf-8", "replace")
        if not hmac.compare_digest(offered, self.csrf.encode()):
            return PlainTextResponse("this form is out of date or was not made by the preview: "
                                     "reload the page and try again", status_code=403)
        return None


class RequireSecret:
    """ASGI middleware: 401 for any HTTP request without the secret (see the module's doc)."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if "token" in request.query_params:
            response = self.guard.sign_in(request)
        elif self.guard.signed_in(request):
            await self.app(scope, receive, send)
            return
        else:
            response = _unauthorised("this preview is shared on the network and needs its token")
        await response(scope, receive, send)


def _unauthorised(why: str) -> Response:
    return PlainTextResponse(
        f"401: {why}. Open the link `digest preview` printed when it started "
        "(or add ?token= with DIGEST_PREVIEW_TOKEN to the address).",
        status_code=401,
        headers={"Cache-Control": "no-store"},
    )
