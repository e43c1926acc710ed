"""kill -9 at random points of a big send, again and again, while the provider answers 429 and
500, loses answers and resets uploads: nobody is ever mailed twice, and everyone not mailed is
reported in doubt (or was refused, and says so).

    DIGEST_STRESS_RECIPIENTS=1000000 DIGEST_STRESS_KILLS=20 pytest tests/send/test_kill_stress.py

runs the nightly size; the default fits the CI's time budget (on PostgreSQL when the tests have
one, else on SQLite).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.settings import Settings
from tests.conftest import PG_URL
from tests.support.data import EDITION, SLUG, ledger_rows
from tests.support.sendgrid_server import API_KEY, SendGridServer

RECIPIENTS = int(os.environ.get("DIGEST_STRESS_RECIPIENTS", "100000"))
KILLS = int(os.environ.get("DIGEST_STRESS_KILLS", "4"))
CHAOS = {"429": 0.03, "500": 0.03, "drop": 0.02, "timeout": 0.01, "cut": 0.01}
SEND = [sys.executable, "-m", "digest", "send", EDITION, "--newsletter", SLUG, "--yes"]

pytestmark = pytest.mark.timeout(900)


def test_kill_9_at_random_points_never_mails_anyone_twice(
    configure: Callable[..., Settings], edition: Path, people: Callable[..., list[str]],
    engine: Engine, tmp_path: Path, database_url: str,
) -> None:
    if PG_URL and database_url.startswith("sqlite"):
        pytest.skip("one big run is enough: on PostgreSQL, as in CI")
    seed = int(os.environ.get("DIGEST_STRESS_SEED", str(time.time_ns() % 10**6)))
    print(f"seed {seed} (DIGEST_STRESS_SEED={seed} repeats the kill points)")
    chance = random.Random(seed)
    emails = people(RECIPIENTS)
    server = SendGridServer(chaos=CHAOS, seed=seed).start()
    server.chaos_delay = 1.5
    settings = configure(sender="sendgrid", sendgrid_api_key=API_KEY,
                         sendgrid_api_host=server.url, sendgrid_timeout=1.0, send_backoff=0.01,
                         send_retries=8, send_processes=2)  # killed with both its senders
    batches = -(-RECIPIENTS // settings.send_batch_size)
    try:
        kills = 0
        while kills < KILLS:
            process = subprocess.Popen(SEND, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            target = server.requests + chance.randint(1, max(2, 2 * batches // KILLS))
            while server.requests < target and process.poll() is None:
                time.sleep(0.002)
            time.sleep(chance.uniform(0, 0.05))  # anywhere: mid-request, mid-commit, between
            if process.poll() is not None:
                break  # it finished before the kill came: nothing left to kill
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=30) == -signal.SIGKILL
            kills += 1
        for _ in range(10):  # then let it run to the end of the list
            done = subprocess.run(SEND, cwd=tmp_path, capture_output=True, text=True,
                                  timeout=600)
            if "stopped:" not in done.stderr:
                break
        assert "Traceback" not in done.stdout + done.stderr
        assert "remaining" not in done.stderr
    finally:
        server.stop()

    taken = server.counts  # "edition/newsletter/email" -> times the provider took it
    mailed = Counter({key.rsplit("/", 1)[1]: n for key, n in taken.items()})
    assert max(mailed.values()) == 1, "someone was mailed twice"
    assert server.stats()["duplicates"] == 0
    rows = ledger_rows(engine)
    states = Counter(state for state, _ in rows.values())
    print(f"{kills} kills; ledger {dict(states)}; provider took {sum(mailed.values()):,}")
    assert set(rows) == set(emails)  # everyone was tried: none left behind unmentioned
    assert states["in_flight"] == 0
    for address in emails:
        state = rows[address][0]
        if state == "sent":
            assert mailed[address] == 1, f"{address} marked sent, never taken"
        elif mailed[address] == 0:
            assert state in ("in_doubt", "failed"), f"{address} not mailed, not reported"
    in_doubt_csv = (edition / "in-doubt.csv").read_text().splitlines()
    assert len(in_doubt_csv) - 1 == states["in_doubt"]
    assert re.search(rf"in doubt\s+{states['in_doubt']:,}", done.stdout), done.stdout
