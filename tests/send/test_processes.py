"""A big send in several processes (DIGEST_SEND_PROCESSES): disjoint shares, one batch each in
flight at most, one stop stops all, and a kill -9 of `digest send` leaves no sender behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, select

from digest.archive.schema import deliveries, send_batches, subscribers
from digest.send.runner import run_send
from digest.settings import Settings
from tests.support.data import EDITION, SLUG, ledger_states
from tests.support.sendgrid_server import Action, SendGridServer

People = Callable[..., list[str]]
SEND = [sys.executable, "-m", "digest", "send", EDITION, "--newsletter", SLUG, "--yes"]


def test_two_processes_send_disjoint_shares_everyone_once(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine,
    configure: Callable[..., Settings],
) -> None:
    settings = configure(send_processes=2, send_batch_size=250)
    emails = people(5000)
    progress: list[int] = []

    report = run_send(settings, EDITION, SLUG, progress=progress.append)

    assert report.ok and report.sent == 5000 and sum(progress) == 5000
    assert sendgrid.taken() == Counter(emails)  # once each
    assert ledger_states(engine) == {"sent": 5000}
    with engine.connect() as conn:
        numbers = sorted(conn.scalars(select(send_batches.c.batch)))
        placed = conn.execute(
            select(subscribers.c.id, deliveries.c.batch)
            .join(deliveries, deliveries.c.email == subscribers.c.email)
        ).all()
    assert numbers == list(range(1, 21))  # no batch number taken twice
    # Share k of 2 holds the ids with id % 2 == k and numbers its batches k + 1, k + 3, ...
    assert all(batch % 2 == (row_id % 2 + 1) % 2 for row_id, batch in placed)


def test_a_stop_in_one_process_stops_them_all(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine,
    configure: Callable[..., Settings],
) -> None:
    settings = configure(send_processes=2, send_batch_size=250)
    people(5000)
    sendgrid.script(Action.ok(), Action.ok(), Action.error(401, "bad key"))

    report = run_send(settings, EDITION, SLUG)

    assert report.stopped and "401" in report.stopped and "API_KEY" in report.stopped
    # The other process stopped before its next batch: nobody in flight, and it did not finish
    # its share (each has 2,500). How many batches it sent before the stop reached it depends
    # on scheduling (a bound of 1,000 failed once on a loaded machine with 1,250).
    found = ledger_states(engine)
    assert found["in_flight"] == 0 and found["sent"] < 2500
    assert len(sendgrid.accepted) == found["sent"] == report.sent
    again = run_send(configure(send_processes=2, send_batch_size=250), EDITION, SLUG)
    assert again.ok and ledger_states(engine) == {"sent": 5000}
    assert len(sendgrid.accepted) == len(set(email for email, _ in sendgrid.accepted)) == 5000


def test_kill_9_leaves_no_sender_behind_and_at_most_a_batch_each_in_doubt(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine,
    configure: Callable[..., Settings], tmp_path: Path,
) -> None:
    configure(send_processes=2, send_batch_size=100)
    emails = people(3000)
    # The 7th and 8th requests are held (taken, their answers never come) until the kill.
    sendgrid.script(*[Action.ok()] * 6, Action.hold(process=True), Action.hold(process=True))
    process = subprocess.Popen(SEND, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})
    try:
        sendgrid.wait_until(lambda: sendgrid.held == 2, timeout=60)
        assert ledger_states(engine)["in_flight"] == 200  # one batch in flight per process
        children = _children(process.pid)
        assert len(children) == 2
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in children), "a sending process outlived the send"
    finally:
        if process.poll() is None:
            process.kill()
        sendgrid.release()

    again = subprocess.run(SEND, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "COLUMNS": "200"})
    assert again.returncode == 1, again.stderr  # finished, with the two held batches in doubt
    assert "in doubt 200" in again.stdout
    assert sendgrid.taken() == Counter(emails)  # once each
    assert ledger_states(engine) == {"sent": 2800, "in_doubt": 200}


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status
