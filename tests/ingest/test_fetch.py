"""Feeds over HTTP, against a real server on 127.0.0.1 that each test starts."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from digest.archive import connect
from digest.archive.articles import load_articles
from digest.ingest import ingest
from digest.settings import Settings

FEED = (Path(__file__).parent / "fixtures" / "feeds" / "rss2.xml").read_bytes()


class FeedServer:
    def __init__(self) -> None:
        self.release = threading.Event()  # lets the /slow handler finish when the test ends
        release = self.release

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path in LIMIT_ROUTES:
                    LIMIT_ROUTES[self.path](self)
                    return
                if self.path == "/slow":
                    release.wait(10)
                if self.path in ("/feeds/antitrust", "/slow"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/rss+xml")
                    self.send_header("Content-Length", str(len(FEED)))
                    self.end_headers()
                    self.wfile.write(FEED)
                else:
                    self.send_error(404, "Not Found")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _redirect(to: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", to)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def _body(data: bytes, *, declared: bool = True, **headers: str) -> Callable[..., None]:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        if declared:
            handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        try:
            for start in range(0, len(data), 65536):
                handler.wfile.write(data[start : start + 65536])
        except OSError:
            pass  # the client stopped reading, as it should
        if not declared:
            handler.close_connection = True

    return answer


MB = 1024 * 1024
LIMIT_ROUTES: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {
    "/big": _body(b"<rss>" + b" " * (3 * MB)),  # says its size up front
    "/big-undeclared": _body(b"<rss>" + b" " * (3 * MB), declared=False),  # streamed, no length
    "/bomb": _body(gzip.compress(b" " * (3 * MB)), Content_Encoding="gzip"),  # 3 KB on the wire
    "/loop": _redirect("/loop"),
    "/hop1": _redirect("/hop2"),
    "/hop2": _redirect("/feeds/antitrust"),
    "/to-file": _redirect("file:///etc/passwd"),
}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    running = FeedServer()
    yield running
    running.close()


def closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_feed_from_url_is_ingested(server: FeedServer, settings: Settings) -> None:
    url = f"{server.base}/feeds/antitrust"  # no extension: the reader is chosen by sniffing
    engine = connect(settings.database)
    report = ingest([url], engine, settings)
    assert report.ok, report.rejections
    (row,) = report.sources
    assert (row.source, row.reader, row.new) == (url, "feed", 2)
    stored = {a.id: a for a in load_articles(engine)}
    assert stored["rs-app-store-raid"].source == url
    assert stored["rs-app-store-raid"].title.startswith("Regulator raids app store")


def test_404_is_rejected_with_url_and_status(server: FeedServer, settings: Settings) -> None:
    url = f"{server.base}/feeds/gone.xml"
    report = ingest([url, f"{server.base}/feeds/antitrust"], connect(settings.database), settings)
    (error,) = report.rejections
    assert error.where == url
    assert "cannot fetch" in error.problem and "HTTP 404 Not Found" in error.problem
    assert report.total().new == 2  # the other source still went in


def test_connection_refused(settings: Settings) -> None:
    url = f"http://127.0.0.1:{closed_port()}/feed.xml"
    report = ingest([url], connect(settings.database), settings)
    (error,) = report.rejections
    assert error.where == url
    assert "cannot connect" in error.problem and "refused" in error.problem.lower()


def test_timeout(server: FeedServer, settings: Settings) -> None:
    impatient = settings.model_copy(update={"fetch_timeout": 0.3})
    url = f"{server.base}/slow"
    report = ingest([url], connect(settings.database), impatient)
    (error,) = report.rejections
    assert error.where == url
    assert "no answer within 0.3 s" in error.problem


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return settings.model_copy(update={"fetch_max_bytes": MB})


@pytest.mark.parametrize("path", ["/big", "/big-undeclared", "/bomb"])
def test_a_body_over_the_limit_is_refused_and_says_which(
    server: FeedServer, limited: Settings, path: str
) -> None:
    url = server.base + path
    report = ingest([url, f"{server.base}/feeds/antitrust"], connect(limited.database), limited)
    (error,) = report.rejections
    assert error.where == url and "DIGEST_FETCH_MAX_BYTES" in error.problem
    assert "1,048,576 bytes" in error.problem
    assert report.total().new == 2  # the next source still went in


def test_redirects_are_followed_a_few_times_only(server: FeedServer, settings: Settings) -> None:
    hops, loop = f"{server.base}/hop1", f"{server.base}/loop"
    report = ingest([hops, loop], connect(settings.database), settings)
    assert report.total().new == 2  # two hops are fine
    (error,) = report.rejections
    assert error.where == loop and "more than 5 redirects" in error.problem


@pytest.mark.parametrize("spec", ["file:///etc/passwd", "ftp://127.0.0.1/feed.xml", "/to-file"])
def test_only_http_urls_are_fetched(server: FeedServer, settings: Settings, spec: str) -> None:
    url = server.base + spec if spec.startswith("/") else spec
    report = ingest([url], connect(settings.database), settings)
    (error,) = report.rejections
    assert error.where == url and "http(s)" in error.problem
    assert "root:" not in error.problem
