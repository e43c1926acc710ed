"""Each run of `digest send`: when it started and ended, and how (for `digest status`)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, update

from digest.archive.schema import send_runs
from digest.editions.lease import HOST

DIED = "it ended without saying so (killed, or a crash)"


def start_run(engine: Engine, edition: str, newsletter: str, backend: str) -> int:
    """A new run; earlier runs of the same send that never finished died. Call holding the
    send lease."""
    now = datetime.now(UTC)
    this = (send_runs.c.edition == edition) & (send_runs.c.newsletter == newsletter)
    with engine.begin() as conn:
        conn.execute(
            update(send_runs).where(this, send_runs.c.finished_at.is_(None),
                                    send_runs.c.outcome.is_(None))
            .values(outcome="died", note=DIED)
        )
        result = conn.execute(
            insert(send_runs).values(edition=edition, newsletter=newsletter, backend=backend,
                                     host=HOST, pid=os.getpid(), started_at=now)
        )
        return int(result.inserted_primary_key[0])


def finish_run(engine: Engine, run: int, outcome: str, note: str | None = None) -> None:
    """`outcome`: finished (went through the list) or stopped (with `note` saying why)."""
    with engine.begin() as conn:
        conn.execute(
            update(send_runs).where(send_runs.c.id == run)
            .values(finished_at=datetime.now(UTC), outcome=outcome, note=note)
        )
