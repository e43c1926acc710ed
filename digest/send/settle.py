"""Settling recipients in doubt by hand, once the editor has looked at the provider's own log.

A batch is in doubt when its answer was lost: digest cannot know whether the provider took it,
so it never decides. The editor can (SendGrid's Activity feed, the SMTP relay's log) and says so
per batch: `delivered` marks its in-doubt recipients sent; `not delivered` marks them failed,
so the next `digest send` tries them again like any refused batch. Only rows in doubt change;
each keeps a note of who settled it, when and how, and so does its batch. Done under the send
lease, so never beside a running send.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from digest.archive import connect
from digest.editions import check_names
from digest.editions.layout import IN_DOUBT_CSV, newsletter_folder
from digest.editions.lease import holding
from digest.errors import DigestError
from digest.send.ledger import Ledger
from digest.send.report import write_in_doubt_csv
from digest.settings import Settings


@dataclass
class SettledByHand:
    recipients: int  # rows moved out of in doubt
    batches: list[int] = field(default_factory=list)
    still_in_doubt: int = 0
    note: str = ""


def settle_in_doubt(settings: Settings, edition: str, slug: str, *, batches: Sequence[int],
                    delivered: bool, every: bool = False) -> SettledByHand:
    """Mark the in-doubt recipients of `batches` (of every batch when `every`) sent when
    `delivered`, else failed (tried again by the next send)."""
    check_names(edition, slug)
    if not batches and not every:
        raise DigestError("say which batches to settle",
                          hint="Give --batch N (repeatable; `digest status` lists them) or "
                          "--all-in-doubt.")
    engine = connect(settings.database)
    ledger = Ledger(engine, edition, slug)
    now = datetime.now(UTC)
    how = "delivered" if delivered else "not delivered"
    note = f"settled by hand by {settings.editor_name()} at {now:%Y-%m-%d %H:%M} UTC: {how}"
    with holding(engine, edition, slug, "send", ttl=settings.send_lease_seconds):
        found = ledger.doubtful_batches()
        chosen = found if every else sorted(set(batches))
        unknown = [b for b in chosen if b not in found]
        if unknown:
            raise DigestError(
                f"{edition}/{slug} has nobody in doubt in batch(es) "
                f"{', '.join(map(str, unknown))}",
                hint="Batches with recipients in doubt: "
                f"{', '.join(map(str, found)) or 'none'} (`digest status` lists them).",
            )
        moved = ledger.settle_by_hand(chosen, delivered, note) if chosen else 0
        left = ledger.states().get("in_doubt", 0)
        folder = newsletter_folder(settings.out_dir, edition, slug)
        if folder.is_dir():  # the list next to the edition, as the send left it, brought up to date
            write_in_doubt_csv(ledger, folder / IN_DOUBT_CSV)
    return SettledByHand(moved, chosen, left, note)
