"""One sender per edition on one database, whichever machine runs it; leases that expire."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, update

from digest.archive.schema import edition_leases
from digest.editions.lease import LeaseBusy, acquire
from digest.send.runner import run_send
from digest.settings import Settings
from tests.support.data import EDITION, SLUG
from tests.support.sendgrid_server import Action, SendGridServer

People = Callable[..., list[str]]
SEND = ["send", EDITION, "--newsletter", SLUG, "--yes"]


def digest_process(*args: str, cwd: Path, **popen: object) -> subprocess.Popen[str]:
    import os

    return subprocess.Popen([sys.executable, "-m", "digest", *args], cwd=cwd, text=True,
                            env={**os.environ, "COLUMNS": "200"}, **popen)  # type: ignore


def run(process: subprocess.Popen[str]) -> tuple[int, str]:
    output, _ = process.communicate(timeout=120)
    return process.returncode, output


def test_two_senders_on_one_database_exactly_one_sends(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People,
    configure: Callable[..., Settings], tmp_path: Path, engine: Engine,
) -> None:
    configure(send_batch_size=100, sendgrid_timeout=60)  # the held answer comes in the end
    emails = people(300)
    sendgrid.script(Action.hold(answer=True))  # the first sender waits on its first batch
    piped = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    first = digest_process(*SEND, cwd=tmp_path, **piped)
    try:
        sendgrid.wait_until(lambda: sendgrid.held == 1, timeout=60)
        code, output = run(digest_process(*SEND, cwd=tmp_path, **piped))
        assert code == 1, output
        words = " ".join(output.split())
        assert f"a send (process {first.pid} on this machine" in words
        assert f"holds {EDITION}/{SLUG}" in words
    finally:
        sendgrid.release()
    code, output = run(first)
    assert code == 0 and "sent 300" in output, output
    assert Counter(e for e, _ in sendgrid.accepted) == Counter(emails)

    if engine.dialect.name != "postgresql":
        return  # the race below once is enough: on PostgreSQL, as in CI
    # Started at the same moment: one sends everything, the other stands aside (refused, or
    # nothing left to send when it got the lease after the first had finished).
    more = people(2000, start=300)
    racers = [digest_process(*SEND, cwd=tmp_path, **piped) for _ in range(2)]
    results = [run(p) for p in racers]
    assert sorted(code for code, _ in results) in ([0, 0], [0, 1]), results
    senders = [out for _, out in results if "sent 2,000" in out]
    assert len(senders) == 1, results
    other = next(out for _, out in results if out is not senders[0])
    assert "holds" in other or "Nothing to send" in other, other
    assert Counter(e for e, _ in sendgrid.accepted) == Counter(emails + more)


def test_a_dead_holders_lease_is_taken_over(
    settings: Settings, edition: Path, people: People, engine: Engine
) -> None:
    people(3)
    now = datetime.now(UTC)

    def lease_from_elsewhere(expires_in: float) -> None:
        with engine.begin() as conn:
            conn.execute(edition_leases.delete())
            conn.execute(insert(edition_leases).values(
                edition=EDITION, newsletter=SLUG, holder="someone-else", purpose="send",
                host="another-machine", pid=4242, acquired_at=now,
                expires_at=now + timedelta(seconds=expires_in)))

    lease_from_elsewhere(-1)  # its holder stopped renewing it a second ago: expired
    assert run_send(settings, EDITION, SLUG).sent == 3

    people(2, start=3)
    lease_from_elsewhere(2.0)
    if engine.dialect.name == "postgresql":
        # The holder would hold the advisory lock too; nobody does, so it is gone: at once.
        assert run_send(settings, EDITION, SLUG).sent == 2
        return
    with pytest.raises(LeaseBusy, match="another-machine"):
        run_send(settings, EDITION, SLUG)
    deadline = time.monotonic() + 30
    while True:  # once it has not been renewed for its lifetime, it is free
        try:
            assert run_send(settings, EDITION, SLUG).sent == 2
            break
        except LeaseBusy:
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_a_lease_is_renewed_while_held_and_notices_a_takeover(engine: Engine) -> None:
    lease = acquire(engine, EDITION, SLUG, "send", ttl=0.6)
    try:
        time.sleep(1.5)  # longer than its lifetime: only renewals keep it
        with pytest.raises(LeaseBusy):
            acquire(engine, EDITION, SLUG, "send", ttl=0.6)
        assert lease.lost is None
        with engine.begin() as conn:  # as if another process had judged it dead
            conn.execute(update(edition_leases).values(holder="usurper"))
        deadline = time.monotonic() + 10
        while lease.lost is None:
            assert time.monotonic() < deadline, "the takeover went unnoticed"
            time.sleep(0.05)
        assert "took it over" in lease.lost
    finally:
        lease.release()
