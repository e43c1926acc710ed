"""Live reload: the open page follows templates, inputs and builds made elsewhere."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from digest.archive.articles import save_articles
from digest.archive.db import connect, dispose_all
from digest.models import Article, Block, Tag

RELOAD_SECONDS = 8  # the target is about 2 s; the margin is for a loaded CI machine


def open_newsletter(page: Any, server: Any, facts: Any) -> None:
    page.goto(f"{server.url}/preview/{facts.week}/{facts.slug}")
    page.wait_for_selector("#live.on")  # the event stream is connected
    page.evaluate("window.beforeReload = true")


def wait_for_reload(page: Any, condition: str) -> float:
    """Seconds until the page has reloaded itself and `condition` (JS) holds."""
    started = time.monotonic()
    page.wait_for_function(
        f"() => !window.beforeReload && ({condition})", timeout=RELOAD_SECONDS * 1000, polling=100
    )
    return time.monotonic() - started


def desktop_text(needle: str) -> str:
    return (
        "(() => { const f = document.querySelector('#frame-desktop');"
        " const d = f && f.contentDocument;"
        f" return !!(d && d.body && d.body.innerText.includes({needle!r})); }})()"
    )


def test_editing_a_template_reloads_the_open_page_with_the_change(
    page, fresh_site, start_server, facts, shoot
) -> None:
    server = start_server(fresh_site)
    open_newsletter(page, server, facts)
    masthead = fresh_site.templates_dir / "partials" / "masthead.mjml.j2"
    masthead.write_text(masthead.read_text().replace("Hello %%name%%,", "Good morning %%name%%,"))

    took = wait_for_reload(page, desktop_text("Good morning Ada Reader,"))
    print(f"reloaded {took:.2f} s after the template was saved")
    built = fresh_site.out_dir / facts.week / facts.slug / "email.html"
    assert "Good morning" in built.read_text()
    shoot(page, "live-after-template-edit", full_page=True)


def test_a_broken_template_shows_its_file_and_line_then_recovers(
    page, fresh_site, start_server, facts, shoot
) -> None:
    server = start_server(fresh_site)
    open_newsletter(page, server, facts)
    masthead = fresh_site.templates_dir / "partials" / "masthead.mjml.j2"
    good = masthead.read_text()
    lines = good.splitlines(keepends=True)
    lines.insert(2, "{% if %}\n")  # becomes line 3
    masthead.write_text("".join(lines))

    wait_for_reload(page, "!!document.querySelector('#build-problem')")
    problem = page.locator("#build-problem").inner_text()
    assert "masthead.mjml.j2" in problem
    assert "line 3" in problem
    assert page.locator("#frame-desktop").count() == 0  # no stale email beside the error
    shoot(page, "live-broken-template", full_page=True)

    page.evaluate("window.beforeReload = true")
    masthead.write_text(good)
    wait_for_reload(page, desktop_text(facts.headline))
    assert page.locator("#build-problem").count() == 0


def test_a_new_article_in_the_archive_rebuilds_the_open_edition(
    page, fresh_site, start_server, facts
) -> None:
    server = start_server(fresh_site)
    open_newsletter(page, server, facts)
    title = "Parliament votes on AI liability directive"
    article = Article(
        id="ai-liability-vote",
        title=title,
        url="https://regwire.example/articles/ai-liability-vote",
        published_at=datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
        kind="News",
        tags=[Tag.from_name("AI policy")],
        standfirst="MEPs vote on the AI liability directive after months of talks.",
        body=[Block("paragraph", "MEPs vote on the AI liability directive on Friday.")],
        source="tests/web_preview",
    )
    save_articles(connect(fresh_site.database), [article])
    dispose_all()
    wait_for_reload(page, desktop_text(title))


def test_the_index_notices_a_build_made_elsewhere(
    page, fresh_site, start_server, facts, shoot
) -> None:
    import shutil

    shutil.rmtree(fresh_site.out_dir)
    server = start_server(fresh_site)
    page.goto(server.url + "/")
    empty = page.locator("main").inner_text()
    assert "No editions yet" in empty and "digest build" in empty
    page.wait_for_selector("#live.on")
    shoot(page, "index-empty", full_page=True)
    page.evaluate("window.beforeReload = true")

    from digest.build import build_editions

    build_editions(fresh_site, week=facts.week)
    dispose_all()
    wait_for_reload(page, f"!!document.querySelector('#edition-{facts.week}')")


def test_ctrl_c_stops_the_server_even_with_a_page_open(page, fresh_site, start_server, facts):
    server = start_server(fresh_site)
    open_newsletter(page, server, facts)
    started = time.monotonic()
    status = server.stop()
    assert status == 0, server.output
    assert time.monotonic() - started < 5


def test_an_edition_not_on_screen_is_marked_out_of_date_and_rebuilt_on_request(
    page, fresh_site, start_server, facts, shoot
) -> None:
    server = start_server(fresh_site)
    page.goto(server.url + "/")
    page.wait_for_selector("#live.on")
    page.evaluate("window.beforeReload = true")
    masthead = fresh_site.templates_dir / "partials" / "masthead.mjml.j2"
    masthead.write_text(masthead.read_text().replace("Hello %%name%%,", "Good morning %%name%%,"))

    # Only what is on screen is rebuilt at once (a sent edition must not change behind the
    # editor's back); the index says which editions no longer match their inputs.
    wait_for_reload(page, f"!!document.querySelector('#edition-{facts.week} .badge.warn')")
    built = fresh_site.out_dir / facts.week / facts.slug / "email.html"
    assert "Good morning" not in built.read_text()
    shoot(page, "index-out-of-date", full_page=True)

    page.click(f"#edition-{facts.week} button:has-text('Rebuild')")
    page.wait_for_selector(f"#edition-{facts.week}")
    assert page.locator(f"#edition-{facts.week} .badge.warn").count() == 0
    assert "Good morning" in built.read_text()


def test_a_reload_never_cuts_off_a_form_being_posted(
    page, fresh_site, start_server, facts, shoot
) -> None:
    """Something the page shows changes while a form's post is under way (the checks write
    the manifest, a test send its .eml files; here a template is saved meanwhile): the page
    does not reload under the post, which would abort it; the editor sees the post's answer.
    (Before, an open page was rebuilt and told to reload, and the answer was lost.)"""
    server = start_server(fresh_site)
    page.goto(f"{server.url}/preview/{facts.week}/{facts.slug}#send")
    page.wait_for_selector("#live.on")
    masthead = fresh_site.templates_dir / "partials" / "masthead.mjml.j2"
    built = fresh_site.out_dir / facts.week / facts.slug / "email.html"

    def hold(route: Any) -> None:  # the post waits until the server has said "reload"
        masthead.write_text(masthead.read_text().replace("Hello %%name%%,", "Good day %%name%%,"))
        deadline = time.monotonic() + RELOAD_SECONDS / 2  # rebuilt while a page is open
        while "Good day" not in built.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # for a "reload" to reach the page
        route.continue_()

    page.route("**/send-test", hold)
    page.fill("#addresses", "editor.one@example.com")
    with page.expect_navigation(timeout=RELOAD_SECONDS * 3000) as answer:
        page.click("form.send-form button[type=submit]")
    assert answer.value is not None and answer.value.request.redirected_from is not None
    assert answer.value.request.redirected_from.method == "POST"
    outcome = page.wait_for_selector("#test-outcome")
    assert "Test sent to editor.one@example.com" in outcome.inner_text()
