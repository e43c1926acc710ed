"""The send ledger: one `deliveries` row per (edition, newsletter, recipient) and its state.

    (no row)   not tried yet
    in_flight  committed BEFORE the batch goes to the provider
    sent       committed right after the provider took it, with the provider's id
    failed     the provider refused it (a 4xx, a bad header value); tried again by the next run
    in_doubt   the provider may or may not have it: its answer was lost, or the run died while
               the batch was with it. Never sent again unless the editor asks.
    skipped    not sent: no story on the reader's topics this week (DIGEST_VARIANT_QUIET=skip)

Each row also says which copy went: the variant cut to the reader's topics, or (NULL) the full
edition (digest/send/routing.py).

A run only picks subscribers without a row (or a failed one), so a rerun after a crash (even
kill -9) mails nobody twice; rows still `in_flight` when a run starts are the batch that was
with the provider when an earlier run died, and become `in_doubt`. The unique
(edition, newsletter, email) key makes a recipient impossible to claim twice. Each batch also
has a `send_batches` row (its run, times, the provider's id), written in the same transactions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    ScalarSelect,
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from digest.archive.chunks import in_slices
from digest.archive.schema import deliveries, send_batches, subscribers, suppressions
from digest.editions.states import aware
from digest.errors import DigestError
from digest.send.message import Recipient
from digest.subscribers import EVERY, no_jit, receiving, whole_list_joins
from digest.subscribers.lists import not_paused, summed

Page = tuple[int, list[Recipient]]  # (last subscriber row id read, recipients)
DIED = "the run sending it died (a crash, a kill or a power cut) while it was with the provider"


@dataclass
class Settled:
    """What became of a batch's recipients, by their index in it."""

    sent: dict[int, str]  # -> the provider's id
    failed: dict[int, str]  # -> why
    in_doubt: dict[int, str]  # -> why


@dataclass(frozen=True)
class Doubtful:
    email: str
    batch: int | None
    reason: str
    since: datetime | None


class Ledger:
    def __init__(self, engine: Engine, edition: str, newsletter: str) -> None:
        self.engine = engine
        self.edition = edition
        self.newsletter = newsletter
        self._this = (deliveries.c.edition == edition) & (deliveries.c.newsletter == newsletter)
        self._last_batch: int | None = None
        self._share: tuple[int, int] = (0, 1)  # (k, n): subscribers whose id % n == k

    def share(self, k: int, n: int, after_batch: int) -> Ledger:
        """This ledger for one of `n` sending processes: its pages hold only the subscribers
        whose row id % n == k, and its batches are numbered after_batch + k + 1, then every
        n-th, so no two processes ever claim the same recipient or batch number."""
        mine = Ledger(self.engine, self.edition, self.newsletter)
        mine._share = (k, n)
        mine._last_batch = after_batch + k + 1 - n
        return mine

    # -- reading -----------------------------------------------------------------------------

    def to_send_by_topics(self) -> dict[str | None, int]:
        """Subscribers who get the edition when it is sent now (suppressed and paused ones
        excluded), by their topics: how many get which copy (routing.py)."""
        unsent = ~exists().where(
            self._this,
            deliveries.c.email == subscribers.c.email,
            deliveries.c.state != "failed",
        )
        query = (select(subscribers.c.topics, func.count())
                 .where(receiving(self.newsletter), unsent).group_by(subscribers.c.topics))
        with self.engine.connect() as conn:
            whole_list_joins(conn)
            rows = conn.execute(query).all()
        return summed(rows)

    def page(self, after: int, limit: int) -> Page:
        """The next `limit` recipients not yet tried, after subscriber row id `after`."""
        # No row, or a failed one (a refused batch is tried again by the next run).
        return self._page(
            after, limit, func.coalesce(self._row(deliveries.c.state), "failed") == "failed"
        )

    def doubtful_page(self, after: int, limit: int) -> Page:
        """The next recipients in doubt (for --resend-in-doubt), with the copy they were sent."""
        return self._page(after, limit, self._row(deliveries.c.state) == "in_doubt",
                          recorded=True)

    def _row(self, column: Any) -> ScalarSelect[Any]:
        # A scalar subquery on exactly the unique key, not EXISTS: PostgreSQL turns EXISTS into
        # a join and, with no statistics yet for a ledger that fills up during the send, plans
        # it to rescan the edition's rows for every subscriber. This stays one probe of
        # uq_delivery per subscriber on any database.
        return (
            select(column)
            .where(self._this, deliveries.c.email == subscribers.c.email)
            .scalar_subquery()
        )

    def _page(self, after: int, limit: int, condition: ColumnElement[bool], *,
              recorded: bool = False) -> Page:
        suppressed = (
            select(suppressions.c.id)
            .where(
                suppressions.c.email == subscribers.c.email,
                suppressions.c.newsletter.in_([self.newsletter, EVERY]),
            )
            .limit(1)
            .scalar_subquery()
        )
        variant = (func.coalesce(self._row(deliveries.c.variant), "") if recorded
                   else literal(None, String))
        query = (
            select(subscribers.c.id, subscribers.c.email, subscribers.c.name,
                   subscribers.c.topics, variant)
            .where(
                subscribers.c.newsletter == self.newsletter,
                subscribers.c.status == "active",
                subscribers.c.id > after,
                *([subscribers.c.id % self._share[1] == self._share[0]]
                  if self._share[1] > 1 else []),
                not_paused(),
                suppressed.is_(None),
                condition,
            )
            .order_by(subscribers.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            no_jit(conn)
            rows = conn.execute(query).all()
        if not rows:
            return after, []
        return rows[-1][0], [Recipient(email, name or "", topics, copy)
                             for _, email, name, topics, copy in rows]

    def in_doubt(self, limit: int | None = None) -> list[str]:
        """Addresses in doubt (maybe sent, maybe not), in address order; those still in
        flight count (before a send starts, a dead run's are about to be in doubt)."""
        query = (
            select(deliveries.c.email)
            .where(self._this, deliveries.c.state.in_(("in_doubt", "in_flight")))
            .order_by(deliveries.c.email)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.scalars(query))

    def doubtful(self) -> list[Doubtful]:
        """Every recipient in doubt with their batch and why, for the report's CSV."""
        d = deliveries.c
        query = (
            select(d.email, d.batch, d.error, d.updated_at)
            .where(self._this, d.state == "in_doubt")
            .order_by(d.batch, d.email)
        )
        with self.engine.connect() as conn:
            return [Doubtful(r.email, r.batch, r.error or "", aware(r.updated_at))
                    for r in conn.execute(query)]

    def by_variant(self) -> dict[str, dict[str, int]]:
        """State counts per copy sent: {variant key ("" for the full edition): {state: n}}."""
        d = deliveries.c
        query = (select(d.variant, d.state, func.count()).where(self._this)
                 .group_by(d.variant, d.state))
        found: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for variant, state, n in conn.execute(query):
                found.setdefault(variant or "", {})[state] = int(n)
        return found

    def states(self) -> dict[str, int]:
        query = (
            select(deliveries.c.state, func.count()).where(self._this).group_by(deliveries.c.state)
        )
        with self.engine.connect() as conn:
            return {state: int(n) for state, n in conn.execute(query)}

    def failures(self, limit: int = 20) -> list[tuple[str, str]]:
        """(address, provider's message) of failed rows, for the summary."""
        query = (
            select(deliveries.c.email, deliveries.c.error)
            .where(self._this, deliveries.c.state == "failed")
            .order_by(deliveries.c.batch, deliveries.c.email)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.email, row.error or "") for row in conn.execute(query)]

    # -- writing (each method is one committed transaction) ---------------------------------

    def settle_dead_runs(self) -> int:
        """Rows left in flight by a run that died are in doubt now. Call holding the lease
        (no other run is sending); returns how many."""
        now = datetime.now(UTC)
        batches = (send_batches.c.edition == self.edition) & (
            send_batches.c.newsletter == self.newsletter
        )
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(deliveries)
                .where(self._this, deliveries.c.state == "in_flight")
                .values(state="in_doubt", error=DIED, updated_at=now)
            ).rowcount
            conn.execute(
                update(send_batches)
                .where(batches, send_batches.c.state == "in_flight")
                .values(state="in_doubt", error=DIED)
            )
        return moved

    def last_batch(self) -> int:
        """The highest batch number this edition's ledger holds so far (0: none)."""
        with self.engine.connect() as conn:
            last = conn.scalar(
                select(func.max(send_batches.c.batch)).where(
                    send_batches.c.edition == self.edition,
                    send_batches.c.newsletter == self.newsletter,
                )
            )
            rows = conn.scalar(select(func.max(deliveries.c.batch)).where(self._this))
        return max(int(last or 0), int(rows or 0))

    def next_batch(self) -> int:
        if self._last_batch is None:
            self._last_batch = self.last_batch()
        self._last_batch += self._share[1]
        return self._last_batch

    def claim(self, batch: int, recipients: Sequence[Recipient], run: int,
              variant: str = "") -> None:
        """Mark new recipients in flight, getting `variant` ("": the full edition). Committed
        before anything is handed to the provider."""
        bulk = _bulk_insert(self.engine)
        rows = bulk.rows(self.edition, self.newsletter, recipients, "in_flight", batch,
                         variant or None)
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql(bulk.sql, rows)
                self._open_batch(conn, batch, len(recipients), run)
        except IntegrityError:
            raise DigestError(
                f"some of batch {batch} are already in the ledger of "
                f"{self.edition}/{self.newsletter}: is another send of this edition running?",
                hint="Wait for it to finish, then run the send again to pick up the rest.",
            ) from None

    def skip(self, recipients: Sequence[Recipient]) -> None:
        """Record recipients this edition does not go to (no story on their topics this week,
        DIGEST_VARIANT_QUIET=skip): never silently left out, nor picked up by a later run."""
        bulk = _bulk_insert(self.engine)
        rows = bulk.rows(self.edition, self.newsletter, recipients, "skipped", None, None)
        with self.engine.begin() as conn:
            conn.exec_driver_sql(bulk.sql, rows)

    def reclaim(self, batch: int, recipients: Sequence[Recipient], run: int) -> None:
        """Move in-doubt recipients into a new batch (in flight) before resending them."""
        statement = (
            update(deliveries)
            .where(
                self._this,
                deliveries.c.email == bindparam("_email"),
                deliveries.c.state == "in_doubt",
            )
            .values(state="in_flight", batch=batch, updated_at=datetime.now(UTC), error=None)
        )
        with self.engine.begin() as conn:
            conn.execute(statement, [{"_email": who.email} for who in recipients])
            self._open_batch(conn, batch, len(recipients), run)

    def settle(self, batch: int, recipients: Sequence[Recipient], outcome: Settled) -> None:
        """Record what became of each recipient of `batch`, in one transaction."""
        now = datetime.now(UTC)
        ids = set(outcome.sent.values())
        single = next(iter(ids)) if len(ids) == 1 else None
        statements = self._statements
        with _without_fsync(self.engine) as conn:
            if single is not None and len(outcome.sent) == len(recipients):
                # the usual case: the whole batch taken under one id
                conn.execute(statements.batch_sent, {"_batch": batch, "_id": single, "_now": now})
            else:
                rows = [
                    {"_batch": batch, "_email": recipients[i].email, "_state": state,
                     "_id": pid, "_error": why, "_now": now}
                    for state, found in (("sent", outcome.sent), ("failed", outcome.failed),
                                         ("in_doubt", outcome.in_doubt))
                    for i, value in found.items()
                    for pid, why in [(value, None) if state == "sent" else (None, value[:2000])]
                ]
                if rows:
                    conn.execute(statements.each_settled, rows)
            self._close_batch(conn, batch, outcome, single, now)

    def doubtful_batches(self) -> list[int]:
        """The batches that hold recipients in doubt, in order."""
        query = (select(deliveries.c.batch).distinct()
                 .where(self._this, deliveries.c.state == "in_doubt",
                        deliveries.c.batch.is_not(None)))
        with self.engine.connect() as conn:
            return sorted(conn.scalars(query))

    def on_ledger(self, emails: Collection[str]) -> dict[str, str]:
        """{email: state} for those of `emails` this edition's ledger holds."""
        d = deliveries.c
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for chunk in in_slices(sorted(emails)):
                found.update(conn.execute(select(d.email, d.state)
                                          .where(self._this, d.email.in_(chunk))).all())
        return found

    def settle_by_hand(self, delivered: bool, note: str, *, batches: Sequence[int] = (),
                       emails: Collection[str] = ()) -> tuple[int, list[int]]:
        """The in-doubt recipients of `batches`, and those of `emails`, marked sent
        (`delivered`) or failed (tried again by the next send), `note` kept on them; each batch
        touched is then restated from its recipients. Returns how many moved, and the batches
        they were in."""
        d = deliveries.c
        in_doubt = (self._this, d.state == "in_doubt")
        chosen = ([d.batch.in_(batches)] if batches else []) + [
            d.email.in_(chunk) for chunk in in_slices(sorted(emails))]
        values = {"state": "sent" if delivered else "failed", "error": note,
                  "updated_at": datetime.now(UTC)}
        moved, touched = 0, set()
        with self.engine.begin() as conn:
            for which in chosen:
                touched.update(conn.scalars(select(d.batch).distinct().where(*in_doubt, which)))
                moved += conn.execute(update(deliveries).where(*in_doubt, which)
                                      .values(values)).rowcount
            batches = sorted(b for b in touched if b is not None)
            self._restate(conn, batches, note)
        return moved, batches

    def _restate(self, conn: Connection, batches: Sequence[int], note: str) -> None:
        """Each batch's state from its recipients' now (one state, else mixed), and `note`."""
        d, b = deliveries.c, send_batches.c
        kinds: dict[int, set[str]] = {n: set() for n in batches}
        for chunk in in_slices(batches):
            for batch, state in conn.execute(select(d.batch, d.state).distinct()
                                             .where(self._this, d.batch.in_(chunk))):
                kinds[batch].add(state)
        for batch, states in kinds.items():
            conn.execute(update(send_batches)
                         .where(b.edition == self.edition, b.newsletter == self.newsletter,
                                b.batch == batch)
                         .values(state=states.pop() if len(states) == 1 else "mixed",
                                 error=note))

    def clear_failed(self) -> int:
        """Forget earlier refusals so this run tries those recipients again."""
        with self.engine.begin() as conn:
            return conn.execute(
                delete(deliveries).where(self._this, deliveries.c.state == "failed")
            ).rowcount

    def _open_batch(self, conn: Connection, batch: int, size: int, run: int) -> None:
        conn.execute(self._statements.open_batch,
                     {"_batch": batch, "_run": run, "_size": size, "_now": datetime.now(UTC)})

    def _close_batch(self, conn: Connection, batch: int, outcome: Settled, single: str | None,
                     now: datetime) -> None:
        kinds = [k for k, found in (("sent", outcome.sent), ("failed", outcome.failed),
                                    ("in_doubt", outcome.in_doubt)) if found]
        reasons: Mapping[int, str] = outcome.in_doubt or outcome.failed
        conn.execute(self._statements.close_batch, {
            "_batch": batch,
            "_state": kinds[0] if len(kinds) == 1 else "mixed" if kinds else "sent",
            "_id": single,
            "_error": next(iter(reasons.values()), None),
            "_now": now,
        })

    @cached_property
    def _statements(self) -> _BatchStatements:
        return _BatchStatements(self.edition, self.newsletter)


class _BatchStatements:
    """The statements every batch runs, built once per send: rebuilding them per batch cost
    more than executing them (a batch is a handful of messages over SMTP)."""

    def __init__(self, edition: str, newsletter: str) -> None:
        this = (deliveries.c.edition == edition) & (deliveries.c.newsletter == newsletter)
        in_batch = this & (deliveries.c.state == "in_flight") & (
            deliveries.c.batch == bindparam("_batch"))
        self.batch_sent = update(deliveries).where(in_batch).values(
            state="sent", provider_id=bindparam("_id"), updated_at=bindparam("_now"))
        self.each_settled = (
            update(deliveries)
            .where(in_batch, deliveries.c.email == bindparam("_email"))
            .values(state=bindparam("_state"), provider_id=bindparam("_id"),
                    error=bindparam("_error"), updated_at=bindparam("_now"))
        )
        self.open_batch = insert(send_batches).values(
            edition=edition, newsletter=newsletter, batch=bindparam("_batch"),
            run_id=bindparam("_run"), size=bindparam("_size"), state="in_flight",
            started_at=bindparam("_now"),
        )
        self.close_batch = (
            update(send_batches)
            .where(send_batches.c.edition == edition, send_batches.c.newsletter == newsletter,
                   send_batches.c.batch == bindparam("_batch"))
            .values(state=bindparam("_state"), provider_id=bindparam("_id"),
                    error=bindparam("_error"), finished_at=bindparam("_now"))
        )


@contextmanager
def _without_fsync(engine: Engine) -> Iterator[Connection]:
    """A transaction SQLite commits without waiting for the disk (synchronous=NORMAL).

    For the outcome of a batch only: should power fail before it reaches the disk, its rows go
    back to in flight (in doubt), the safe side; and the next batch's claim, which does wait
    (FULL), makes it durable with it, the WAL being written in order. Claims always wait.
    """
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        # On the driver's connection, outside any transaction: a PRAGMA there needs no commit.
        driver = conn.connection.driver_connection
        driver.execute("PRAGMA synchronous=NORMAL")  # type: ignore[union-attr]
        try:
            with conn.begin():
                yield conn
        finally:
            try:
                driver.execute("PRAGMA synchronous=FULL")  # type: ignore[union-attr]
            except Exception:
                conn.invalidate()  # never back to the pool without FULL
                raise


class _BulkInsert:
    """The ledger's INSERT as the driver's own SQL, compiled once per database.

    A send writes a row per recipient; going through the driver's executemany directly keeps
    that to a few microseconds a row (SQLAlchemy's per-row parameter processing would triple it).
    """

    COLUMNS = ("edition", "newsletter", "email", "state", "batch", "updated_at", "variant")

    def __init__(self, engine: Engine) -> None:
        statement = deliveries.insert().values({name: bindparam(name) for name in self.COLUMNS})
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self.order = compiled.positiontup  # None when the driver takes named parameters
        column_type = deliveries.c.updated_at.type.dialect_impl(engine.dialect)
        processor = column_type.bind_processor(engine.dialect)
        self.stamp = processor or (lambda value: value)

    def rows(
        self, edition: str, newsletter: str, recipients: Sequence[Recipient], state: str,
        batch: int | None, variant: str | None = None,
    ) -> list[Any]:
        stamp = self.stamp(datetime.now(UTC))
        rows = [(edition, newsletter, who.email, state, batch, stamp, variant)
                for who in recipients]
        if not self.order:  # named parameters (psycopg)
            return [dict(zip(self.COLUMNS, row, strict=True)) for row in rows]
        if tuple(self.order) == self.COLUMNS:  # positional (sqlite), our order
            return rows
        index = [self.COLUMNS.index(name) for name in self.order]
        return [tuple(row[i] for i in index) for row in rows]


_inserts: dict[tuple[str, str], _BulkInsert] = {}


def _bulk_insert(engine: Engine) -> _BulkInsert:
    key = (engine.dialect.name, engine.dialect.paramstyle)
    if key not in _inserts:
        _inserts[key] = _BulkInsert(engine)
    return _inserts[key]
