"""Sign-up with double opt-in: the form, its post, and the confirmation page.

    GET  /subscribe/{slug}     the form (address, name, the newsletter's topics)
    POST /subscribe/{slug}     a pending sign-up and its confirmation email; the same answer
                               whatever the address's state (new, pending, subscribed,
                               suppressed, erased), so the form tells nobody who is on a list
    GET  /confirm/{token}      the page with the button (a GET confirms nothing: mail scanners
                               open every link in a message)
    POST /confirm/{token}      the button: on the list from the next send

A publisher's own site may post to /subscribe/{slug} from a form of its own (README).
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digest.errors import DigestError
from digest.send.notice import send_notice
from digest.send.tokens import InvalidToken
from digest.settings import Settings
from digest.subscribers import BadAddress, clean_name, normalise_email
from digest.subscribers.catalogue import Catalogue, Offer
from digest.subscribers.links import (
    LinkExpired,
    confirm_token,
    link_for,
    read_confirm_token,
)
from digest.subscribers.mails import confirmation
from digest.subscribers.signup import Pending, confirm_signup, pending_signup, request_signup
from digest.subscribers.topics import split_key, topics_key
from digest.web.public.db_calls import Writer
from digest.web.public.forms import RateLimits, Refused, read_form
from digest.web.public.pages import render_page

log = logging.getLogger("digest.web")
MAX_NAME = 200


def signup_routes(settings: Settings, writer: Writer, catalogue: Catalogue,
                  limits: RateLimits) -> list[Route]:
    key = settings.signing_key()
    engine = writer.engine

    def form_page(request: Request, offer: Offer, *, status: int = 200, email: str = "",
                  name: str = "", chosen: tuple[str, ...] = (), error: str = "") -> Response:
        return render_page("subscribe.html", status_code=status, offer=offer, email=email,
                           reader_name=name, chosen=chosen, error=error,
                           action=request.url_for("subscribe", slug=offer.slug).path,
                           publisher=settings.publisher_name)

    async def show(request: Request) -> Response:
        offer = catalogue.get(request.path_params["slug"])
        if offer is None:
            return _no_such_newsletter()
        return form_page(request, offer)

    async def subscribe(request: Request) -> Response:
        offer = catalogue.get(request.path_params["slug"])
        if offer is None:
            return _no_such_newsletter()
        try:
            form = await read_form(request, settings.public_form_max_bytes)
            limits.client(request, "subscribe")
            if form.is_bot:
                return _sent(offer, form.get("email"))
            raw, name = form.get("email"), clean_name(form.get("name"))[:MAX_NAME]
            chosen = tuple(t for t in offer.topic_slugs if t in form.all("topics"))
            try:
                email = normalise_email(raw)
            except BadAddress:
                return form_page(request, offer, status=400, email=raw[:320], name=name,
                                 chosen=chosen, error="Enter an email address such as "
                                 "name@example.com.")
            limits.address("subscribe", email)
        except Refused as refused:
            return refused.response
        pending = await writer.run(request_signup, offer.slug, email, name, topics_key(chosen))
        try:
            await run_in_threadpool(_send_confirmation, pending, offer)
        except DigestError as exc:
            log.error("could not send the confirmation of a sign-up to %s: %s", offer.slug, exc)
            return render_page("problem.html", status_code=503,
                               response_headers={"Retry-After": "120"},
                               message="We could not send the confirmation email just now. "
                               "Please try again in a few minutes.")
        return _sent(offer, email)

    def _send_confirmation(pending: Pending, offer: Offer) -> str:
        url = f"{settings.base_url.rstrip('/')}/confirm/{confirm_token(key, pending.nonce)}"
        notice = confirmation(
            settings, to=pending.email, name=pending.name, title=offer.title,
            topics=offer.topic_names(split_key(pending.topics)), confirm_url=url,
            already=pending.already,
            manage_url=link_for(engine, key, settings.base_url, pending.email))
        return send_notice(settings, notice)

    def _sent(offer: Offer, email: str) -> Response:
        return render_page("subscribe_sent.html", offer=offer, email=email[:320],
                           hours=settings.confirm_hours)

    def nonce_of(request: Request) -> str | Response:
        """The pending sign-up a confirmation link names, or the page refusing the link."""
        try:
            nonce = read_confirm_token(key, request.path_params["token"], settings.confirm_hours)
        except InvalidToken:
            return render_page("bad_link.html", status_code=400, kind="confirm")
        except LinkExpired:
            return render_page("bad_link.html", status_code=410, kind="expired")
        return nonce

    async def confirm_page(request: Request) -> Response:
        nonce = nonce_of(request)
        if isinstance(nonce, Response):
            return nonce
        pending = await run_in_threadpool(pending_signup, engine, nonce)
        offer = catalogue.get(pending.newsletter) if pending else None
        if pending is None or offer is None:
            return render_page("bad_link.html", status_code=410, kind="used")
        return render_page("confirm.html", offer=offer, email=pending.email,
                           topics=offer.topic_names(split_key(pending.topics)),
                           action=request.url_for("confirm", token=request.path_params["token"])
                           .path)

    async def confirm(request: Request) -> Response:
        nonce = nonce_of(request)
        if isinstance(nonce, Response):
            return nonce
        try:
            await read_form(request, settings.public_form_max_bytes)
            limits.client(request, "confirm")
        except Refused as refused:
            return refused.response
        offers = catalogue.offers()
        pending = await run_in_threadpool(pending_signup, engine, nonce)
        offer = offers.get(pending.newsletter) if pending else None
        if pending is None or offer is None:
            return render_page("bad_link.html", status_code=410, kind="used")
        done = await writer.run(confirm_signup, key, nonce, list(offers),
                                bool(offer.topics))
        if done is None:
            return render_page("bad_link.html", status_code=410, kind="used")
        manage = await run_in_threadpool(link_for, engine, key, settings.base_url, done.email)
        return render_page("confirmed.html", offer=offer, email=done.email,
                           topics=offer.topic_names(split_key(done.topics)), manage_url=manage)

    return [
        Route("/subscribe/{slug}", show, methods=["GET"], name="subscribe_page"),
        Route("/subscribe/{slug}", subscribe, methods=["POST"], name="subscribe"),
        Route("/confirm/{token}", confirm_page, methods=["GET"], name="confirm_page"),
        Route("/confirm/{token}", confirm, methods=["POST"], name="confirm"),
    ]


def _no_such_newsletter() -> Response:
    return render_page("problem.html", status_code=404,
                       message="There is no such newsletter. Check the address of this page.")

