"""Fixtures for the public endpoints: the app in-process, newsletter names, and row readers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
from sqlalchemy import Engine, select

from digest.archive.schema import suppressions
from digest.send.tokens import make_token
from digest.settings import Settings
from digest.web.public.app import create_app

NEWSLETTERS_TOML = """
[newsletters.antitrust-weekly]
title = "Antitrust Weekly"
tags = ["antitrust"]

[newsletters.trade-brief]
title = "Trade & <Tariffs> Brief"
tags = ["trade"]
"""


@pytest.fixture
def public_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The shared settings with a newsletters.toml of our own (titles shown on the pages)."""
    folder = tmp_path / "subscribers"
    folder.mkdir()
    (folder / "newsletters.toml").write_text(NEWSLETTERS_TOML)
    return settings.model_copy(update={"subscribers_dir": folder})


class InProcess:
    """httpx's ASGITransport behind a blocking portal: synchronous tests, the app in-process."""

    def __init__(self, app: Any) -> None:
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        transport = httpx.ASGITransport(app=app)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._portal.call(partial(self._client.request, method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self._portal.call(self._client.aclose)
        self._stack.close()


@pytest.fixture
def in_process() -> Iterator[Callable[[Settings], InProcess]]:
    """Builds the public app from some settings and a client for it; closes them after."""
    opened: list[InProcess] = []

    def open_client(settings: Settings) -> InProcess:
        opened.append(InProcess(create_app(settings)))
        return opened[-1]

    yield open_client
    for client in opened:
        client.close()


@pytest.fixture
def client(public_settings: Settings, in_process) -> InProcess:
    return in_process(public_settings)


@pytest.fixture
def token_for(public_settings: Settings) -> Callable[[str, str], str]:
    """A genuine unsubscribe token, as a send would put in the email."""
    key = public_settings.signing_key()
    return lambda email, newsletter: make_token(key, email, newsletter)


@pytest.fixture
def suppressed(engine: Engine) -> Callable[[], set[tuple[str, str, str, str]]]:
    """Reads (email, newsletter, reason, source) of every suppression."""
    s = suppressions.c
    query = select(s.email, s.newsletter, s.reason, s.source)

    def rows() -> set[tuple[str, str, str, str]]:
        with engine.connect() as conn:
            return {tuple(row) for row in conn.execute(query)}

    return rows
