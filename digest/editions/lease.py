"""Leases in the database: one send of an edition's newsletter at a time, and no build of an
edition while one of its newsletters is being sent, on any machine sharing the database.

A lease is a row of `edition_leases` keyed by (edition, newsletter); a build takes the whole
edition ("*"). Its holder renews it from a background thread while it works; a lease whose
holder is gone is taken over:

- on PostgreSQL the holder also keeps a session advisory lock on the same key, which the server
  drops the moment the holder's connection dies (kill -9 included): the proof it is gone;
- elsewhere (SQLite), a holder on this machine whose process no longer runs is gone at once,
  and any other when its lease has not been renewed for `ttl` seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from digest.archive.schema import edition_leases
from digest.errors import DigestError

WHOLE_EDITION = "*"
log = logging.getLogger("digest.lease")
HOST = socket.gethostname()


@dataclass(frozen=True)
class Holder:
    edition: str
    newsletter: str
    purpose: str  # send | build
    host: str
    pid: int
    acquired_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        what = "a build" if self.purpose == "build" else "a send"
        where = "this machine" if self.host == HOST else self.host
        since = f"{self.acquired_at:%Y-%m-%d %H:%M} UTC"
        return f"{what} (process {self.pid} on {where}, since {since})"


class LeaseBusy(DigestError):
    def __init__(self, message: str, holder: Holder | None, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.holder = holder


class Lease:
    """A held lease, renewed in the background until `release()`."""

    def __init__(self, engine: Engine, edition: str, newsletter: str, token: str, ttl: float,
                 advisory: Connection | None) -> None:
        self.engine = engine
        self.edition = edition
        self.newsletter = newsletter
        self.token = token
        self.ttl = ttl
        self._advisory = advisory
        self._stop = threading.Event()
        self._lost: str | None = None
        self._expires = time.monotonic() + ttl
        self._thread = threading.Thread(target=self._renew, name="digest-lease", daemon=True)
        self._thread.start()

    @property
    def lost(self) -> str | None:
        """Why the lease is no longer ours (None while it is)."""
        if self._lost is None and time.monotonic() > self._expires:
            self._lost = "the lease could not be renewed in time (is the database reachable?)"
        return self._lost

    def check(self) -> None:
        if self.lost:
            raise DigestError(f"lost the lease on {self.edition}/{self.newsletter}: {self.lost}",
                              hint="Nothing more was handed over; run the command again.")

    def release(self) -> None:
        self._stop.set()
        self._thread.join()
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(edition_leases).where(self._mine()))
        finally:
            if self._advisory is not None:
                _unlock(self._advisory, self.edition, self.newsletter)

    def _mine(self) -> Any:
        return and_(_key(self.edition, self.newsletter), edition_leases.c.holder == self.token)

    def _renew(self) -> None:
        every = max(self.ttl / 3, 0.05)
        while not self._stop.wait(every):
            try:
                with self.engine.begin() as conn:
                    renewed = conn.execute(
                        update(edition_leases).where(self._mine())
                        .values(expires_at=_now() + timedelta(seconds=self.ttl))
                    ).rowcount
            except Exception as exc:  # the database is away: try again, until it expires
                log.warning("cannot renew the lease on %s/%s: %s", self.edition,
                            self.newsletter, exc)
                continue
            if renewed != 1:
                self._lost = "another process took it over (it thought this one was dead)"
                return
            self._expires = time.monotonic() + self.ttl


def acquire(engine: Engine, edition: str, newsletter: str, purpose: str, *, ttl: float,
            wait: float = 0.0) -> Lease:
    """Take the lease, waiting up to `wait` seconds for a live holder to finish; LeaseBusy
    (naming the holder) when it does not."""
    deadline = time.monotonic() + wait
    while True:
        lease, holder = _try(engine, edition, newsletter, purpose, ttl)
        if lease is not None:
            return lease
        if time.monotonic() >= deadline:
            what = f"{edition}/{newsletter}" if newsletter != WHOLE_EDITION else edition
            raise LeaseBusy(
                f"{holder.describe() if holder else 'another process'} holds {what}",
                holder,
                hint="Let it finish (or stop it), then run the command again.",
            )
        time.sleep(0.2)


@contextlib.contextmanager
def holding(engine: Engine, edition: str, newsletter: str, purpose: str, *, ttl: float,
            wait: float = 0.0) -> Iterator[Lease]:
    lease = acquire(engine, edition, newsletter, purpose, ttl=ttl, wait=wait)
    try:
        yield lease
    finally:
        lease.release()


def live_holders(engine: Engine, edition: str, purpose: str | None = None) -> list[Holder]:
    """The leases on `edition` (any newsletter) whose holders are still alive."""
    query = select(edition_leases).where(edition_leases.c.edition == edition)
    if purpose:
        query = query.where(edition_leases.c.purpose == purpose)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        return [_holder(row) for row in rows if _alive(conn, row)]


def _try(engine: Engine, edition: str, newsletter: str, purpose: str,
         ttl: float) -> tuple[Lease | None, Holder | None]:
    advisory = None
    if engine.dialect.name == "postgresql":
        advisory = engine.connect()
        got = advisory.scalar(text("SELECT pg_try_advisory_lock(:k)"),
                              {"k": _advisory_key(edition, newsletter)})
        advisory.commit()  # a session lock outlives the transaction; don't sit idle in one
        if not got:
            advisory.close()
            return None, _current(engine, edition, newsletter)
    token = secrets.token_hex(16)
    now = _now()
    row = {"edition": edition, "newsletter": newsletter, "holder": token, "purpose": purpose,
           "host": HOST, "pid": os.getpid(), "acquired_at": now,
           "expires_at": now + timedelta(seconds=ttl)}
    taken = False
    try:
        with engine.begin() as conn:
            old = conn.execute(select(edition_leases).where(_key(edition, newsletter))).first()
            if old is None:
                conn.execute(insert(edition_leases).values(row))
                taken = True
            elif advisory is not None or not _alive(conn, old):
                # On PostgreSQL the advisory lock is ours, so the row's holder is gone.
                taken = conn.execute(
                    update(edition_leases)
                    .where(_key(edition, newsletter), edition_leases.c.holder == old.holder)
                    .values(row)
                ).rowcount == 1
    except IntegrityError:  # another process inserted it first
        taken = False
    if not taken:
        if advisory is not None:
            _unlock(advisory, edition, newsletter)
        return None, _current(engine, edition, newsletter)
    return Lease(engine, edition, newsletter, token, ttl, advisory), None


def _unlock(advisory: Connection, edition: str, newsletter: str) -> None:
    """Give the advisory lock back. The connection returns to the pool, and a pooled session
    would keep a lock it still held; if the unlock fails, the connection is thrown away."""
    try:
        advisory.execute(text("SELECT pg_advisory_unlock(:k)"),
                         {"k": _advisory_key(edition, newsletter)})
        advisory.commit()
    except Exception:
        advisory.invalidate()
    finally:
        advisory.close()


def _current(engine: Engine, edition: str, newsletter: str) -> Holder | None:
    with engine.connect() as conn:
        row = conn.execute(select(edition_leases).where(_key(edition, newsletter))).first()
    return _holder(row) if row is not None else None


def _alive(conn: Connection, row: Any) -> bool:
    if conn.dialect.name == "postgresql":
        # Held by some session right now? pg_locks shows a bigint advisory key as two halves.
        key = _advisory_key(row.edition, row.newsletter) & 0xFFFFFFFFFFFFFFFF
        query = text(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = :high AND objid = :low AND objsubid = 1"
        )
        return conn.scalar(query, {"high": key >> 32, "low": key & 0xFFFFFFFF}) is not None
    if row.host == HOST and not process_runs(row.pid):
        return False
    return _aware(row.expires_at) > _now()


def process_runs(pid: int) -> bool:
    """Whether process `pid` of this machine is still running (a zombie is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:  # a killed process its parent has not reaped yet is a zombie: it holds nothing
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _holder(row: Any) -> Holder:
    return Holder(row.edition, row.newsletter, row.purpose, row.host, row.pid,
                  _aware(row.acquired_at), _aware(row.expires_at))


def _key(edition: str, newsletter: str) -> Any:
    return and_(edition_leases.c.edition == edition, edition_leases.c.newsletter == newsletter)


def _advisory_key(edition: str, newsletter: str) -> int:
    digest = hashlib.sha256(f"digest-lease:{edition}:{newsletter}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
