"""One send of an edition's newsletter at a time.

Two concurrent runs would each take the other's in-flight batch for one left by a crash. A lock
file in the edition folder (flock: released by the kernel when the process dies, even by
kill -9) covers one machine; on PostgreSQL an advisory lock covers machines sharing the database.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from digest.errors import DigestError


@contextmanager
def send_lock(engine: Engine, folder: Path, edition: str, newsletter: str) -> Iterator[None]:
    busy = DigestError(
        f"another `digest send` of {edition}/{newsletter} is running",
        hint="Let it finish (or stop it), then run again: it resumes where the other stopped.",
    )
    path = folder / ".send.lock"
    with path.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        if engine.dialect.name != "postgresql":
            yield
            return
        key = int.from_bytes(
            hashlib.sha256(f"digest-send:{edition}:{newsletter}".encode()).digest()[:8],
            "big",
            signed=True,
        )
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}):
                raise busy
            conn.commit()  # a session lock outlives the transaction; don't sit idle in one
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
