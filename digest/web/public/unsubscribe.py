"""Unsubscribing: RFC 8058 one-click POSTs from mail clients, and the page behind the email's link.

GET never changes anything (mail scanners and link previewers fetch every URL in a message);
any POST with a valid token unsubscribes at once, with no cookie and no further step.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from digest.send.tokens import InvalidToken, verify_token
from digest.settings import Settings
from digest.subscribers import resubscribe, suppress
from digest.web.core.bodies import BodyTooLarge, read_limited
from digest.web.public.db_calls import Writer
from digest.web.public.newsletter_names import NewsletterNames
from digest.web.public.pages import render_page

ONE_CLICK = "One-Click"
MAX_FORM_BYTES = 4096  # the RFC 8058 body is 26 bytes; the page's form a few more


def unsubscribe_routes(settings: Settings, writer: Writer) -> list[Route]:
    key = settings.signing_key()
    names = NewsletterNames(settings.subscribers_dir, writer.engine)

    def holder(request: Request) -> tuple[str, str] | None:
        try:
            email, newsletter = verify_token(key, request.path_params["token"])
        except InvalidToken:
            return None
        return email, newsletter

    def page(
        request: Request, state: str, email: str, newsletter: str, still_blocked: bool = False
    ) -> Response:
        token = request.path_params["token"]
        return render_page(
            "unsubscribe.html",
            state=state,
            still_blocked=still_blocked,
            email=email,
            newsletter=names.title(newsletter),
            unsubscribe_path=request.url_for("unsubscribe", token=token).path,
            resubscribe_path=request.url_for("resubscribe", token=token).path,
        )

    async def show(request: Request) -> Response:
        found = holder(request)
        if found is None:
            return invalid_link()
        return page(request, "confirm", *found)

    async def unsubscribe(request: Request) -> Response:
        found = holder(request)
        if found is None:
            return invalid_link()
        email, newsletter = found
        one_click = await _is_one_click(request)
        source = "one-click" if one_click else "unsubscribe-page"
        await writer.run(suppress, email, newsletter, "unsubscribed", source)
        if one_click:
            # Mail clients ignore the body; keep it tiny and uncacheable.
            return PlainTextResponse("Unsubscribed.\n", headers={"Cache-Control": "no-store"})
        return page(request, "unsubscribed", email, newsletter)

    async def undo(request: Request) -> Response:
        found = holder(request)
        if found is None:
            return invalid_link()
        email, newsletter = found
        result = await writer.run(resubscribe, email, newsletter, "unsubscribe-page")
        # A suppression of every newsletter (a bounce, a complaint) is not the reader's to lift.
        return page(request, "resubscribed", email, newsletter, still_blocked=bool(result.still))

    return [
        Route("/u/{token}", show, methods=["GET"], name="unsubscribe_page"),
        Route("/u/{token}", unsubscribe, methods=["POST"], name="unsubscribe"),
        Route("/u/{token}/resubscribe", undo, methods=["POST"], name="resubscribe"),
    ]


def invalid_link() -> Response:
    """The same short page for every bad token: it says nothing about any address."""
    return render_page("invalid_link.html", status_code=400)


async def _is_one_click(request: Request) -> bool:
    try:
        body = await read_limited(request, MAX_FORM_BYTES)
    except BodyTooLarge:
        return False  # still a POST to a valid link: unsubscribe, answer with the page
    fields = parse_qs(body.decode("latin-1"), keep_blank_values=True)
    return ONE_CLICK in fields.get("List-Unsubscribe", [])
