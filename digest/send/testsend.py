"""Test sends: the edition to any addresses, "[TEST] " before the subject, the ledger untouched."""

from __future__ import annotations

from digest.editions import load_built
from digest.errors import DigestError
from digest.send.backends import Rejected, Stop, open_backend
from digest.send.message import EditionMail, Recipient
from digest.send.retry import GaveUp, deliver_with_retries
from digest.settings import Settings
from digest.subscribers import BadAddress, normalise_email


def send_test(
    settings: Settings, edition: str, slug: str, addresses: list[str]
) -> list[tuple[str, str]]:
    """Send the edition to `addresses` with "[TEST] " before the subject. The ledger is not
    touched and suppressions do not apply. Returns (address, provider id) pairs."""
    if not addresses:
        raise DigestError("no test address given")
    recipients = []
    for raw in addresses:
        try:
            recipients.append(Recipient(normalise_email(raw)))
        except BadAddress as exc:
            raise DigestError(f"test address: {exc}") from None
    mail = EditionMail(settings, load_built(settings.out_dir, edition, slug), test=True)
    backend = open_backend(settings, mail)
    size = max(1, min(settings.send_batch_size, backend.batch_limit))
    done: list[tuple[str, str]] = []
    with backend:
        for start in range(0, len(recipients), size):
            batch = recipients[start : start + size]
            try:
                ids = deliver_with_retries(
                    backend,
                    backend.prepare(batch),
                    retries=settings.send_retries,
                    backoff=settings.send_backoff,
                )
            except (Rejected, Stop, GaveUp) as exc:
                raise DigestError(f"the test send failed: {exc}") from None
            ids = [ids] * len(batch) if isinstance(ids, str) else ids
            done.extend((who.email, pid) for who, pid in zip(batch, ids, strict=True))
    return done
