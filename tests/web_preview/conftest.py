"""Fixtures for the preview: a small archive of our own, built by the real build library, served
by a real `digest preview` process on a free port, and looked at by a real headless Chromium.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from digest.archive.articles import save_articles
from digest.archive.db import connect, dispose_all
from digest.models import Article, Block, Tag
from digest.settings import Settings
from tests.support.settings import clean_settings, settings_env

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WEEK = "2026-W47"
SLUG = "ai-policy"

NEWSLETTERS_TOML = """
[newsletters.ai-policy]
title = "AI Policy Weekly"
description = "The week in AI regulation."
tags = ["ai-policy"]
max_articles = 10
sections = "tag"
subject = "AI Policy Weekly: {{ edition.label }}"
from_name = "Regwire AI Policy"
"""

TAXONOMY_TOML = """
[tags.ai-policy]
name = "AI policy"
keywords = ["artificial intelligence", "ai act", "general-purpose ai"]

[tags.antitrust]
name = "Antitrust"
keywords = ["antitrust", "cartel"]
"""

SUBSCRIBERS_CSV = "email,name\nada.reader@example.com,Ada Reader\n"

HEADLINE = "Commission publishes draft code for general-purpose AI models"
LEFT_OUT = "Cartel fine upheld for cement makers"
UNTAGGED = "UK government delays its artificial intelligence bill to spring"


def _article(ident: str, title: str, day: int, tags: list[str], paragraphs: list[str],
             standfirst: str | None = None) -> Article:
    return Article(
        id=ident,
        title=title,
        url=f"https://regwire.example/articles/{ident}",
        authors=["Jo Writer"],
        published_at=datetime(2026, 11, day, 9, 30, tzinfo=UTC),
        kind="News",
        tags=[Tag.from_name(t) for t in tags],
        standfirst=standfirst,
        body=[Block("paragraph", p) for p in paragraphs],
        contact="Editorial: editors@regwire.example",
        source="tests/web_preview",
    )


FIXTURE_ARTICLES = [
    _article(
        "ai-code-draft", HEADLINE, 18, ["AI policy"],
        [
            "The European Commission on Wednesday published a draft code of practice for "
            "providers of general-purpose AI models under the AI Act.",
            "The draft asks providers to document training data sources and to test models "
            "for systemic risks before release.",
            "Industry groups have until January to comment on the text.",
        ],
        standfirst="The Commission's draft sets out how model providers should document "
        "training data and test for systemic risks.",
    ),
    _article(
        "uk-ai-bill", UNTAGGED, 19, [],
        [
            "The UK government will not introduce its artificial intelligence bill before "
            "spring, ministers said on Thursday.",
            "Officials said the delay would allow more time to align the bill with the EU AI "
            "Act and with commitments made at recent international summits.",
            "Opposition members called the delay a missed opportunity.",
        ],
    ),
    _article(
        "cement-cartel", LEFT_OUT, 17, ["Antitrust"],
        [
            "The General Court upheld a fine imposed on four cement makers for running a "
            "cartel between 2015 and 2019.",
            "The companies may appeal to the Court of Justice on points of law.",
        ],
    ),
]


def make_site(folder: Path) -> Settings:
    """A newsroom in `folder`: archive with the fixture articles, newsletters, templates, and
    the fixture edition built by the real build library."""
    subscribers = folder / "subscribers"
    subscribers.mkdir(parents=True)
    (subscribers / "newsletters.toml").write_text(NEWSLETTERS_TOML)
    (subscribers / "taxonomy.toml").write_text(TAXONOMY_TOML)
    (subscribers / f"{SLUG}.csv").write_text(SUBSCRIBERS_CSV)
    templates = folder / "templates"
    shutil.copytree(ROOT / "digest" / "templates", templates)
    settings = clean_settings(
        data_dir=folder / "data",
        database_url=f"sqlite:///{folder / 'archive.db'}",
        out_dir=folder / "editions",
        templates_dir=templates,
        subscribers_dir=subscribers,
        secret_key="preview-test-key",
    )
    save_articles(connect(settings.database), FIXTURE_ARTICLES)
    build_fixture_edition(settings)
    dispose_all()  # the server process opens the archive itself
    return settings


def build_fixture_edition(settings: Settings) -> None:
    from digest.build import build_editions

    build_editions(settings, week=WEEK)


class PreviewProcess:
    """`digest preview --port 0 --no-open` in its own process; `url` once it answers."""

    def __init__(self, settings: Settings, cwd: Path, command: list[str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            command or [sys.executable, "-m", "digest", "preview", "--port", "0", "--no-open"],
            env={**settings_env(settings), **(env or {})},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        self.url = self._wait_for_url()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for line in self.lines:
                if found := re.search(r"Preview: (http://[^/\s]+)", line):
                    return found.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError("digest preview did not start:\n" + "\n".join(self.lines))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> int | None:
        """Ctrl+C, as an editor would; returns the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A built newsroom shared by the read-only tests of a module."""
    return make_site(tmp_path_factory.mktemp("newsroom"))


@pytest.fixture(scope="module")
def server(site: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PreviewProcess]:
    process = PreviewProcess(site, tmp_path_factory.mktemp("cwd"))
    yield process
    process.stop()


@pytest.fixture
def fresh_site(tmp_path: Path) -> Settings:
    """A newsroom of this test's own, for tests that change templates or inputs."""
    return make_site(tmp_path / "newsroom")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[[Settings], PreviewProcess]]:
    started: list[PreviewProcess] = []

    def start(settings: Settings, command: list[str] | None = None,
              env: dict[str, str] | None = None) -> PreviewProcess:
        started.append(PreviewProcess(settings, tmp_path, command, env))
        return started[-1]

    yield start
    for process in started:
        process.stop()


# `browser` (one headless Chromium for the whole session) is in tests/conftest.py.


class Offline:
    """Every request to a host other than 127.0.0.1 is aborted, and remembered."""

    def __init__(self) -> None:
        self.blocked: list[str] = []

    def __call__(self, route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()


@pytest.fixture
def offline() -> Offline:
    return Offline()


@pytest.fixture
def page(browser: Any, offline: Offline) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", offline)
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def screenshot(page: Any, name: str, **options: Any) -> Path:
    """Save a screenshot under tests/web_preview/artifacts/ (ignored by git) and say where."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), **options)
    print(f"screenshot: {path}")
    return path


class Facts:
    """What the fixture newsroom holds, for the tests to check against."""

    week = WEEK
    slug = SLUG
    headline = HEADLINE
    left_out = LEFT_OUT
    untagged = UNTAGGED


@pytest.fixture(scope="session")
def facts() -> type[Facts]:
    return Facts


@pytest.fixture(scope="session")
def shoot() -> Callable[..., Path]:
    return screenshot


@pytest.fixture(scope="session")
def env_for() -> Callable[[Settings], dict[str, str]]:
    return settings_env
