"""Hostile requests to the preview, over real HTTP and in a real Chromium: off loopback nothing
without the secret; every POST needs the page's Origin and its CSRF token, loopback too."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.web_preview.conftest import PreviewProcess

SHARED = [sys.executable, "-m", "digest", "preview", "--host", "0.0.0.0", "--port", "0",
          "--no-open"]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page's form carries no CSRF token"
    return found.group(1)


def outbox(site, facts) -> Path:
    return site.out_dir / facts.week / facts.slug / "outbox" / "test"


def send_test(url: str, facts, **options) -> httpx.Response:
    return httpx.post(f"{url}/preview/{facts.week}/{facts.slug}/send-test",
                      data={"addresses": "victim@example.com", **options.pop("data", {})},
                      **options)


def test_a_post_without_origin_or_without_the_csrf_token_is_refused(server, site, facts) -> None:
    page = httpx.get(f"{server.url}/preview/{facts.week}/{facts.slug}").text
    token, own = csrf_of(page), server.url
    assert send_test(server.url, facts).status_code == 403  # no Origin: a script, or curl
    assert send_test(server.url, facts, headers={"Origin": own}).status_code == 403  # no token
    wrong = send_test(server.url, facts, headers={"Origin": own}, data={"csrf": "guess"})
    assert wrong.status_code == 403 and "reload the page" in wrong.text
    evil = send_test(server.url, facts, headers={"Origin": "http://evil.example"},
                     data={"csrf": token})
    assert evil.status_code == 403
    rebuild = httpx.post(f"{server.url}/preview/{facts.week}/rebuild", headers={"Origin": own})
    assert rebuild.status_code == 403
    assert not (outbox(site, facts) / "victim@example.com.eml").exists()

    good = send_test(server.url, facts, headers={"Origin": own}, data={"csrf": token})
    assert good.status_code == 303  # the page's own form, as the browser sends it
    assert (outbox(site, facts) / "victim@example.com.eml").exists()


@pytest.fixture(scope="module")
def shared(site, tmp_path_factory) -> Iterator[PreviewProcess]:
    """`digest preview --host 0.0.0.0`: on the network, so behind its secret."""
    process = PreviewProcess(site, tmp_path_factory.mktemp("shared"), SHARED)
    yield process
    process.stop()


def test_a_preview_on_the_network_answers_nothing_without_its_secret(shared, site, facts) -> None:
    server = shared
    link = re.search(r"Preview: (\S+\?token=(\S+))", server.output)
    assert link, server.output
    secret = link.group(2)
    assert server.output.count(secret) == 1  # printed once
    base = server.url
    paths = ["/", f"/preview/{facts.week}", f"/preview/{facts.week}/{facts.slug}",
             f"/preview/{facts.week}/{facts.slug}/email.html", "/preview/static/preview.css",
             "/preview/events?scope=index&v=x", "/no/such/page"]
    for path in paths:
        response = httpx.get(base + path)
        assert response.status_code == 401, path
        assert facts.headline not in response.text
    assert httpx.get(f"{base}/?token=not-it").status_code == 401
    assert send_test(base, facts, headers={"Origin": base}).status_code == 401

    signed = httpx.get(f"{base}/preview/{facts.week}?token={secret}&x=1")
    assert signed.status_code == 303 and signed.headers["location"] == f"/preview/{facts.week}?x=1"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and secret not in cookie
    with httpx.Client(base_url=base, cookies=signed.cookies) as browser:
        page = browser.get(f"/preview/{facts.week}/{facts.slug}")
        assert page.status_code == 200 and facts.headline in page.text
        refused = browser.post(f"/preview/{facts.week}/{facts.slug}/send-test",
                               data={"addresses": "editor@example.com"}, headers={"Origin": base})
        assert refused.status_code == 403  # signed in, but the POST lacks the form's token
        sent = browser.post(f"/preview/{facts.week}/{facts.slug}/send-test",
                            data={"addresses": "editor@example.com", "csrf": csrf_of(page.text)},
                            headers={"Origin": base})
        assert sent.status_code == 303
    assert (outbox(site, facts) / "editor@example.com.eml").exists()


def test_a_configured_token_is_asked_for_and_never_printed(site, start_server) -> None:
    server = start_server(site, SHARED, {"DIGEST_PREVIEW_TOKEN": "correct-horse-battery"})
    assert "correct-horse-battery" not in server.output
    assert "DIGEST_PREVIEW_TOKEN" in server.output
    assert httpx.get(server.url + "/").status_code == 401
    assert httpx.get(server.url + "/?token=correct-horse-battery").status_code == 303


class HostileSite:
    """Another origin on 127.0.0.1 whose page posts a form to the preview as soon as it loads."""

    def __init__(self, target: str) -> None:
        page = (f'<form id="f" method="post" action="{target}">'
                '<input name="addresses" value="hostile.site@example.com">'
                '<input name="csrf" value="guessed"></form>'
                "<script>document.getElementById('f').submit()</script>").encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hostile(server, facts) -> Iterator[HostileSite]:
    site = HostileSite(f"{server.url}/preview/{facts.week}/{facts.slug}/send-test")
    yield site
    site.close()


def test_in_chromium_a_cross_site_form_is_refused_and_the_own_form_works(
    page, server, site, facts, hostile, shoot
) -> None:
    with page.expect_response(lambda r: "/send-test" in r.url) as answer:
        page.goto(hostile.url)
    assert answer.value.status == 403
    assert not (outbox(site, facts) / "hostile.site@example.com.eml").exists()

    page.goto(f"{server.url}/preview/{facts.week}/{facts.slug}#send")
    page.fill("#addresses", "own.form@example.com")
    page.click("form.send-form button[type=submit]")
    assert "Test sent to own.form@example.com" in page.wait_for_selector("#test-outcome") \
        .inner_text()
    assert (outbox(site, facts) / "own.form@example.com.eml").exists()


def test_in_chromium_the_printed_link_signs_the_browser_in(
    browser, offline, shared, site, facts, shoot
) -> None:
    server = shared
    link = re.search(r"Preview: (\S+\?token=\S+)", server.output).group(1)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", offline)
    page = context.new_page()
    try:
        assert page.goto(server.url + "/").status == 401
        page.goto(link)
        assert "token=" not in page.url  # the secret does not stay in the address bar
        (cookie,) = context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        page.goto(f"{server.url}/preview/{facts.week}/{facts.slug}#send")
        frame = page.wait_for_selector("#frame-desktop", state="attached").content_frame()
        frame.wait_for_load_state()
        assert facts.headline in frame.locator("body").inner_text()  # frames get in too
        page.fill("#addresses", "shared@example.com")
        page.click("form.send-form button[type=submit]")
        outcome = page.wait_for_selector("#test-outcome")
        assert "Test sent to shared@example.com" in outcome.inner_text()
        shoot(page, "shared-preview-signed-in", full_page=True)
    finally:
        context.close()
    assert (outbox(site, facts) / "shared@example.com.eml").exists()


def test_garbage_cookies_tokens_and_bodies_get_4xx_not_5xx(site) -> None:
    """In-process, so bytes no HTTP client would send still reach the app."""
    from digest.web.preview.app import create_app
    from tests.support.asgi import InProcess

    shared = site.model_copy(update={"preview_host": "0.0.0.0"})
    loopback = site
    cases = [
        (shared, "GET", "/", {"cookie": "digest_preview=\u00e9t\u00e9".encode("latin-1")}, b""),
        (shared, "GET", "/?token=%C3%A9%00", {}, b""),
        (shared, "GET", "/?token=\u00e9", {}, b""),
        (loopback, "POST", "/preview/2026-W47/ai-policy/send-test",
         {"origin": "http://127.0.0.1", "content-type": "multipart/form-data; boundary=x"},
         b"--x\r\nContent-Disposition: form-data\r\n\r\n\xff--"),
        (loopback, "POST", "/preview/2026-W47/ai-policy/send-test",
         {"origin": "http://127.0.0.1", "content-type": "application/x-www-form-urlencoded"},
         "csrf=\u00e9\u00e9".encode()),
    ]

    statuses = []
    for settings, method, path, headers, body in cases:
        client = InProcess(create_app(settings, live=False), base_url="http://127.0.0.1")
        try:
            statuses.append(client.request(method, path, headers=headers, content=body)
                            .status_code)
        finally:
            client.close()
    assert statuses == [401, 401, 401, 400, 403]
