"""`--online`: one HEAD per distinct article link, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from digest.checks.message import Message
from digest.checks.online import online_findings
from digest.editions import load_built
from digest.settings import Settings

from .test_rules import EDITION, SLUG, write_edition

RELEASE = threading.Event()  # the slow page answers only once the test is over
SEEN: Counter[tuple[str, str]] = Counter()  # (method, path) of every request


class Site(BaseHTTPRequestHandler):

    def log_message(self, *args: object) -> None:
        pass

    def answer(self) -> None:
        SEEN[(self.command, self.path)] += 1
        if self.path == "/slow":
            RELEASE.wait(30)
        status = {"/ok": 200, "/gone": 404, "/busy": 503, "/moved": 301,
                  "/no-head": 405 if self.command == "HEAD" else 200}.get(self.path, 200)
        self.send_response(status)
        if status == 301:
            self.send_header("Location", "/ok")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET = answer


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    SEEN.clear()
    RELEASE.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    RELEASE.set()
    server.shutdown()
    server.server_close()


def test_every_article_link_is_asked_once(site: str, settings: Settings) -> None:
    paths = ["ok", "gone", "busy", "moved", "no-head", "slow"]
    articles = [{"id": p, "title": f"Story {p}", "url": f"{site}/{p}"} for p in paths]
    write_edition(settings.out_dir, articles=articles[:4], more_this_week=articles[3:])
    message = Message(settings, load_built(settings.out_dir, EDITION, SLUG))
    quick = settings.model_copy(update={"check_online_timeout": 0.5,
                                        "check_online_concurrency": 2})
    found, again = online_findings(quick, [message, message])
    assert again == found
    by_title = {f.where: (f.severity, f.problem.removeprefix(f.snippet + " ")) for f in found}
    assert by_title == {
        "article 'Story gone'": ("error", "answers 404: the page is gone."),
        "article 'Story busy'": ("warning", "answers 503."),
        "article 'Story slow'": ("warning", "did not answer within 0.5 s."),
    }
    assert all(f.check == "links.online" for f in found)
    # One request per distinct link for both messages; /ok once more at the end of /moved.
    assert SEEN[("HEAD", "/gone")] == 1 and SEEN[("HEAD", "/slow")] == 1
    assert SEEN[("HEAD", "/moved")] == 1 and SEEN[("HEAD", "/ok")] == 2
    assert SEEN[("HEAD", "/no-head")] == 1 and SEEN[("GET", "/no-head")] == 1
    assert not any(method == "GET" and path != "/no-head" for method, path in SEEN)
