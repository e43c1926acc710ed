"""Test sends: the edition to any addresses, "[TEST] " before the subject, the ledger untouched."""

from __future__ import annotations

from digest.archive import connect
from digest.editions.frozen import edition_for_sending, variants_for_sending
from digest.errors import DigestError
from digest.send.backends import open_backend
from digest.send.message import EditionMail, Recipient
from digest.send.retry import deliver_with_retries
from digest.settings import Settings
from digest.subscribers import BadAddress, normalise_email


def send_test(
    settings: Settings, edition: str, slug: str, addresses: list[str], *, variant: str = ""
) -> list[tuple[str, str]]:
    """Send the edition (or its `variant` cut to some topics) to `addresses` with "[TEST] "
    before the subject. The ledger is not touched and suppressions do not apply. Returns
    (address, provider id) pairs."""
    if not addresses:
        raise DigestError("no test address given")
    recipients = []
    for raw in addresses:
        try:
            recipients.append(Recipient(normalise_email(raw)))
        except BadAddress as exc:
            raise DigestError(f"test address: {exc}") from None
    engine = connect(settings.database)
    built, frozen, _ = edition_for_sending(engine, settings.out_dir, edition, slug)
    if variant:  # the variant readers of those topics get (frozen with the edition, once sent)
        variants = variants_for_sending(engine, settings.out_dir, built, frozen)
        if variant not in variants:
            raise DigestError(f"{slug} of {edition} has no variant {variant!r}",
                              hint=f"Its variants: {', '.join(sorted(variants)) or 'none'}.")
        built = variants[variant]
    mail = EditionMail(settings, built, test=True)
    backend = open_backend(settings, mail)
    size = max(1, min(settings.send_batch_size, backend.batch_limit))
    done: list[tuple[str, str]] = []
    with backend:
        for start in range(0, len(recipients), size):
            batch = recipients[start : start + size]
            outcome = deliver_with_retries(
                backend,
                batch,
                backend.prepare(batch),
                retries=settings.send_retries,
                backoff=settings.send_backoff,
            )
            trouble = {**outcome.failed, **outcome.in_doubt}
            if trouble:
                index, why = next(iter(sorted(trouble.items())))
                doubt = " (it may have arrived)" if index in outcome.in_doubt else ""
                raise DigestError(f"the test send to {batch[index].email} failed{doubt}: {why}")
            done.extend((who.email, outcome.sent[i]) for i, who in enumerate(batch))
    return done
