"""The send ledger: one `deliveries` row per (edition, newsletter, recipient) and its state.

    (no row)   not tried yet
    in_flight  committed BEFORE the batch goes to the provider
    sent       committed right after the provider took it, with the provider's id
    failed     the provider refused it (a 4xx); tried again by the next run

A run only picks subscribers without a row, so a rerun after a crash (even kill -9) mails nobody
twice; rows still `in_flight` at the start of a run are the batch that was with the provider at
the crash: "in doubt", left alone unless the editor asks to resend them. The unique
(edition, newsletter, email) key makes a recipient impossible to claim twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    ScalarSelect,
    bindparam,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from digest.archive.schema import deliveries, subscribers, suppressions
from digest.errors import DigestError
from digest.send.message import Recipient
from digest.subscribers import EVERY, no_jit, receiving, whole_list_joins

Page = tuple[int, list[Recipient]]  # (last subscriber row id read, recipients)


class Ledger:
    def __init__(self, engine: Engine, edition: str, newsletter: str) -> None:
        self.engine = engine
        self.edition = edition
        self.newsletter = newsletter
        self._this = (deliveries.c.edition == edition) & (deliveries.c.newsletter == newsletter)
        self._last_batch: int | None = None

    # -- reading -----------------------------------------------------------------------------

    def to_send(self) -> int:
        """Subscribers who get the edition when it is sent now (suppressed ones excluded)."""
        unsent = ~exists().where(
            self._this,
            deliveries.c.email == subscribers.c.email,
            deliveries.c.state != "failed",  # a refused batch is tried again by the next run
        )
        query = select(func.count()).where(receiving(self.newsletter), unsent)
        with self.engine.connect() as conn:
            whole_list_joins(conn)
            return int(conn.scalar(query) or 0)

    def page(self, after: int, limit: int) -> Page:
        """The next `limit` recipients not yet tried, after subscriber row id `after`."""
        # No row, or a failed one (a refused batch is tried again by the next run).
        return self._page(
            after, limit, func.coalesce(self._row(deliveries.c.state), "failed") == "failed"
        )

    def doubtful_page(self, after: int, limit: int, before_batch: int) -> Page:
        """The next recipients still in flight from an earlier run."""
        batch = self._row(deliveries.c.batch, deliveries.c.state == "in_flight")
        return self._page(after, limit, batch < before_batch)

    def _row(self, column: Any, *extra: ColumnElement[bool]) -> ScalarSelect[Any]:
        # A scalar subquery on exactly the unique key, not EXISTS: PostgreSQL turns EXISTS into
        # a join and, with no statistics yet for a ledger that fills up during the send, plans
        # it to rescan the edition's rows for every subscriber. This stays one probe of
        # uq_delivery per subscriber on any database.
        return (
            select(column)
            .where(self._this, deliveries.c.email == subscribers.c.email, *extra)
            .scalar_subquery()
        )

    def _page(self, after: int, limit: int, condition: ColumnElement[bool]) -> Page:
        suppressed = (
            select(suppressions.c.id)
            .where(
                suppressions.c.email == subscribers.c.email,
                suppressions.c.newsletter.in_([self.newsletter, EVERY]),
            )
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(subscribers.c.id, subscribers.c.email, subscribers.c.name)
            .where(
                subscribers.c.newsletter == self.newsletter,
                subscribers.c.status == "active",
                subscribers.c.id > after,
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
        return rows[-1][0], [Recipient(email, name or "") for _, email, name in rows]

    def in_doubt(self) -> list[str]:
        """Addresses whose batch was with the provider when a run died: maybe sent, maybe not."""
        query = (
            select(deliveries.c.email)
            .where(self._this, deliveries.c.state == "in_flight")
            .order_by(deliveries.c.email)
        )
        with self.engine.connect() as conn:
            return list(conn.scalars(query))

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

    def next_batch(self) -> int:
        if self._last_batch is None:
            with self.engine.connect() as conn:
                self._last_batch = int(
                    conn.scalar(select(func.max(deliveries.c.batch)).where(self._this)) or 0
                )
        self._last_batch += 1
        return self._last_batch

    def claim(self, batch: int, recipients: Sequence[Recipient]) -> None:
        """Mark new recipients in flight. Committed before anything is handed to the provider."""
        insert = _bulk_insert(self.engine)
        rows = insert.rows(self.edition, self.newsletter, recipients, "in_flight", batch)
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql(insert.sql, rows)
        except IntegrityError:
            raise DigestError(
                f"some of batch {batch} are already in the ledger of "
                f"{self.edition}/{self.newsletter}: is another send of this edition running?",
                hint="Wait for it to finish, then run the send again to pick up the rest.",
            ) from None

    def reclaim(self, batch: int, recipients: Sequence[Recipient]) -> None:
        """Move in-doubt recipients into a new batch (still in flight) before resending them."""
        statement = (
            update(deliveries)
            .where(
                self._this,
                deliveries.c.email == bindparam("_email"),
                deliveries.c.state == "in_flight",
            )
            .values(batch=batch, updated_at=datetime.now(UTC), error=None)
        )
        with self.engine.begin() as conn:
            conn.execute(statement, [{"_email": who.email} for who in recipients])

    def mark_sent(self, batch: int, recipients: Sequence[Recipient], ids: str | list[str]) -> None:
        """The provider took the batch: one id for all (SendGrid) or one per recipient."""
        now = datetime.now(UTC)
        in_batch = self._this & (deliveries.c.state == "in_flight") & (deliveries.c.batch == batch)
        with self.engine.begin() as conn:
            if isinstance(ids, str):
                conn.execute(
                    update(deliveries)
                    .where(in_batch)
                    .values(state="sent", provider_id=ids, updated_at=now)
                )
                return
            statement = (
                update(deliveries)
                .where(in_batch, deliveries.c.email == bindparam("_email"))
                .values(state="sent", provider_id=bindparam("_id"), updated_at=now)
            )
            conn.execute(
                statement,
                [
                    {"_email": who.email, "_id": pid}
                    for who, pid in zip(recipients, ids, strict=True)
                ],
            )

    def mark_failed(self, batch: int, error: str) -> None:
        in_batch = self._this & (deliveries.c.state == "in_flight") & (deliveries.c.batch == batch)
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries)
                .where(in_batch)
                .values(state="failed", error=error[:2000], updated_at=datetime.now(UTC))
            )

    def clear_failed(self) -> int:
        """Forget earlier refusals so this run tries those recipients again."""
        with self.engine.begin() as conn:
            return conn.execute(
                delete(deliveries).where(self._this, deliveries.c.state == "failed")
            ).rowcount


class _BulkInsert:
    """The ledger's INSERT as the driver's own SQL, compiled once per database.

    A send writes a row per recipient; going through the driver's executemany directly keeps
    that to a few microseconds a row (SQLAlchemy's per-row parameter processing would triple it).
    """

    COLUMNS = ("edition", "newsletter", "email", "state", "batch", "updated_at")

    def __init__(self, engine: Engine) -> None:
        statement = deliveries.insert().values({name: bindparam(name) for name in self.COLUMNS})
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self.order = compiled.positiontup  # None when the driver takes named parameters
        column_type = deliveries.c.updated_at.type.dialect_impl(engine.dialect)
        processor = column_type.bind_processor(engine.dialect)
        self.stamp = processor or (lambda value: value)

    def rows(
        self, edition: str, newsletter: str, recipients: Sequence[Recipient], state: str, batch: int
    ) -> list[Any]:
        stamp = self.stamp(datetime.now(UTC))
        rows = [(edition, newsletter, who.email, state, batch, stamp) for who in recipients]
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
