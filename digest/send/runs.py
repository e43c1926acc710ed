"""Each run of `digest send`: when it started and ended, and how (for `digest status`)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update

from digest.archive.schema import send_runs
from digest.editions.lease import HOST
from digest.errors import DigestError
from digest.send.ledger import Ledger

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


def check_same_sender(engine: Engine, edition: str, newsletter: str, sender: str, *,
                      switch: bool = False) -> None:
    """Refuse to carry a send on through another backend than the one that began it, unless
    `switch`: a DIGEST_SENDER left at its default (outbox) would write the rest of the list to
    files and mark everyone sent, and nobody would be mailed."""
    this = (send_runs.c.edition == edition) & (send_runs.c.newsletter == newsletter)
    with engine.connect() as conn:
        last = conn.execute(select(send_runs.c.id, send_runs.c.backend).where(this)
                            .order_by(send_runs.c.id.desc()).limit(1)).first()
    if last is None or last.backend == sender or switch:
        return
    sent = Ledger(engine, edition, newsletter).states().get("sent", 0)
    if not sent:
        return
    raise DigestError(
        f"{edition}/{newsletter} was being sent through {last.backend} (run {last.id}, "
        f"{sent:,} sent so far); this send would go through {sender} (DIGEST_SENDER)",
        hint=f"Set DIGEST_SENDER={last.backend} (and its settings) to carry on, or pass "
        f"--switch-sender to send the rest through {sender}.",
    )
