"""Shared fixtures: a settings object in a temporary folder and the archive databases to test.

Storage tests take the `engine` fixture: SQLite always, and PostgreSQL too when
DIGEST_TEST_DATABASE_URL names a server (`.ci/run` starts one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from digest.archive.db import connect, dispose_all
from digest.archive.schema import metadata
from digest.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("DIGEST_TEST_DATABASE_URL", "")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's .env or DIGEST_* variables, or writes into the repo."""
    for name in list(os.environ):
        if name.startswith("DIGEST_") and name != "DIGEST_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
    else:
        engine = connect(PG_URL)
        metadata.drop_all(engine)
        dispose_all()
        yield PG_URL
    dispose_all()


@pytest.fixture
def engine(database_url: str) -> Engine:
    return connect(database_url)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointing at a temporary data folder and archive, also exported to the
    environment so CLI commands run through Typer's runner see the same values.

    Chromium and SpamAssassin are pointed at nothing: `digest send` runs the pre-send checks
    that have not run on what it sends, and these two would cost seconds per send in tests
    about delivery (a missing tool is a warning, never a refusal). tests/checks runs both.
    A send goes in one process, in list order, which the tests of batches and crashes count
    on; tests/send/test_processes.py (and the kill -9 stress test) send in several."""
    values = {
        "DIGEST_DATA_DIR": str(tmp_path / "data"),
        "DIGEST_DATABASE_URL": database_url,
        "DIGEST_OUT_DIR": str(tmp_path / "editions"),
        "DIGEST_TEMPLATES_DIR": str(tmp_path / "templates"),
        "DIGEST_SUBSCRIBERS_DIR": str(ROOT / "subscribers"),
        "DIGEST_SECRET_KEY": "test-secret-key",
        "DIGEST_CHROMIUM_PATH": str(tmp_path / "no-chromium"),
        "DIGEST_SPAMASSASSIN_PATH": str(tmp_path / "no-spamassassin"),
        "DIGEST_SEND_PROCESSES": "1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for every browser test of the session (Playwright's sync API
    allows one instance per thread, so the preview's and the public site's tests share it)."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
