"""A real `digest send` killed with SIGKILL mid-send, then run again: nobody twice, nobody lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.settings import Settings
from tests.support.data import EDITION, SLUG, ledger_rows
from tests.support.sendgrid_server import Action, SendGridServer

People = Callable[..., list[str]]
SEND = [sys.executable, "-m", "digest", "send", EDITION, "--newsletter", SLUG, "--yes"]
BATCH, DONE = 100, 12  # the kill comes while batch 13 of 30 is with the provider


def digest_send(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SEND, *extra], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


@pytest.mark.parametrize("provider_took_it", [False, True], ids=["lost-request", "lost-answer"])
def test_killed_send_resumes_without_double_mail(
    sendgrid_settings: Settings,
    sendgrid: SendGridServer,
    people: People,
    engine: Engine,
    configure: Callable[..., Settings],
    tmp_path: Path,
    provider_took_it: bool,
) -> None:
    configure(send_batch_size=BATCH)
    emails = people(3000)
    # Batch 13 is held by the server (taken first, or not at all) until the sender is dead.
    sendgrid.script(*[Action.ok()] * DONE, Action.hold(process=provider_took_it))
    process = subprocess.Popen(
        SEND, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        sendgrid.wait_until(lambda: sendgrid.held == 1, timeout=60)
        rows = ledger_rows(engine)  # in flight was committed BEFORE the request went out
        assert Counter(state for state, _ in rows.values()) == {"sent": 1200, "in_flight": 100}
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        sendgrid.release()
    in_flight = emails[DONE * BATCH : (DONE + 1) * BATCH]

    again = digest_send(tmp_path)
    assert again.returncode == 1, again.stderr  # finished, but 100 are in doubt
    assert "in doubt 100" in again.stdout
    assert f"{in_flight[0]}, " in again.stderr and "and 95 more" in again.stderr
    listed = (sendgrid_settings.out_dir / EDITION / SLUG / "in-doubt.csv").read_text()
    assert all(f"{address},{DONE + 1}," in listed for address in in_flight)
    counts = Counter(address for address, _ in sendgrid.accepted)
    expected = Counter(emails) if provider_took_it else Counter(emails) - Counter(in_flight)
    assert counts == expected  # each exactly once; the in-doubt batch was left alone

    if not provider_took_it:  # they never got it: the editor resends them on purpose
        resent = digest_send(tmp_path, "--resend-in-doubt")
        assert resent.returncode == 0, resent.stdout + resent.stderr
        assert "sent 100" in resent.stdout and "in doubt 0" in resent.stdout
        assert Counter(address for address, _ in sendgrid.accepted) == Counter(emails)
    rows = ledger_rows(engine)
    expected_states = {"sent": 3000} if not provider_took_it else {"sent": 2900, "in_doubt": 100}
    assert Counter(state for state, _ in rows.values()) == expected_states
