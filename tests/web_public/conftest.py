"""Fixtures for the public endpoints: the app in-process, newsletter names, and row readers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from digest.archive.schema import suppressions
from digest.send.tokens import make_token
from digest.settings import Settings
from digest.web.public.app import create_app
from tests.support.asgi import InProcess

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
