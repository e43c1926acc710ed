"""Fixtures for the build tests: our own small archive, taxonomy and newsletters (week 2026-W10),
independent of the bundled sample."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.archive.articles import save_articles
from digest.models import Article
from digest.settings import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"
WEEK = "2026-W10"


def fixture_articles() -> list[Article]:
    data = json.loads((FIXTURES / "articles.json").read_text(encoding="utf-8"))
    return [Article.from_dict(item) for item in data]


@pytest.fixture
def build_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The shared settings pointed at the fixture newsletters (env too, for the CLI)."""
    monkeypatch.setenv("DIGEST_SUBSCRIBERS_DIR", str(FIXTURES))
    return Settings()


@pytest.fixture
def archive(engine: Engine) -> Engine:
    """The archive holding the fixture articles."""
    save_articles(engine, fixture_articles())
    return engine


@pytest.fixture
def subscribers_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """A writable copy of the fixture newsletters/taxonomy; returns a function that rewrites
    one of the files and points DIGEST_SUBSCRIBERS_DIR at the copy."""
    folder = tmp_path / "subscribers"
    folder.mkdir()
    for name in ("newsletters.toml", "taxonomy.toml"):
        (folder / name).write_text((FIXTURES / name).read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("DIGEST_SUBSCRIBERS_DIR", str(folder))

    def write(name: str | None = None, text: str | None = None) -> Path:
        if name is not None and text is not None:
            (folder / name).write_text(text, encoding="utf-8")
        return folder

    return write
