"""Live reload: watch what an edition is made of, and wake the open pages when it changes.

Two kinds of change matter. An *input* (a template, newsletters.toml / taxonomy.toml, the
archive) means the open editions must be rebuilt; an *output* (a build wrote an edition, a
subscriber list changed the sample reader) only means the pages should look again. Files are
watched with watchfiles; the archive is polled with one cheap query, which works the same for
SQLite and PostgreSQL, and so are the newsletters' states (a send starting or ending somewhere
means look again). Folders that do not exist yet are re-checked every second, so the first
`digest build` (which creates the output folder) is noticed too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import func, select
from watchfiles import awatch

from digest.settings import Settings
from digest.web.preview.states import existing_archive, states_mark

log = logging.getLogger("digest.preview")

# Files of a built edition a page shows; others under the output folder (a test send's .eml
# files, say) must not reload the page.
EDITION_FILES = {"index.json", "manifest.json", "email.html", "email.txt", "email.mjml"}
INPUT_SUFFIXES = {".toml"}  # in the subscribers folder; the .csv lists only change the sample
POLL_SECONDS = 1.0

React = Callable[[bool], Awaitable[None]]
"""Called after a change: True when editions must be rebuilt, False when pages should look again."""


class Hub:
    """Wakes every open page's event stream; counts which editions are being looked at."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.closed = False
        self._viewers: Counter[str] = Counter()

    def ticket(self) -> asyncio.Event:
        """Take this before looking at the state, then wait on it: no change can slip between."""
        return self._event

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, ticket: asyncio.Event, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ticket.wait(), timeout)
            return True
        return False

    def close(self) -> None:
        """The server is stopping: end every stream so shutdown does not wait on them."""
        self.closed = True
        self.notify()

    def viewing(self, edition: str | None, delta: int) -> None:
        if edition:
            self._viewers[edition] += delta
            if self._viewers[edition] <= 0:
                del self._viewers[edition]

    def viewed(self) -> set[str]:
        return set(self._viewers)


def packaged_templates() -> Path | None:
    folder = Path(__file__).resolve().parent.parent / "templates"
    return folder if folder.is_dir() else None


def watched_roots(settings: Settings) -> dict[Path, str]:
    """Existing folders to watch, each with what a change there means."""
    roots = {
        settings.templates_dir: "inputs",
        settings.subscribers_dir: "subscribers",
        settings.out_dir: "output",
    }
    if packaged := packaged_templates():
        roots[packaged] = "inputs"
    return {path.resolve(): kind for path, kind in roots.items() if path.is_dir()}


def archive_mark(settings: Settings) -> tuple[object, ...]:
    """Changes whenever an article is added, updated or removed (ingest stamps ingested_at)."""
    from digest.archive.schema import articles

    try:
        engine = existing_archive(settings)  # don't create an empty archive just by looking
        if engine is None:
            return ("absent",)
        with engine.connect() as conn:
            row = conn.execute(
                select(func.count(), func.max(articles.c.ingested_at)).select_from(articles)
            ).one()
    except Exception as exc:  # a server that went away must not kill the watcher
        log.warning("cannot read the archive: %s", exc)
        return ("unreadable",)
    return tuple(row)


def classify(changes: set[tuple[object, str]], roots: dict[Path, str]) -> bool | None:
    """True: rebuild; False: only look again; None: nothing the preview cares about."""
    verdict: bool | None = None
    for _kind, raw in changes:
        path = Path(raw)
        root = next((r for r in roots if path == r or r in path.parents), None)
        if root is None:
            continue
        kind = roots[root]
        if kind == "inputs" or (kind == "subscribers" and path.suffix in INPUT_SUFFIXES):
            return True
        if kind == "subscribers" or path.name in EDITION_FILES:
            verdict = False
    return verdict


async def watch(settings: Settings, react: React, stop: asyncio.Event) -> None:
    """Run until `stop` is set, calling `react` after each relevant change."""
    mark = await asyncio.to_thread(archive_mark, settings)
    states = await asyncio.to_thread(states_mark, settings)
    while not stop.is_set():
        roots = watched_roots(settings)
        restart = asyncio.Event()
        files = asyncio.create_task(_watch_files(roots, react, restart))
        try:
            while not stop.is_set():
                await _sleep_unless(stop, POLL_SECONDS)
                now = watched_roots(settings)
                if now != roots:
                    # A folder appeared or went away: re-watch, and treat it as a change to it.
                    appeared = {now.get(p) or roots.get(p) for p in set(now) ^ set(roots)}
                    await react(bool(appeared & {"inputs", "subscribers"}))
                    break
                latest = await asyncio.to_thread(archive_mark, settings)
                if latest != mark:
                    mark = latest
                    await react(True)
                now_states = await asyncio.to_thread(states_mark, settings)
                if now_states != states:  # a build or a send elsewhere: look again
                    states = now_states
                    await react(False)
        finally:
            restart.set()
            await files


async def _watch_files(roots: dict[Path, str], react: React, restart: asyncio.Event) -> None:
    if not roots:
        await restart.wait()
        return
    try:
        async for changes in awatch(*roots, stop_event=restart, debounce=400, step=50):
            verdict = classify(changes, roots)
            if verdict is not None:
                await react(verdict)
    except Exception as exc:  # e.g. a watched folder deleted under us: the poll loop re-watches
        log.warning("file watcher stopped: %s", exc)
        await restart.wait()


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
