"""A small newsroom for the edition lifecycle: the build fixtures' articles and newsletters
(week 2026-W10), a few subscribers each, and the real CLI to build, send and serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from digest.archive.articles import save_articles
from digest.cli import app
from digest.models import Article
from digest.settings import Settings
from digest.subscribers import sync_subscribers
from tests.support.data import PUBLIC_BASE_URL

FIXTURES = Path(__file__).resolve().parents[1] / "build" / "fixtures"
WEEK = "2026-W10"
LETTERS = ("tech-brief", "markets", "everything")
READERS = 4  # per newsletter

Cli = Callable[..., Result]


@pytest.fixture
def newsroom(settings: Settings, engine: Engine, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings (exported too) for a newsroom whose archive holds the fixture week."""
    folder = tmp_path / "subscribers"
    folder.mkdir()
    for name in ("newsletters.toml", "taxonomy.toml"):
        (folder / name).write_text((FIXTURES / name).read_text(encoding="utf-8"))
    for slug in LETTERS:
        rows = "".join(f"{slug}.reader{n}@example.com,Reader {n}\n" for n in range(READERS))
        (folder / f"{slug}.csv").write_text("email,name\n" + rows)
    monkeypatch.setenv("DIGEST_SUBSCRIBERS_DIR", str(folder))
    # Public https links: with a local DIGEST_BASE_URL the pre-send checks refuse real sends.
    monkeypatch.setenv("DIGEST_BASE_URL", PUBLIC_BASE_URL)
    data = json.loads((FIXTURES / "articles.json").read_text(encoding="utf-8"))
    save_articles(engine, [Article.from_dict(item) for item in data])
    sync_subscribers(engine, folder)
    return Settings()


@pytest.fixture
def cli(newsroom: Settings) -> Cli:
    """Run `digest ARGS...` in-process, as the editor types it."""
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def digest_process(*args: str, cwd: Path, env: dict[str, str] | None = None,
                   **popen: object) -> subprocess.Popen[str]:
    """`digest ARGS...` in a process of its own (environment: ours, plus `env`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "digest", *args], cwd=cwd, text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})}, **popen,  # type: ignore[arg-type]
    )
