"""Fixtures for the sender: a built edition, subscribers, and real servers on 127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # tests.support, whatever directory pytest was started from
    sys.path.insert(0, str(ROOT))

from digest.settings import Settings  # noqa: E402
from tests.support.data import (  # noqa: E402
    EDITION,
    PUBLIC_BASE_URL,
    SLUG,
    add_subscribers,
    make_edition,
)
from tests.support.sendgrid_server import API_KEY, SendGridServer  # noqa: E402
from tests.support.smtp_server import SmtpServer  # noqa: E402

Configure = Callable[..., Settings]


@pytest.fixture(autouse=True)
def _public_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real send's links must be public https ones, or the pre-send checks refuse it."""
    monkeypatch.setenv("DIGEST_BASE_URL", PUBLIC_BASE_URL)


@pytest.fixture
def configure(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Configure:
    """Settings with some values changed, also exported (CLI commands see the same)."""

    def change(**values: object) -> Settings:
        for name, value in values.items():
            monkeypatch.setenv(f"DIGEST_{name.upper()}", str(value))
        return Settings()

    return change


@pytest.fixture
def edition(settings: Settings) -> Path:
    return make_edition(settings.out_dir, EDITION, SLUG)


@pytest.fixture
def people(engine: Engine) -> Callable[[int], list[str]]:
    """people(n): n subscribers of the test newsletter, their addresses in order."""
    return lambda n, start=0: add_subscribers(engine, SLUG, n, start=start)


@pytest.fixture
def sendgrid() -> Iterator[SendGridServer]:
    with SendGridServer() as server:
        yield server


@pytest.fixture
def sendgrid_settings(configure: Configure, sendgrid: SendGridServer, edition: Path) -> Settings:
    return configure(
        sender="sendgrid",
        sendgrid_api_key=API_KEY,
        sendgrid_api_host=sendgrid.url,
        sendgrid_timeout=2,
        send_backoff=0.01,
    )


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def smtp_settings(configure: Configure, smtp: SmtpServer, edition: Path) -> Settings:
    return configure(sender="smtp", smtp_host="127.0.0.1", smtp_port=smtp.port, send_backoff=0.01)
