"""A big send in several processes at once (DIGEST_SEND_PROCESSES), each with its own share.

Python runs one process on one core at a time, and sending SendGrid-sized batches is CPU work
(personalising, signing two links per reader, the ledger's writes): a second process nearly
doubles the rate on two cores (bench/send.py). The shares are disjoint by construction: process
k of n reads only the subscribers whose row id % n == k and numbers its batches after the last
one, k + 1, then every n-th (Ledger.share); the ledger's unique key would refuse a recipient
claimed twice all the same. Each process claims, delivers and settles its batches exactly as a
single one does, so a crash leaves at most one batch per process in doubt, never re-sent.

The parent holds the send lease and freezes the edition before any child starts. Children are
forked (they inherit the opened backends and the frozen copy; nothing is read again), report
progress and their counts through a pipe, stop before their next batch when told to (the lease
was lost, or another child stopped the send) and die with the parent, so a kill -9 of `digest
send` leaves no sender behind.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from digest.errors import DigestError
from digest.forking import die_with
from digest.send.backends import Retry

if TYPE_CHECKING:
    from digest.send.ledger import Page
    from digest.send.runner import _Run
    from digest.settings import Settings

    Fetch = Callable[[Callable[[int, int], Page]], Callable[[int, int], Page]]

MIN_RECIPIENTS = 2000  # below this one process is as quick: forking and a share's pages cost
TOLD_TO_STOP = "another sending process stopped the send"


def processes_for(settings: Settings, to_send: int) -> int:
    """How many processes send `to_send` recipients (1: this one alone)."""
    if settings.send_processes < 2 or to_send <= MIN_RECIPIENTS or not hasattr(os, "fork"):
        return 1
    return settings.send_processes


def send_in_processes(run: _Run, fetch: Fetch, count: int) -> None:
    """Send the list in `count` processes; their counts are added to run.report. Raises
    SendStopped when one stopped the send (the first reason), DigestError when one failed."""
    from digest.send.runner import SendStopped

    run.freeze()  # once, here: the children only send the frozen copy
    after = run.ledger.last_batch()
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    readers: dict[Connection, tuple[int, Any]] = {}
    for k in range(count):
        reader, writer = context.Pipe(duplex=False)
        child = context.Process(target=_child, name=f"digest-send-{k + 1}", daemon=True,
                                args=(run, fetch, k, count, after, writer, stop, os.getpid()))
        child.start()
        writer.close()  # the child's end: EOF here once the child is gone
        readers[reader] = (k, child)
    done: dict[int, dict[str, Any]] = {}
    stopped: str | None = None
    failed: str | None = None
    while readers:
        if run.lease.lost and stopped is None:
            stopped = f"lost the send lease: {run.lease.lost}"
            stop.set()
        for reader in wait(list(readers), timeout=0.5):
            try:
                kind, k, value = reader.recv()
            except EOFError:
                k, child = readers.pop(reader)
                child.join()
                if k not in done and failed is None:
                    failed = f"sending process {k + 1} ended unexpectedly (exit {child.exitcode})"
                    stop.set()
                continue
            if kind == "progress" and run.progress is not None:
                run.progress(value)
            elif kind == "retry" and run.on_retry is not None:
                run.on_retry(Retry(value[0]), value[1])
            elif kind == "done":
                done[k] = value
                echo = value["stopped"] and TOLD_TO_STOP in value["stopped"]
                if value["stopped"] and stopped is None and not echo:
                    stopped = value["stopped"]  # the reason, not another child's "told to"
                    stop.set()
            elif kind == "failed" and failed is None:
                failed = value
                stop.set()
    report = run.report
    for counts in done.values():
        report.sent += counts["sent"]
        report.failed += counts["failed"]
        report.retries += counts["retries"]
        report.skipped += counts["skipped"]
        for copy, sent in counts["copies"].items():
            report.copies[copy] = report.copies.get(copy, 0) + sent
    if stopped is None and any(counts["stopped"] for counts in done.values()):
        stopped = TOLD_TO_STOP  # (cannot happen: whoever stopped first said why)
    if failed is not None:
        raise DigestError(f"the send stopped: {failed}",
                          hint="Run the send again to pick up the rest (`digest status` shows "
                          "where it stands).")
    if stopped is not None:
        raise SendStopped(stopped)


class _Watch:
    """A child's view of the send lease: lost when the parent says stop or is gone."""

    def __init__(self, stop: Any, parent: int) -> None:
        self._stop = stop
        self._parent = parent

    @property
    def lost(self) -> str | None:
        if self._stop.is_set():
            return TOLD_TO_STOP
        if os.getppid() != self._parent:
            return "the sending process is gone"
        return None


def _child(run: _Run, fetch: Fetch, k: int, count: int, after: int, pipe: Connection,
           stop: Any, parent: int) -> None:
    from digest.send.runner import SendReport, SendStopped

    die_with(parent)
    # New connections of its own: the pool's inherited ones are the parent's, left untouched.
    run.ledger.engine.dispose(close=False)
    run.ledger = run.ledger.share(k, count, after)
    run.lease = _Watch(stop, parent)  # type: ignore[assignment]
    run.report = SendReport(run.report.plan)  # this child's counts only
    run.progress = lambda n: pipe.send(("progress", k, n))
    run.on_retry = lambda exc, delay: pipe.send(("retry", k, (str(exc), delay)))
    try:
        try:
            run.all(fetch(run.ledger.page), resend=False)
        except SendStopped as exc:
            stop.set()  # the others stop before their next batch, not after this one reports
            run.report.stopped = str(exc)
        finally:
            for backend in run.backends.values():
                with contextlib.suppress(Exception):
                    backend.__exit__(None, None, None)
    except BaseException as exc:  # Ctrl+C, a database gone away: the parent says so
        stop.set()
        why = exc.message if isinstance(exc, DigestError) else f"{type(exc).__name__}: {exc}"
        pipe.send(("failed", k, f"sending process {k + 1}: {why}"))
        return
    r = run.report
    pipe.send(("done", k, {"sent": r.sent, "failed": r.failed, "retries": r.retries,
                           "skipped": r.skipped, "copies": r.copies, "stopped": r.stopped}))
