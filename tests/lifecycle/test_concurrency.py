"""Several processes on one database: builds that never delete each other's work, ingests that
upsert, and SQLite set up to keep its commits."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from digest.archive.articles import save_articles
from digest.archive.schema import articles
from digest.build import build_editions
from digest.editions.lease import HOST
from digest.models import Article
from digest.send.ledger import Ledger, Settled
from digest.send.message import Recipient
from digest.send.runs import start_run
from digest.settings import Settings
from tests.lifecycle.conftest import WEEK
from tests.support.data import EDITION, SLUG

People = Callable[..., list[str]]
SEND = ["send", EDITION, "--newsletter", SLUG, "--yes"]


def run(process: subprocess.Popen[str]) -> tuple[int, str]:
    output, _ = process.communicate(timeout=120)
    return process.returncode, output


def test_concurrent_builds_keep_each_others_work(
    newsroom: Settings, engine: Engine, tmp_path: Path
) -> None:
    folder = newsroom.out_dir
    folder.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    alive = subprocess.Popen(["sleep", "60"])
    stages = {
        "dead": folder / f".{WEEK}.{HOST}.{dead.pid}.0000.tmp",
        "alive": folder / f".{WEEK}.{HOST}.{alive.pid}.0001.tmp",
        "elsewhere": folder / f".{WEEK}.another-machine.{os.getpid()}.0002.tmp",
    }
    for stage in stages.values():
        stage.mkdir()
    letters = ("tech-brief", "markets", "everything")
    try:
        # Three builds of one edition at once, each of one newsletter: each carries the others
        # over, so none may swap in a folder made before another's swap.
        start = threading.Barrier(len(letters))
        problems: list[BaseException] = []

        def build(slug: str) -> None:
            start.wait()
            try:
                build_editions(newsroom, week=WEEK, newsletters=[slug], engine=engine)
            except BaseException as exc:
                problems.append(exc)

        threads = [threading.Thread(target=build, args=(slug,)) for slug in letters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert problems == []
        index = json.loads((folder / WEEK / "index.json").read_text())
        assert [n["slug"] for n in index["newsletters"]] == list(letters)
        assert all((folder / WEEK / s / "manifest.json").is_file() for s in letters)
        assert not stages["dead"].exists()  # a killed build's leftovers: removed
        assert stages["alive"].is_dir() and stages["elsewhere"].is_dir()  # never another's
        assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(f".{WEEK}.")
                      ) == [WEEK]
    finally:
        alive.kill()
        alive.wait()


def ingest_at_once(engine: Engine, batch: list[Article], ways: int = 2) -> list[BaseException]:
    """save_articles(batch) from `ways` threads released at the same moment; their errors."""
    start = threading.Barrier(ways)
    problems: list[BaseException] = []

    def ingest() -> None:
        start.wait()
        try:
            save_articles(engine, batch)
        except BaseException as exc:
            problems.append(exc)

    threads = [threading.Thread(target=ingest) for _ in range(ways)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return problems


def test_concurrent_ingests_of_the_same_articles_upsert(engine: Engine) -> None:
    for round_ in range(8):
        batch = [Article(id=f"race-{round_}-{n}", title=f"Story {n}", source="t",
                         published_at=datetime(2026, 3, 2, 9, tzinfo=UTC)) for n in range(300)]
        assert ingest_at_once(engine, batch) == []
        with engine.connect() as conn:
            stored = conn.scalar(select(func.count()).where(
                articles.c.id.like(f"race-{round_}-%")))
        assert stored == 300


def test_a_newer_version_wins_over_an_ingest_that_looked_earlier(engine: Engine) -> None:
    first = Article(id="story", title="First", source="t",
                    published_at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    newer = Article(id="story", title="Corrected", source="t", published_at=first.published_at,
                    updated_at=datetime(2026, 3, 3, 9, tzinfo=UTC))
    assert save_articles(engine, [newer]) == ["new"]
    assert save_articles(engine, [first]) == ["stale"]
    with engine.connect() as conn:
        assert conn.scalar(select(articles.c.title).where(articles.c.id == "story")) == "Corrected"


def test_sqlite_keeps_every_commit_and_waits_for_other_writers(tmp_path: Path) -> None:
    from digest.archive.db import connect

    engine = connect(f"sqlite:///{tmp_path / 'durable.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    # A batch's outcome is committed without waiting for the disk (it falls back to "in
    # doubt" if lost); the connection goes back to the pool waiting again, for the claims.
    ledger = Ledger(engine, "2026-W10", "tech-brief")
    run = start_run(engine, "2026-W10", "tech-brief", "outbox")
    ledger.claim(1, [Recipient("a@example.com")], run)
    ledger.settle(1, [Recipient("a@example.com")], Settled({0: "id"}, {}, {}))
    idle = [engine.connect() for _ in range(engine.pool.checkedin())]  # settle()'s among them
    assert [c.exec_driver_sql("PRAGMA synchronous").scalar() for c in idle] == [2] * len(idle)
    for conn in idle:
        conn.close()
