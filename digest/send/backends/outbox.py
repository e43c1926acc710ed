"""The default backend: every message written as an .eml file; nothing leaves the machine."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

from digest.send.backends.base import Delivered, Stop, register
from digest.send.message import EditionMail, Recipient
from digest.settings import Settings

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


@register("outbox")
class OutboxBackend:
    """Writes OUT/EDITION/SLUG/outbox/ADDRESS.eml (test sends: outbox/test/ADDRESS.eml).

    One file per address, so resending to someone replaces their file instead of adding one.
    """

    name = "outbox"
    batch_limit = 1000

    def __init__(self, settings: Settings, mail: EditionMail) -> None:
        self.mail = mail
        self.folder: Path = mail.built.outbox / "test" if mail.test else mail.built.outbox

    def __enter__(self) -> OutboxBackend:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def prepare(self, batch: Sequence[Recipient]) -> list[tuple[str, bytes, str]]:
        return [(who.email, *self.mail.mime(who)) for who in batch]

    def deliver(self, prepared: list[tuple[str, bytes, str]]) -> Delivered:
        ids: list[str] = []
        for address, message, message_id in prepared:
            path = self.folder / file_name(address)
            partial = path.with_suffix(".part")
            try:
                partial.write_bytes(message)
                os.replace(partial, path)  # a crash never leaves half a message behind
            except OSError as exc:
                raise Stop(f"cannot write {path}: {exc.strerror}") from None
            ids.append(message_id)
        return ids


def file_name(email: str) -> str:
    """A file name for an address: readable, and distinct even when characters had to go."""
    safe = _UNSAFE.sub("_", email)
    if safe != email:
        safe += "-" + hashlib.sha256(email.encode()).hexdigest()[:8]
    return safe + ".eml"
