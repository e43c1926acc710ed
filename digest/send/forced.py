"""Forced sends: a send that went out although the pre-send checks found errors in it.

`digest send --force` records, with the run it started, who forced it (DIGEST_EDITOR, else the
OS user), when, and the errors it went out with; `digest status` shows them with the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from digest.archive.schema import forced_sends
from digest.checks.gate import Verdict
from digest.editions import BuiltEdition
from digest.editions.states import aware


@dataclass(frozen=True)
class Forced:
    run_id: int
    forced_by: str
    forced_at: datetime | None
    errors: list[dict[str, str]]

    def describe(self) -> str:
        checks = ", ".join(sorted({e.get("check", "?") for e in self.errors}))
        when = f"{self.forced_at:%Y-%m-%d %H:%M:%S} UTC" if self.forced_at else "?"
        return (f"forced by {self.forced_by} at {when} despite {len(self.errors)} error(s): "
                f"{checks}")


def record_forced(engine: Engine, run_id: int, built: BuiltEdition, verdict: Verdict) -> None:
    errors = [{"check": f.check, "where": f.where, "problem": f.problem}
              for f in verdict.errors]
    with engine.begin() as conn:
        conn.execute(insert(forced_sends).values(
            edition=built.edition, newsletter=built.slug, run_id=run_id,
            forced_by=verdict.forced_by or "unknown", forced_at=datetime.now(UTC),
            content_hash=verdict.report.content, errors=errors))


def forced_runs(engine: Engine, edition: str, slug: str) -> dict[int, Forced]:
    """run id -> the forced send it started, for the runs of a newsletter's send."""
    f = forced_sends.c
    query = select(forced_sends).where(f.edition == edition, f.newsletter == slug)
    with engine.connect() as conn:
        return {row.run_id: Forced(row.run_id, row.forced_by, aware(row.forced_at),
                                   list(row.errors or []))
                for row in conn.execute(query)}
