"""The archive's pages: every newsletter's past editions, one newsletter's, a web version, and
each newsletter's Atom feed. All from the database (see archive.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from digest.editions.ids import is_slug
from digest.settings import Settings
from digest.web.public.archive import NewsletterArchive, archive, atom_feed, web_version
from digest.web.public.pages import render_page

# The web version is the email's own HTML (inline styles, remote images): no script may run,
# nothing may be posted, and it may not be framed.
WEB_VERSION_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline' https:; "
        "font-src https: data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=300",
}
LISTING_HEADERS = {"Cache-Control": "public, max-age=60"}


def archive_routes(settings: Settings, engine: Engine) -> list[Route]:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(settings.base_url))

    def listing(request: Request, newsletter: str | None = None) -> list[NewsletterArchive]:
        def path_of(edition: str, slug: str) -> str:
            return request.url_for("web_version", edition=edition, slug=slug).path

        return archive(engine, path_of, newsletter)

    def feeds(request: Request, found: list[NewsletterArchive]) -> list[dict[str, str]]:
        return [{"title": n.title, "slug": n.slug,
                 "path": request.url_for("archive_feed", slug=n.slug).path} for n in found]

    def not_found(request: Request) -> Response:
        return render_page(
            "not_found.html", status_code=404, archive_path=request.url_for("archive").path
        )

    def page(request: Request, found: list[NewsletterArchive], *, single: bool) -> Response:
        return render_page(
            "archive_index.html", response_headers=LISTING_HEADERS,
            publisher=settings.publisher_name, newsletters=found, feeds=feeds(request, found),
            single=single, archive_path=request.url_for("archive").path,
            page_path=lambda slug: request.url_for("archive_newsletter", slug=slug).path,
        )

    async def index(request: Request) -> Response:
        return page(request, await run_in_threadpool(listing, request), single=False)

    async def one_newsletter(request: Request) -> Response:
        slug = request.path_params["slug"]
        found = await run_in_threadpool(listing, request, slug) if is_slug(slug) else []
        return page(request, found, single=True) if found else not_found(request)

    async def email(request: Request) -> Response:
        edition, slug = request.path_params["edition"], request.path_params["slug"]
        help_path = request.url_for("unsubscribe_help").path
        manage_path = request.url_for("manage_request").path
        html = await run_in_threadpool(web_version, engine, edition, slug, help_path,
                                       manage_path, request.path_params.get("key", ""))
        if html is None:
            return not_found(request)
        return HTMLResponse(html, headers=WEB_VERSION_HEADERS)

    async def feed(request: Request) -> Response:
        slug = request.path_params["slug"]
        found = await run_in_threadpool(listing, request, slug) if is_slug(slug) else []
        if not found:
            return not_found(request)
        body = atom_feed(
            found[0],
            feed_url=origin + request.url_for("archive_feed", slug=slug).path,
            page_url=origin + request.url_for("archive_newsletter", slug=slug).path,
            absolute=lambda path: origin + path,
            publisher=settings.publisher_name,
            language=settings.email_lang,
        )
        return Response(body, media_type="application/atom+xml; charset=utf-8",
                        headers={**LISTING_HEADERS, "X-Content-Type-Options": "nosniff"})

    return [
        Route("/archive", index, methods=["GET"], name="archive"),
        Route("/archive/{slug}", one_newsletter, methods=["GET"], name="archive_newsletter"),
        Route("/archive/{edition}/{slug}", email, methods=["GET"], name="web_version"),
        Route("/archive/{edition}/{slug}/{key}", email, methods=["GET"],
              name="variant_web_version"),  # a variant cut to some readers' topics
        Route("/feeds/{slug}.atom", feed, methods=["GET"], name="archive_feed"),
    ]
