"""The preview shows each newsletter's state, and refuses to rebuild a sent one as the CLI does."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx

from digest.archive.db import connect, dispose_all
from digest.editions import load_built
from digest.editions.frozen import finish, freeze
from digest.settings import Settings
from digest.web.preview.app import create_app

BASE = "http://127.0.0.1:8025"


def ask(settings: Settings, *requests: tuple[str, str]) -> list[httpx.Response]:
    """(method, path) requests to the preview app in-process, in order."""
    app = create_app(settings, live=False)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        form = {"csrf": app.state.site.guard.csrf}  # what the page's own forms carry
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return [await client.request(method, path, headers={"Origin": BASE},
                                         data=form if method == "POST" else None)
                    for method, path in requests]

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API may own this thread's loop
        return pool.submit(anyio.run, run).result()


def test_a_sent_newsletter_shows_as_sent_and_is_not_rebuilt(fresh_site: Settings, facts) -> None:
    week, slug = facts.week, facts.slug
    page = f"/preview/{week}/{slug}"
    [before] = ask(fresh_site, ("GET", "/"))
    assert '<span class="badge state-draft"' in before.text

    engine = connect(fresh_site.database)
    freeze(engine, load_built(fresh_site.out_dir, week, slug))
    finish(engine, week, slug)
    dispose_all()
    html = (fresh_site.out_dir / week / slug / "email.html").read_bytes()

    index, newsletter, rebuilt, after = ask(
        fresh_site, ("GET", "/"), ("GET", page), ("POST", f"/preview/{week}/rebuild"),
        ("GET", page))
    assert '<span class="badge state-sent"' in index.text and "sent · frozen" in index.text
    assert f'action="/preview/{week}/rebuild"' not in index.text
    assert 'id="frozen"' in newsletter.text and "--correction" in newsletter.text
    assert rebuilt.status_code == 303
    assert 'id="build-problem"' in after.text  # the build's own refusal, shown on the page
    assert f"{slug} of {week} was sent on" in after.text
    assert (fresh_site.out_dir / week / slug / "email.html").read_bytes() == html
