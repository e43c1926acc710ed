"""The send-a-test form, and the command line's own promises (a port in use)."""

from __future__ import annotations

import email
import socket
import subprocess
import sys
from email import policy


def test_the_send_a_test_form_writes_an_eml_through_the_outbox(
    page, server, site, facts, shoot
) -> None:
    page.goto(f"{server.url}/preview/{facts.week}/{facts.slug}#send")
    page.fill("#addresses", "editor.one@example.com, editor.two@example.com")
    page.click("form.send-form button[type=submit]")
    outcome = page.wait_for_selector("#test-outcome")
    assert "Test sent to editor.one@example.com, editor.two@example.com" in outcome.inner_text()
    assert page.locator("[data-panel=send]").is_visible()  # back on the tab it was sent from
    shoot(page, "send-test-done", full_page=True)

    folder = site.out_dir / facts.week / facts.slug / "outbox" / "test"
    written = sorted(p.name for p in folder.glob("*.eml"))
    assert written == ["editor.one@example.com.eml", "editor.two@example.com.eml"]
    message = email.message_from_bytes((folder / written[0]).read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("[TEST] AI Policy Weekly")
    assert message["To"] == "editor.one@example.com"
    html = message.get_body(("html",)).get_content()
    assert facts.headline in html


def test_the_send_a_test_form_refuses_a_bad_address(page, server, site, facts) -> None:
    page.goto(f"{server.url}/preview/{facts.week}/{facts.slug}#send")
    page.fill("#addresses", "not-an-address")
    page.click("form.send-form button[type=submit]")
    outcome = page.wait_for_selector("#test-outcome.bad")
    assert "not-an-address" in outcome.inner_text()
    outbox = site.out_dir / facts.week / facts.slug / "outbox" / "test"
    assert not (outbox / "not-an-address.eml").exists()


def test_a_cross_site_post_is_refused(server, facts) -> None:
    import httpx

    response = httpx.post(
        f"{server.url}/preview/{facts.week}/{facts.slug}/send-test",
        data={"addresses": "victim@example.com"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_a_port_in_use_is_a_clear_message_naming_it(site, env_for, tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "digest", "preview", "--port", str(port), "--no-open"],
            env=env_for(site), cwd=tmp_path, capture_output=True, text=True, timeout=30,
        )
    assert done.returncode == 1
    message = " ".join((done.stdout + done.stderr).split())
    assert f"port {port}" in message and "--port" in message, message
    assert "Traceback" not in message


def fake_browser(folder) -> tuple[dict[str, str], object]:
    """A BROWSER command (honoured by Python's webbrowser) that writes down what it was asked
    to open, instead of opening anything."""
    script = folder / "browser.sh"
    opened = folder / "opened.txt"
    script.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    script.chmod(0o755)
    return {"BROWSER": f"{script} %s", "DISPLAY": ""}, opened


def wait_for_file(path, seconds: float = 10.0) -> str:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"nothing was opened ({path} stayed empty)")


def test_digest_preview_opens_the_browser_on_the_index(fresh_site, start_server, tmp_path):
    env, opened = fake_browser(tmp_path)
    server = start_server(fresh_site, [sys.executable, "-m", "digest", "preview", "--port", "0"],
                          env)
    assert wait_for_file(opened) == server.url + "/"


def test_build_open_serves_the_preview_of_the_new_edition(
    fresh_site, start_server, tmp_path, facts
):
    env, opened = fake_browser(tmp_path)
    env["DIGEST_PREVIEW_PORT"] = "0"
    command = [sys.executable, "-m", "digest", "build", "--week", facts.week, "--open"]
    server = start_server(fresh_site, command, env)
    url = wait_for_file(opened)
    assert url == f"{server.url}/preview/{facts.week}"
    import httpx

    assert facts.week in httpx.get(url).text
    assert server.stop() == 0
