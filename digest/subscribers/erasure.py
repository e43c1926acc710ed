"""Erasure: every row about an address deleted; only a keyed hash of it kept, as a suppression.

The hash (HMAC-SHA256 under a key derived from DIGEST_SECRET_KEY for this purpose) cannot be
turned back into the address, yet lets a stale CSV re-import, and the sender, recognise the
address and leave it alone. A fresh sign-up that the person confirms lifts it: they are back by
their own choice. Rotating DIGEST_SECRET_KEY makes the old hashes unrecognisable, so an erased
address on a CRM list could then be imported again.

Every table that keeps an address names its column `email` (digest/archive/schema.py), so
erasure finds them all, including tables added later. The outbox backend's files for the address
(its copies of editions, its sign-up and link emails) go too, where this machine has them.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, select

from digest.archive.schema import metadata, suppressions
from digest.send.tokens import purpose_key
from digest.subscribers.addresses import lenient_email
from digest.subscribers.suppressions import EVERY

PURPOSE = b"digest/erasure/v1"
PREFIX = "hmac:"
REASON = "erased"


def address_hash(key: Any, email: str) -> str:
    """What an erased address leaves behind: "hmac:" and 64 hex digits."""
    mac = hmac.digest(purpose_key(key, PURPOSE), lenient_email(email).encode(), "sha256")
    return PREFIX + mac.hex()


class Hasher:
    """address_hash() for many addresses with one key (CSV sync, the sender)."""

    def __init__(self, key: Any) -> None:
        self._key = purpose_key(key, PURPOSE)

    def __call__(self, email: str) -> str:
        return PREFIX + hmac.digest(self._key, email.encode(), "sha256").hex()


def erased_hashes(conn: Connection) -> set[str]:
    """The hashes of every erased address (few: one per person who asked)."""
    query = select(suppressions.c.email).where(suppressions.c.reason == REASON,
                                               suppressions.c.email.startswith(PREFIX))
    return set(conn.scalars(query))


def erased_among(engine: Engine, key: Any, emails: Iterable[str]) -> set[str]:
    """Those of `emails` that were erased."""
    with engine.connect() as conn:
        hashes = erased_hashes(conn)
    if not hashes:
        return set()
    hasher = Hasher(key)
    return {email for email in emails if hasher(email) in hashes}


def is_erased(conn: Connection, key: Any, email: str) -> bool:
    return conn.scalar(select(suppressions.c.id).where(
        suppressions.c.email == address_hash(key, email))) is not None


@dataclass
class Erased:
    email: str
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows deleted

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def erase(engine: Engine, key: Any, email: str, source: str) -> Erased:
    """Delete every row that names `email`, in one transaction, and keep its hash."""
    address = lenient_email(email)
    result = Erased(address)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if "email" in table.c:
                gone = conn.execute(delete(table).where(table.c.email == address)).rowcount
                if gone:
                    result.rows[table.name] = gone
        hashed = address_hash(key, address)
        if not is_erased(conn, key, address):
            conn.execute(suppressions.insert().values(
                newsletter=EVERY, email=hashed, reason=REASON, source=source,
                created_at=datetime.now(UTC)))
    return result


def forget_erasure(conn: Connection, key: Any, email: str) -> bool:
    """Lift the hash of an erased address (the person signed up again and confirmed)."""
    return conn.execute(delete(suppressions).where(
        suppressions.c.email == address_hash(key, email))).rowcount > 0


def erase_outbox_files(out_dir: Path, data_dir: Path, email: str) -> int:
    """Delete the outbox's .eml files addressed to `email`; returns how many."""
    from digest.send.backends.outbox import file_name

    name = file_name(lenient_email(email))
    found = [*Path(out_dir).glob(f"*/*/outbox/{name}"),
             *Path(out_dir).glob(f"*/*/outbox/test/{name}")]
    # Notices are STAMP-KIND-ADDRESS.eml (digest/send/notice.py): the kind and the address exactly.
    found += [p for p in (Path(data_dir) / "outbox").glob(f"*{name}")
              if p.name.split("-", 1)[-1] in (f"confirm-{name}", f"manage-link-{name}")]
    for path in found:
        path.unlink(missing_ok=True)
    return len(found)
