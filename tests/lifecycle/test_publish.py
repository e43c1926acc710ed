"""Build, do not send: nothing is public. Send: the archive has it, served from the database by
`digest serve` in a working directory with no edition folders, given only the database URL."""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import feedparser
import httpx
import pytest

from digest.settings import Settings
from tests.lifecycle.conftest import READERS, WEEK, Cli, digest_process
from tests.support.data import PUBLIC_BASE_URL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    """`digest serve` in `cwd` with exactly the environment given (no DIGEST_* of ours)."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
        self.log = cwd / "serve.log"
        with self.log.open("w") as out:
            self.process = digest_process(
                "serve", "--no-access-log", "--port", str(self.port), cwd=cwd,
                env={**clean, **env}, stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, f"digest serve exited:\n{self.log.read_text()}"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.1)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def public_server(newsroom: Settings, tmp_path: Path):
    """The public server's machine: an empty folder and the shared database's URL."""
    started: list[Served] = []

    def start() -> Served:
        machine = tmp_path / "public-server"
        machine.mkdir(exist_ok=True)
        started.append(Served(machine, {"DIGEST_DATABASE_URL": newsroom.database}))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def test_only_sent_editions_are_public_and_need_nothing_but_the_database(
    cli: Cli, newsroom: Settings, public_server, tmp_path: Path
) -> None:
    built = cli("build", "--week", WEEK)
    assert built.exit_code == 0, built.output
    server = public_server()
    assert not any((tmp_path / "public-server").glob("editions*"))

    # Built, not sent: not listed, and its URL is the same 404 as a missing edition's.
    listing = server.get("/archive")
    assert listing.status_code == 200 and "No editions have been published yet" in listing.text
    draft, missing = server.get(f"/archive/{WEEK}/tech-brief"), server.get("/archive/2026-W09/x")
    assert draft.status_code == missing.status_code == 404 and draft.text == missing.text
    assert server.get("/feeds/tech-brief.atom").status_code == 404

    sent = cli("send", WEEK, "-n", "tech-brief", "--yes")
    assert sent.exit_code == 0, sent.output
    assert f"sent {READERS}" in sent.output

    listing = server.get("/archive")
    assert listing.status_code == 200
    assert f'href="/archive/{WEEK}/tech-brief"' in listing.text
    assert "Tech Brief" in listing.text and "Markets" not in listing.text  # the others: drafts
    web = server.get(f"/archive/{WEEK}/tech-brief")
    assert web.status_code == 200 and "%%" not in web.text and "Hello reader" in web.text
    assert server.get(f"/archive/{WEEK}/markets").status_code == 404
    feed = feedparser.parse(server.get("/feeds/tech-brief.atom").content)
    assert [e.link for e in feed.entries] == [f"{PUBLIC_BASE_URL}/archive/{WEEK}/tech-brief"]

    # What the reader received is what the archive shows (the outbox kept the message).
    outbox = newsroom.out_dir / WEEK / "tech-brief" / "outbox"
    message = email.message_from_bytes(
        next(outbox.glob("*.eml")).read_bytes(), policy=email.policy.default)
    html = message.get_body(("html",)).get_content()
    headline = re.search(r"<h2[^>]*>(?:<a[^>]*>)?([^<]+)<", html)
    assert headline and headline.group(1) in web.text

    # The editor's folder going away changes nothing for the public server.
    for item in sorted(newsroom.out_dir.rglob("*"), reverse=True):
        item.unlink() if item.is_file() else item.rmdir()
    assert server.get(f"/archive/{WEEK}/tech-brief").text == web.text
