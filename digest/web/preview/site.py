"""The editor's preview: built editions in the browser, live while templates and inputs change.

Routes (the public site, `digest serve`, is a separate app: nothing of it is mounted here):
    GET  /                               editions, newest first
    GET  /preview/{edition}              one edition's newsletters
    GET  /preview/{edition}/{slug}       a newsletter: email at two widths, text, headers,
                                         selection, and once it is sent its results (results.py)
    GET  /preview/{edition}/{slug}/email.html   the email, placeholders filled (for the frames)
    GET  /preview/{edition}/{slug}/email.txt    the plain-text part, filled
    GET  /preview/{edition}/{slug}/v/{key}      a variant cut to readers' topics (and its
                                                email.html, email.txt below it)
    POST /preview/{edition}/{slug}/send-test    send a test (of any variant) through the backend
    POST /preview/{edition}/{slug}/checks       run every pre-send check (browser, spam too)
    POST /preview/{edition}/rebuild      rebuild an edition whose inputs changed
    GET  /preview/events?scope=..&v=..   server-sent events: "reload" once the page is out of date
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from digest import editions as store
from digest.errors import DigestError
from digest.settings import Settings
from digest.web.preview.checks import checks_view
from digest.web.preview.fingerprint import fingerprint
from digest.web.preview.guard import CSRF_FIELD, LOOPBACK, Guard
from digest.web.preview.live import Hub, watch
from digest.web.preview.pages import STATIC, render_page
from digest.web.preview.rebuild import BuildProblem, build_options, describe, rebuild
from digest.web.preview.results import index_rates, results_view
from digest.web.preview.sample import Sample
from digest.web.preview.send_test import TestOutcome, parse_addresses, send_test_message
from digest.web.preview.states import States, all_frozen, read_states, states_mark

log = logging.getLogger("digest.preview")

# The email is the one document here the project did not write line by line: no scripts, no
# plugins, no forms, and only this server may frame it. Images stay allowed (a logo must show).
EMAIL_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
DARK_STYLE = "<style>html,body{background:#16181d !important}</style>"
KEEPALIVE_SECONDS = 15.0


class PreviewSite:
    """The preview's state (open pages, failed rebuilds, stale editions) and its endpoints."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.hub = Hub()
        self.problems: dict[str, BuildProblem] = {}
        self.stale: set[str] = set()
        self.outcomes: dict[str, TestOutcome] = {}
        self.guard = Guard.for_settings(settings)
        self._lock = asyncio.Lock()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.index, name="preview_index"),
            Mount("/preview/static", StaticFiles(directory=STATIC), name="preview_static"),
            Route("/preview/events", self.events),
            Route("/preview/{edition}", self.edition_page),
            Route("/preview/{edition}/rebuild", self.rebuild_now, methods=["POST"]),
            Route("/preview/{edition}/{slug}", self.newsletter_page),
            Route("/preview/{edition}/{slug}/email.html", self.email_html),
            Route("/preview/{edition}/{slug}/email.txt", self.email_text),
            Route("/preview/{edition}/{slug}/send-test", self.send_test, methods=["POST"]),
            Route("/preview/{edition}/{slug}/checks", self.run_checks, methods=["POST"]),
            Route("/preview/{edition}/{slug}/v/{key}", self.newsletter_page),
            Route("/preview/{edition}/{slug}/v/{key}/email.html", self.email_html),
            Route("/preview/{edition}/{slug}/v/{key}/email.txt", self.email_text),
        ]

    # Pages

    async def index(self, request: Request) -> Response:
        if refused := _refuse(request, self.settings):
            return refused
        found = await run_in_threadpool(store.list_editions, self.settings.out_dir)
        states = await run_in_threadpool(read_states, self.settings, [e.id for e in found])
        rates = await run_in_threadpool(index_rates, self.settings, _pairs(found))
        return self._page("index.html", scope="index", editions=found, single=False,
                          states=states, frozen=_frozen(found, states), rates=rates)

    async def edition_page(self, request: Request) -> Response:
        if refused := _refuse(request, self.settings):
            return refused
        edition = await self._edition(request.path_params["edition"])
        if edition is None:
            return self._missing(request.path_params["edition"])
        states = await run_in_threadpool(read_states, self.settings, [edition.id])
        rates = await run_in_threadpool(index_rates, self.settings, _pairs([edition]))
        return self._page("index.html", scope=edition.id, editions=[edition], single=True,
                          states=states, frozen=_frozen([edition], states), rates=rates)

    async def newsletter_page(self, request: Request) -> Response:
        if refused := _refuse(request, self.settings):
            return refused
        edition, newsletter = await self._newsletter(request)
        if edition is None or newsletter is None:
            return self._missing(request.path_params["edition"], request.path_params["slug"])
        sample = Sample(self.settings, newsletter)
        outcome = self.outcomes.get(request.query_params.get("test", ""))
        states = await run_in_threadpool(read_states, self.settings, [edition.id])
        results = await run_in_threadpool(results_view, self.settings, edition.id,
                                          newsletter.slug)
        full = edition.newsletter(newsletter.slug)
        return self._page(
            "newsletter.html",
            scope=f"{edition.id}/{newsletter.slug}",
            edition=edition,
            newsletter=newsletter,
            full=full,
            base=_base(edition.id, newsletter),
            sample=sample,
            headers=sample.headers(),
            text=sample.text(newsletter.read("email.txt")),
            outcome=outcome,
            states=states,
            state=states.get(edition.id, {}).get(newsletter.slug),
            build_options=build_options(edition),
            results=results,
            checks=checks_view(self.settings, newsletter),
        )

    async def email_html(self, request: Request) -> Response:
        if refused := _refuse(request, self.settings):
            return refused
        _, newsletter = await self._newsletter(request)
        if newsletter is None:
            return PlainTextResponse("no such newsletter in this edition", status_code=404)
        html = Sample(self.settings, newsletter).html(newsletter.read("email.html"))
        if request.query_params.get("dark") == "1":
            html = html.replace("</head>", DARK_STYLE + "</head>", 1)
        return Response(html, media_type="text/html; charset=utf-8", headers=EMAIL_HEADERS)

    async def email_text(self, request: Request) -> Response:
        if refused := _refuse(request, self.settings):
            return refused
        _, newsletter = await self._newsletter(request)
        if newsletter is None:
            return PlainTextResponse("no such newsletter in this edition", status_code=404)
        text = Sample(self.settings, newsletter).text(newsletter.read("email.txt"))
        return PlainTextResponse(text, headers={"Cache-Control": "no-store"})

    # Actions

    async def send_test(self, request: Request) -> Response:
        if refused := _refuse(request, self.settings) or await self.guard.refuse_post(request):
            return refused
        edition, newsletter = await self._newsletter(request)
        if edition is None or newsletter is None:
            return self._missing(request.path_params["edition"], request.path_params["slug"])
        form = await request.form()
        raw = str(form.get("addresses") or "")
        addresses = parse_addresses(raw)
        variant = str(form.get("variant") or "")
        cut = newsletter.cut(variant) if variant else newsletter
        if cut is None:
            return self._missing(edition.id, f"{newsletter.slug} (variant {variant})")
        outcome = await run_in_threadpool(
            send_test_message, self.settings, edition.id, newsletter.slug, addresses, raw,
            variant
        )
        key = secrets.token_urlsafe(8)
        self.outcomes = {**dict(list(self.outcomes.items())[-19:]), key: outcome}
        page = f"{_base(edition.id, cut)}?test={key}#send"
        return RedirectResponse(page, status_code=303)

    async def run_checks(self, request: Request) -> Response:
        if refused := _refuse(request, self.settings) or await self.guard.refuse_post(request):
            return refused
        edition, newsletter = await self._newsletter(request)
        if edition is None or newsletter is None:
            return self._missing(request.path_params["edition"], request.path_params["slug"])
        from digest.checks import check_edition

        page = f"/preview/{edition.id}/{newsletter.slug}"
        try:
            await run_in_threadpool(check_edition, self.settings, edition.id, [newsletter.slug])
        except DigestError as exc:  # shown at the top of the page, like a test send's outcome
            key = secrets.token_urlsafe(8)
            self.outcomes = {**dict(list(self.outcomes.items())[-19:]),
                             key: TestOutcome(False, f"The checks did not run: {exc}")}
            return RedirectResponse(f"{page}?test={key}#checks", status_code=303)
        self.hub.notify()
        return RedirectResponse(f"{page}#checks", status_code=303)

    async def rebuild_now(self, request: Request) -> Response:
        if refused := _refuse(request, self.settings) or await self.guard.refuse_post(request):
            return refused
        edition = await self._edition(request.path_params["edition"])
        if edition is None:
            return self._missing(request.path_params["edition"])
        async with self._lock:
            await self._rebuild(edition)
        self.hub.notify()
        back = request.headers.get("referer", "")
        target = back if back.startswith(str(request.base_url)) else f"/preview/{edition.id}"
        return RedirectResponse(target, status_code=303)

    # Live reload

    async def events(self, request: Request) -> Response:
        if refused := _refuse(request, self.settings):
            return refused
        scope = request.query_params.get("scope", "index")
        seen = request.query_params.get("v", "")
        edition = None if scope == "index" else scope.split("/")[0]

        async def stream() -> AsyncIterator[str]:
            self.hub.viewing(edition, +1)
            try:
                yield "retry: 1000\n\n"
                while not self.hub.closed:
                    ticket = self.hub.ticket()
                    if await run_in_threadpool(self.version, scope) != seen:
                        yield "event: reload\ndata: changed\n\n"
                        return
                    if not await self.hub.wait(ticket, KEEPALIVE_SECONDS):
                        yield ": still here\n\n"
            finally:
                self.hub.viewing(edition, -1)

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    def version(self, scope: str) -> str:
        """What a page of `scope` was made from; the page reloads when this changes."""
        out = self.settings.out_dir
        states = str(states_mark(self.settings))  # a send starting or ending shows
        if scope == "index":
            files = sorted(out.glob("*/index.json")) + sorted(out.glob("*/*/manifest.json"))
            extra = f"{sorted(self.stale)}{sorted(self.problems)}{states}"
            return _digest(fingerprint(*files) + extra)
        edition, _, slug = scope.partition("/")
        if not store.is_edition_id(edition) or (slug and not store.is_slug(slug)):
            return "unknown"
        folder = out / edition
        if slug:
            files = [folder / slug / name for name in ("manifest.json", "email.html", "email.txt")]
            files.append(self.settings.subscribers_dir / f"{slug}.csv")
        else:
            files = sorted(folder.glob("*/manifest.json"))
        extra = f"{edition in self.stale}{self.problems.get(edition)}{states}"
        return _digest(fingerprint(folder / "index.json", *files) + extra)

    async def on_change(self, needs_rebuild: bool) -> None:
        """React to a watched change: rebuild the editions on screen, mark the others stale."""
        if needs_rebuild:
            async with self._lock:
                viewed = self.hub.viewed()
                found = await run_in_threadpool(store.list_editions, self.settings.out_dir)
                states = await run_in_threadpool(read_states, self.settings,
                                                 [e.id for e in found])
                for edition in found:
                    slugs = [n.slug for n in edition.newsletters]
                    if all_frozen(states.get(edition.id, {}), slugs):
                        continue  # sent: what readers got never changes
                    if edition.id in viewed:
                        await self._rebuild(edition)
                    else:
                        self.stale.add(edition.id)
        self.hub.notify()

    async def _rebuild(self, edition: store.Edition) -> None:
        states = await run_in_threadpool(read_states, self.settings, [edition.id])
        frozen = {slug for slug, s in states.get(edition.id, {}).items() if s.frozen}
        try:
            await run_in_threadpool(rebuild, self.settings, edition, frozen)
        except Exception as exc:  # shown on the page; the editor fixes it and saves again
            if not isinstance(exc, DigestError):
                log.exception("rebuilding %s failed", edition.id)
            self.problems[edition.id] = describe(exc)
        else:
            self.problems.pop(edition.id, None)
            self.stale.discard(edition.id)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Watch inputs and outputs for as long as the server runs."""
        stop = asyncio.Event()
        task = asyncio.create_task(watch(self.settings, self.on_change, stop))
        try:
            yield
        finally:
            self.hub.close()
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # Helpers

    async def _edition(self, edition_id: str) -> store.Edition | None:
        return await run_in_threadpool(store.read_edition, self.settings.out_dir, edition_id)

    async def _newsletter(self, request: Request) -> tuple[Any, Any]:
        """The edition and the newsletter the path names (a variant of it under /v/KEY)."""
        edition = await self._edition(request.path_params["edition"])
        if edition is None:
            return None, None
        found = edition.newsletter(request.path_params["slug"])
        key = request.path_params.get("key")
        if found is not None and key is not None:
            found = found.cut(key)
        return edition, found

    def _page(self, name: str, *, scope: str, **context: Any) -> Response:
        edition = None if scope == "index" else scope.split("/")[0]
        return render_page(
            name,
            settings=self.settings,
            scope=scope,
            version=self.version(scope),
            problem=self.problems.get(edition) if edition else None,
            problems=self.problems,
            stale=self.stale,
            csrf=self.guard.csrf,
            csrf_field=CSRF_FIELD,
            **context,
        )

    def _missing(self, edition: str, slug: str | None = None) -> Response:
        return render_page(
            "not_found.html", status_code=404, settings=self.settings, edition=edition, slug=slug
        )


def _refuse(request: Request, settings: Settings) -> Response | None:
    """Refuse requests for another host name than the one the preview serves on loopback.

    A page on another site can make the browser talk to 127.0.0.1 by a rebound DNS name; its
    Host header gives it away. (Cross-site posts are the guard's: guard.py.)
    """
    host = (request.url.hostname or "").lower()
    if settings.preview_host in LOOPBACK and host not in LOOPBACK:
        return PlainTextResponse("the preview only answers on its local address", status_code=403)
    return None


def _frozen(editions: list[store.Edition], states: States) -> set[str]:
    """The editions whose every newsletter is sent (or being sent)."""
    return {e.id for e in editions
            if all_frozen(states.get(e.id, {}), [n.slug for n in e.newsletters])}


def _pairs(editions: list[store.Edition]) -> list[tuple[str, str]]:
    return [(edition.id, n.slug) for edition in editions for n in edition.newsletters]


def _base(edition: str, newsletter: store.Newsletter) -> str:
    """The preview path of a newsletter, or of its variant."""
    base = f"/preview/{edition}/{newsletter.slug}"
    return f"{base}/v/{newsletter.variant}" if newsletter.variant else base


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
