"""`digest status`: where each newsletter of an edition stands, from the database alone.

Per newsletter: its state (draft / sending / sent), how many were sent, are in doubt, failed,
remain untried or are suppressed (and, for a newsletter cut to readers' topics, the same per
variant, with those skipped for want of a story on their topics); the runs of `digest send`
with their times and outcome; the batches with their provider message ids. Nothing here
changes anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, exists, func, select

from digest.archive import connect
from digest.archive.schema import deliveries, send_batches, send_runs, subscribers
from digest.editions import check_names, read_edition
from digest.editions.layout import IN_DOUBT_CSV, newsletter_folder
from digest.editions.lease import live_holders
from digest.editions.states import DRAFT, aware, states_of
from digest.errors import DigestError
from digest.send.forced import forced_runs
from digest.send.ledger import Ledger
from digest.send.runs import DIED
from digest.settings import Settings
from digest.subscribers import receiving, whole_list_joins


@dataclass
class Batch:
    batch: int
    run: int
    size: int
    state: str  # in_flight | sent | failed | in_doubt | mixed
    provider_id: str | None
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None


@dataclass
class Run:
    id: int
    backend: str
    host: str
    pid: int
    started_at: datetime | None
    finished_at: datetime | None
    outcome: str | None  # finished | stopped | died | None (running)
    note: str | None
    forced: str | None = None  # who sent it despite the pre-send checks' errors, and when


@dataclass
class NewsletterStatus:
    edition: str
    newsletter: str
    state: str
    revision_of: str | None
    subject: str
    built_at: datetime | None
    sent_at: datetime | None
    finished_at: datetime | None
    sent: int
    in_doubt: int
    failed: int
    in_flight: int
    remaining: int  # on the list, not suppressed, not tried yet
    suppressed: int
    sending_now: str | None  # who holds the send lease, when someone does
    in_doubt_csv: str | None
    skipped: int = 0  # no story on their topics this week (DIGEST_VARIANT_QUIET=skip)
    # per copy sent ("" the full edition, else the variant's key): {state: count}
    variants: dict[str, dict[str, int]] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        return plain(asdict(self))  # type: ignore[no-any-return]


def edition_status(settings: Settings, edition: str,
                   newsletter: str | None = None) -> list[NewsletterStatus]:
    """The status of every newsletter of `edition` (or of `newsletter` only)."""
    check_names(edition, newsletter)
    engine = connect(settings.database)
    states = states_of(engine, edition)
    built = read_edition(settings.out_dir, edition)
    slugs = set(states) | _ledger_slugs(engine, edition)
    slugs |= {n.slug for n in built.newsletters} if built else set()
    if newsletter is not None:
        if newsletter not in slugs:
            raise DigestError(
                f"newsletter {newsletter!r} has not been built or sent in edition {edition}",
                hint=f"Known here: {', '.join(sorted(slugs)) or 'none'}.",
            )
        slugs = {newsletter}
    if not slugs:
        raise DigestError(
            f"edition {edition} is unknown: not built here and not in the database",
            hint="Check the id (`digest build` prints it), and DIGEST_DATABASE_URL.",
        )
    senders = {h.newsletter: h.describe() for h in live_holders(engine, edition, "send")}
    found = []
    for slug in sorted(slugs):
        state = states.get(slug)
        draft = built.newsletter(slug) if built else None
        ledger = Ledger(engine, edition, slug)
        counts = ledger.states()
        copies = ledger.by_variant()
        csv = newsletter_folder(settings.out_dir, edition, slug) / IN_DOUBT_CSV
        found.append(NewsletterStatus(
            edition=edition,
            newsletter=slug,
            state=state.state if state else DRAFT,
            revision_of=state.revision_of if state else None,
            subject=(state.subject if state and state.subject else draft.subject if draft else ""),
            built_at=state.built_at if state else None,
            sent_at=state.sent_at if state else None,
            finished_at=state.finished_at if state else None,
            sent=counts.get("sent", 0),
            in_doubt=counts.get("in_doubt", 0),
            failed=counts.get("failed", 0),
            in_flight=counts.get("in_flight", 0),
            remaining=_untried(engine, edition, slug),
            suppressed=_suppressed(engine, slug),
            sending_now=senders.get(slug),
            in_doubt_csv=str(csv) if csv.exists() and counts.get("in_doubt") else None,
            skipped=counts.get("skipped", 0),
            variants=copies if set(copies) - {""} or counts.get("skipped") else {},
            runs=_runs(engine, edition, slug, running=slug in senders),
            batches=_batches(engine, edition, slug),
        ))
    return found


def _ledger_slugs(engine: Engine, edition: str) -> set[str]:
    query = select(send_runs.c.newsletter).where(send_runs.c.edition == edition).distinct()
    with engine.connect() as conn:
        return set(conn.scalars(query))


def _untried(engine: Engine, edition: str, slug: str) -> int:
    tried = exists().where(deliveries.c.edition == edition, deliveries.c.newsletter == slug,
                           deliveries.c.email == subscribers.c.email)
    with engine.connect() as conn:
        whole_list_joins(conn)
        return int(conn.scalar(select(func.count()).where(receiving(slug), ~tried)) or 0)


def _suppressed(engine: Engine, slug: str) -> int:
    from digest.subscribers import count_subscribers

    return count_subscribers(engine, slug)[0].suppressed


def _runs(engine: Engine, edition: str, slug: str, *, running: bool) -> list[Run]:
    """The runs, oldest first; one that never ended while nobody holds the send lease died."""
    r = send_runs.c
    query = select(send_runs).where(r.edition == edition, r.newsletter == slug).order_by(r.id)
    with engine.connect() as conn:
        runs = [Run(row.id, row.backend, row.host, row.pid, aware(row.started_at),
                    aware(row.finished_at), row.outcome, row.note)
                for row in conn.execute(query)]
    forced = forced_runs(engine, edition, slug)
    for run in runs:
        if run.outcome is None and not running:
            run.outcome, run.note = "died", DIED
        if run.id in forced:
            run.forced = forced[run.id].describe()
    return runs


def _batches(engine: Engine, edition: str, slug: str) -> list[Batch]:
    b = send_batches.c
    query = (select(send_batches).where(b.edition == edition, b.newsletter == slug)
             .order_by(b.batch))
    with engine.connect() as conn:
        return [Batch(row.batch, row.run_id, row.size, row.state, row.provider_id, row.error,
                      aware(row.started_at), aware(row.finished_at))
                for row in conn.execute(query)]

