"""The preference centre: what a reader can do from the "Manage your subscription" link.

    GET  /manage                     ask for one's manage link by email (a lost or replaced one)
    POST /manage                     mails it if the address is on a list; the same answer, and
                                     the same time taken, either way (sent after the response)
    GET  /manage/{token}             newsletters, topics, pause, data, erasure
    POST /manage/{token}/save        join or leave newsletters, choose topics
    POST /manage/{token}/pause       no mail until a date    .../resume   mail again now
    POST /manage/{token}/leave-all   unsubscribe from everything
    POST /manage/{token}/data        download everything on file, as JSON
    POST /manage/{token}/erase       erase it (a keyed hash stays, so no CSV brings it back)
    POST /manage/{token}/new-link    revoke this link; a new one is mailed to the address

Every form carries a CSRF field: the browser's session cookie (SameSite, HttpOnly) and the
address, signed. A manage link never expires; one that leaked is revoked by "new link" (or
`digest subscribers link ADDRESS --revoke`), after which it shows the page to ask for a new one.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from digest.archive.schema import subscribers, suppressions
from digest.errors import DigestError
from digest.send.notice import send_notice
from digest.send.tokens import InvalidToken, read_manage_token
from digest.settings import Settings
from digest.subscribers import BadAddress, normalise_email
from digest.subscribers.catalogue import Catalogue
from digest.subscribers.erasure import erase, erase_outbox_files, is_erased
from digest.subscribers.links import (
    csrf_ok,
    csrf_token,
    current_version,
    manage_url,
    revoke,
)
from digest.subscribers.mails import manage_link
from digest.subscribers.preferences import (
    Choice,
    Person,
    apply_choices,
    export,
    leave_all,
    pause,
    person,
)
from digest.web.public.db_calls import Writer
from digest.web.public.forms import Form, RateLimits, Refused, read_form
from digest.web.public.pages import render_page

log = logging.getLogger("digest.web")
SESSION = "digest_session"
_SESSION_RE = re.compile(r"[A-Za-z0-9_-]{22,64}")
SOURCE = "manage"
MAX_PAUSE_DAYS = 366
DONE = {
    "saved": "Your choices are saved.",
    "paused": "Your emails are paused.",
    "resumed": "Your emails start again from the next edition.",
    "left": "You are unsubscribed from every newsletter.",
}


@dataclass
class Reader:
    email: str
    token: str
    person: Person


def manage_routes(settings: Settings, writer: Writer, catalogue: Catalogue,
                  limits: RateLimits) -> list[Route]:
    key = settings.signing_key()
    engine = writer.engine
    secure = settings.base_url.lower().startswith("https://")

    async def reader_of(request: Request) -> Reader | Response:
        token = request.path_params["token"]
        try:
            email, version = read_manage_token(key, token)
        except InvalidToken:
            return render_page("bad_link.html", status_code=400, kind="manage")
        state = await run_in_threadpool(_look_up, engine, key, email)
        if state is None:
            return render_page("erased.html", status_code=410, done=False)
        current, found = state
        if version != current:
            return render_page("bad_link.html", status_code=410, kind="replaced",
                               request_path=request.url_for("manage_request").path)
        return Reader(email, token, found)

    def page(request: Request, reader: Reader, *, status: int = 200, done: str = "",
             errors: dict[str, str] | None = None,
             entered: dict[str, str] | None = None) -> Response:
        session = _session(request)
        offers = list(catalogue.offers().values())
        today = datetime.now(UTC).date()
        path = request.url_for("manage", token=reader.token).path
        response = render_page(
            "manage.html", status_code=status, email=reader.email, person=reader.person,
            offers=offers, csrf=csrf_token(key, session, reader.email), path=path,
            done=DONE.get(done, ""), errors=errors or {}, entered=entered or {},
            publisher=settings.publisher_name,
            earliest=(today + timedelta(days=1)).isoformat(),
            latest=(today + timedelta(days=MAX_PAUSE_DAYS)).isoformat())
        if request.cookies.get(SESSION) != session:
            response.set_cookie(SESSION, session, httponly=True, samesite="lax", secure=secure,
                                path="/manage")
        return response

    async def posted(request: Request) -> tuple[Reader, Form] | Response:
        """The reader and the form of a manage-page post, or the page refusing it."""
        reader = await reader_of(request)
        if isinstance(reader, Response):
            return reader
        try:
            form = await read_form(request, settings.public_form_max_bytes)
        except Refused as refused:
            return refused.response
        session = request.cookies.get(SESSION, "")
        if not _SESSION_RE.fullmatch(session) or not csrf_ok(key, form.get("csrf"), session,
                                                             reader.email):
            return render_page("problem.html", status_code=403,
                               message="This form has expired or did not come from our page. "
                               "Open your manage link again and repeat the change (this page "
                               "needs cookies).")
        return reader, form

    def back(request: Request, reader: Reader, done: str) -> Response:
        path = request.url_for("manage", token=reader.token).path
        return RedirectResponse(f"{path}?done={done}", status_code=303)

    async def show(request: Request) -> Response:
        reader = await reader_of(request)
        if isinstance(reader, Response):
            return reader
        return page(request, reader, done=request.query_params.get("done", ""))

    async def save(request: Request) -> Response:
        found = await posted(request)
        if isinstance(found, Response):
            return found
        reader, form = found
        receive = set(form.all("receive"))
        choices = {
            offer.slug: Choice(
                offer.slug in receive,
                tuple(t for t in offer.topic_slugs if t in form.all(f"topics-{offer.slug}"))
                if offer.topics else None)
            for offer in catalogue.offers().values()
        }
        await writer.run(apply_choices, reader.email, choices, SOURCE)
        return back(request, reader, "saved")

    async def pause_until(request: Request) -> Response:
        found = await posted(request)
        if isinstance(found, Response):
            return found
        reader, form = found
        until, problem_text = _pause_date(form.get("until"))
        if until is None:
            return page(request, reader, status=400, errors={"until": problem_text},
                        entered={"until": form.get("until")[:20]})
        await writer.run(pause, reader.email, until, SOURCE)
        return back(request, reader, "paused")

    def button(function: Callable[..., Any], *args: Any, done: str) -> Callable[..., Any]:
        """A form that is only a button: function(engine, email, *args, source), then back."""
        async def pressed(request: Request) -> Response:
            found = await posted(request)
            if isinstance(found, Response):
                return found
            await writer.run(function, found[0].email, *args, SOURCE)
            return back(request, found[0], done)

        return pressed

    resume = button(pause, None, done="resumed")
    leave = button(leave_all, done="left")

    async def data(request: Request) -> Response:
        found = await posted(request)
        if isinstance(found, Response):
            return found
        body = await run_in_threadpool(export, engine, found[0].email)
        return Response(json.dumps(body, ensure_ascii=False, indent=2) + "\n",
                        media_type="application/json; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="my-data.json"',
                                 "Cache-Control": "no-store", "X-Content-Type-Options":
                                 "nosniff", "Referrer-Policy": "no-referrer"})

    async def erase_all(request: Request) -> Response:
        found = await posted(request)
        if isinstance(found, Response):
            return found
        reader, form = found
        if form.get("confirm") != "yes":
            return page(request, reader, status=400, errors={
                "erase": "Tick the box to confirm: erasing cannot be undone."})
        await writer.run(erase, key, reader.email, SOURCE)
        await run_in_threadpool(erase_outbox_files, settings.out_dir, settings.data_dir,
                                reader.email)
        response = render_page("erased.html", done=True)
        response.delete_cookie(SESSION, path="/manage")
        return response

    async def new_link(request: Request) -> Response:
        found = await posted(request)
        if isinstance(found, Response):
            return found
        reader = found[0]
        try:
            limits.address("link", reader.email)
        except Refused as refused:
            return refused.response
        url = await writer.run(_revoke, settings.base_url, key, reader.email)
        try:
            await run_in_threadpool(send_notice, settings, manage_link(
                settings, to=reader.email, manage_url=url, revoked=True))
        except DigestError as exc:
            log.error("could not mail a new manage link: %s", exc)
        return render_page("link_sent.html", email=reader.email, revoked=True)

    async def request_page(request: Request) -> Response:
        return render_page("manage_request.html", email="", error="",
                           action=request.url_for("manage_request_post").path)

    async def request_link(request: Request) -> Response:
        try:
            form = await read_form(request, settings.public_form_max_bytes)
            limits.client(request, "link")
            if form.is_bot:
                return render_page("link_sent.html", email=form.get("email")[:320], revoked=False)
            raw = form.get("email")
            try:
                email = normalise_email(raw)
            except BadAddress:
                return render_page("manage_request.html", status_code=400, email=raw[:320],
                                   error="Enter an email address such as name@example.com.",
                                   action=request.url_for("manage_request_post").path)
            limits.address("link", email)
        except Refused as refused:
            return refused.response
        # Sent after the answer, so the answer takes as long whether or not the address is known.
        task = BackgroundTask(run_in_threadpool, _mail_link_if_known, engine, settings, key, email)
        response = render_page("link_sent.html", email=email, revoked=False)
        response.background = task
        return response

    return [
        Route("/manage", request_page, methods=["GET"], name="manage_request"),
        Route("/manage", request_link, methods=["POST"], name="manage_request_post"),
        Route("/manage/{token}", show, methods=["GET"], name="manage"),
        Route("/manage/{token}/save", save, methods=["POST"], name="manage_save"),
        Route("/manage/{token}/pause", pause_until, methods=["POST"], name="manage_pause"),
        Route("/manage/{token}/resume", resume, methods=["POST"], name="manage_resume"),
        Route("/manage/{token}/leave-all", leave, methods=["POST"], name="manage_leave"),
        Route("/manage/{token}/data", data, methods=["POST"], name="manage_data"),
        Route("/manage/{token}/erase", erase_all, methods=["POST"], name="manage_erase"),
        Route("/manage/{token}/new-link", new_link, methods=["POST"], name="manage_new_link"),
    ]


def _look_up(engine: Engine, key: Any, email: str) -> tuple[int, Person] | None:
    """(current link version, what is on file), or None when the address was erased."""
    with engine.connect() as conn:
        if is_erased(conn, key, email):
            return None
        return current_version(conn, email), person(conn, email)


def _revoke(engine: Engine, base_url: str, key: Any, email: str) -> str:
    with engine.begin() as conn:
        return manage_url(base_url, key, email, revoke(conn, email))


def _mail_link_if_known(engine: Engine, settings: Settings, key: Any, email: str) -> None:
    with engine.connect() as conn:
        known = conn.scalar(select(subscribers.c.id).where(subscribers.c.email == email)
                            .limit(1)) or conn.scalar(
            select(suppressions.c.id).where(suppressions.c.email == email).limit(1))
        if not known:
            return
        url = manage_url(settings.base_url, key, email, current_version(conn, email))
    try:
        send_notice(settings, manage_link(settings, to=email, manage_url=url, revoked=False))
    except DigestError as exc:
        log.error("could not mail a manage link: %s", exc)


def _session(request: Request) -> str:
    found = request.cookies.get(SESSION, "")
    return found if _SESSION_RE.fullmatch(found) else secrets.token_urlsafe(24)


def _pause_date(raw: str) -> tuple[datetime | None, str]:
    """The start of the day mail resumes (UTC), or the problem with what was entered."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None, "Choose the day your emails should start again."
    today = datetime.now(UTC).date()
    if day <= today:
        return None, "Choose a day after today."
    if day > today + timedelta(days=MAX_PAUSE_DAYS):
        return None, f"Choose a day within a year (by {today + timedelta(days=MAX_PAUSE_DAYS)})."
    return datetime(day.year, day.month, day.day, tzinfo=UTC), ""

