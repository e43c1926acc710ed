"""Feeds over HTTP, against a real server on 127.0.0.1 that each test starts."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
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
