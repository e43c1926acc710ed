"""End to end: `digest serve` (uvicorn, its own process) on a free port on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

import httpx
import pytest

from digest.send.runner import run_send
from digest.settings import Settings
from digest.subscribers import sync_subscribers

pytestmark = pytest.mark.timeout(120)
ONE_CLICK = {"content-type": "application/x-www-form-urlencoded"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "digest", "serve", "--no-access-log", *args]


@dataclass
class Server:
    url: str
    port: int
    log: Path


@pytest.fixture
def server(public_settings: Settings, tmp_path: Path) -> Iterator[Server]:
    """Host and port come from the settings (DIGEST_SERVE_*), as a deployment would set them."""
    port = free_port()
    env = {**os.environ, "DIGEST_SUBSCRIBERS_DIR": str(public_settings.subscribers_dir),
           "DIGEST_SERVE_HOST": "127.0.0.1", "DIGEST_SERVE_PORT": str(port),
           "DIGEST_BASE_URL": f"http://127.0.0.1:{port}", "DIGEST_WEBHOOK_ALLOW_UNSIGNED": "1"}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(serve_command(), env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"digest serve exited:\n{log.read_text()}"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"digest serve never answered:\n{log.read_text()}"
            time.sleep(0.1)
        yield Server(url, port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def raw_request(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Bytes on the wire exactly as written: no client normalises the path first."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return int(received.split(b" ", 2)[1]), received


def build_edition(settings: Settings, edition: str) -> None:
    """What `digest build` leaves for the sender, written by hand (the send is what is tested;
    the postal address is there because the pre-send checks refuse a send without one)."""
    folder = settings.out_dir / edition / "antitrust-weekly"
    folder.mkdir(parents=True)
    address = settings.postal_address
    (folder / "email.html").write_text(
        f'<p>Dear %%name%%</p><a href="%%unsubscribe_url%%">Unsubscribe</a><p>{address}</p>'
    )
    (folder / "email.txt").write_text(
        f"Dear %%name%%\nUnsubscribe: %%unsubscribe_url%%\n{address}\n")
    manifest = {"edition": {"id": edition, "label": edition}, "subject": f"Antitrust {edition}",
                "newsletter": {"slug": "antitrust-weekly", "title": "Antitrust Weekly"}}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def outbox(settings: Settings, edition: str) -> dict[str, Message]:
    folder = settings.out_dir / edition / "antitrust-weekly" / "outbox"
    found = {}
    for path in folder.glob("*.eml"):
        message = BytesParser().parsebytes(path.read_bytes())
        found[message["To"]] = message
    return found


def test_one_click_from_the_email_then_the_next_send_skips_the_address(server, public_settings,
                                                                       engine):
    settings = public_settings.model_copy(update={"base_url": server.url, "sender": "outbox"})
    (settings.subscribers_dir / "antitrust-weekly.csv").write_text(
        "email,name\nada@example.org,Ada\nbob@example.org,Bob\n"
    )
    sync_subscribers(engine, settings.subscribers_dir)
    build_edition(settings, "2026-W46")
    assert run_send(settings, "2026-W46", "antitrust-weekly").ok
    first = outbox(settings, "2026-W46")
    assert sorted(first) == ["Ada <ada@example.org>", "Bob <bob@example.org>"]
    ada = first["Ada <ada@example.org>"]
    assert ada["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = ada["List-Unsubscribe"].strip("<>")

    # What Gmail does with the two headers (RFC 8058): POST the body, no cookie, no page.
    response = httpx.post(url, content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)

    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    sync_subscribers(engine, settings.subscribers_dir)  # a later CSV sync must not undo it
    build_edition(settings, "2026-W47")
    assert run_send(settings, "2026-W47", "antitrust-weekly").ok
    assert sorted(outbox(settings, "2026-W47")) == ["Bob <bob@example.org>"]


def test_fifty_concurrent_clients_record_each_address_once(server, token_for, suppressed):
    addresses = [f"reader{n}@example.org" for n in range(25)]
    tokens = [token_for(a, "antitrust-weekly") for a in addresses] * 4  # each one four times

    with httpx.Client(base_url=server.url, limits=httpx.Limits(max_connections=50)) as client:

        def one_click(token: str) -> int:
            return client.post(f"/u/{token}", content=b"List-Unsubscribe=One-Click",
                               headers=ONE_CLICK).status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(one_click, tokens))

    assert statuses == [200] * len(tokens)
    assert suppressed() == {(a, "antitrust-weekly", "unsubscribed", "one-click") for a in addresses}


def test_forged_token_over_the_wire(server, token_for, suppressed):
    token = token_for("ada@example.org", "antitrust-weekly")
    response = httpx.post(f"{server.url}/u/{token[:-2]}", content=b"List-Unsubscribe=One-Click",
                          headers=ONE_CLICK)
    assert response.status_code == 400
    assert suppressed() == set()


TRAVERSALS = [
    "/archive/../../etc/passwd",
    "/archive/2026-W47/../../../etc/passwd",
    "/archive/%2e%2e/%2e%2e/etc/passwd",
    "/archive/2026-W47/..%2F..%2Fsecret",
    "/archive/%2Fetc/passwd",
    "/archive/2026-W47/%2e%2e",
    "/archive//etc/passwd",
]


def test_path_traversal_over_the_wire_is_404(server, public_settings, engine):
    from digest.editions import load_built
    from digest.editions.frozen import freeze
    from tests.support.data import make_edition

    make_edition(public_settings.out_dir, "2026-W47", "antitrust-weekly", html="fine")
    freeze(engine, load_built(public_settings.out_dir, "2026-W47", "antitrust-weekly"))
    make_edition(public_settings.out_dir, "2026-W48", "antitrust-weekly", html="a draft")
    secret = public_settings.out_dir.parent / "secret"
    secret.mkdir(exist_ok=True)
    (secret / "email.html").write_text("TOP SECRET")

    for path in TRAVERSALS:  # sent as written: no client normalises the path first
        status, answer = raw_request(
            server.port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close"
        )
        assert status == 404, path
        assert b"TOP SECRET" not in answer and b"root:" not in answer

    good = httpx.get(f"{server.url}/archive/2026-W47/antitrust-weekly")
    assert good.status_code == 200 and good.text == "fine"
    draft = httpx.get(f"{server.url}/archive/2026-W48/antitrust-weekly")
    assert draft.status_code == 404 and "a draft" not in draft.text


def test_an_oversized_webhook_body_is_refused_before_it_is_sent(server):
    head = ("POST /webhooks/sendgrid HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: 50000000")
    started = time.monotonic()
    status, _ = raw_request(server.port, head, b"[")  # 1 of the 50 MB announced
    assert status == 413
    assert time.monotonic() - started < 5


def test_a_port_in_use_is_a_clear_message(public_settings):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(serve_command("--host", "127.0.0.1", "--port", str(port)),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
