"""Settling recipients in doubt by hand, once the editor has looked at the provider's own log.

A batch is in doubt when its answer was lost: digest cannot know whether the provider took it,
so it never decides. The editor can (SendGrid's Activity feed, the SMTP relay's log) and says so
per batch or per recipient: `delivered` marks them sent; `not delivered` marks them failed, so
the next `digest send` tries them again like any refused batch. Per recipient matters over SMTP,
where a batch is several messages and a lost connection can leave some of them delivered. Only
rows in doubt change; each keeps a note of who settled it, when and how, and its batch is
restated from its recipients. Done under the send lease, so never beside a running send.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from digest.archive import connect
from digest.editions import check_names
from digest.editions.layout import IN_DOUBT_CSV, newsletter_folder
from digest.editions.lease import holding
from digest.errors import DigestError, InputError
from digest.send.ledger import Ledger
from digest.send.report import write_in_doubt_csv
from digest.settings import Settings
from digest.subscribers.addresses import lenient_email


@dataclass
class SettledByHand:
    recipients: int  # rows moved out of in doubt
    batches: list[int] = field(default_factory=list)
    still_in_doubt: int = 0
    note: str = ""


@dataclass(frozen=True)
class Named:
    """An address the editor named, and where: "--recipient" or "FILE:LINE"."""

    email: str
    where: str


def settle_in_doubt(settings: Settings, edition: str, slug: str, *,
                    batches: Sequence[int] = (), delivered: bool, every: bool = False,
                    recipients: Sequence[Named] = ()) -> SettledByHand:
    """Mark the in-doubt recipients of `batches` (of every batch when `every`), or the
    `recipients` named, sent when `delivered`, else failed (tried again by the next send)."""
    check_names(edition, slug)
    if not (batches or every or recipients):
        raise DigestError("say which batches or recipients to settle",
                          hint="Give --batch N (repeatable; `digest status` lists them), "
                          "--all-in-doubt, or --recipient EMAIL / --recipients FILE.")
    if recipients and (batches or every):
        raise DigestError("settle either batches or recipients, not both in one go",
                          hint="Settle the recipients the log names first, then the rest of "
                          "their batches with --batch N.")
    engine = connect(settings.database)
    ledger = Ledger(engine, edition, slug)
    now = datetime.now(UTC)
    how = "delivered" if delivered else "not delivered"
    note = f"settled by hand by {settings.editor_name()} at {now:%Y-%m-%d %H:%M} UTC: {how}"
    with holding(engine, edition, slug, "send", ttl=settings.send_lease_seconds):
        if recipients:
            emails = _in_doubt(ledger, edition, slug, recipients)
            moved, chosen = ledger.settle_by_hand(delivered, note, emails=emails)
        else:
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
            moved, chosen = (ledger.settle_by_hand(delivered, note, batches=chosen)
                             if chosen else (0, []))
        left = ledger.states().get("in_doubt", 0)
        folder = newsletter_folder(settings.out_dir, edition, slug)
        if folder.is_dir():  # the list next to the edition, as the send left it, brought up to date
            write_in_doubt_csv(ledger, folder / IN_DOUBT_CSV)
    return SettledByHand(moved, chosen, left, note)


def _in_doubt(ledger: Ledger, edition: str, slug: str, named: Sequence[Named]) -> set[str]:
    """The addresses named, each in doubt on this ledger; else every one that is not, with
    where it was named, and nothing settled (a typo must not settle someone else's fate)."""
    keyed = [(n, lenient_email(n.email)) for n in named]
    states = ledger.on_ledger({email for _, email in keyed})
    wrong = []
    for n, email in keyed:
        state = states.get(email)
        if state != "in_doubt":
            now = f"it is {state.replace('_', ' ')}" if state else "not on its ledger"
            wrong.append(f"{n.where}: {n.email} is not in doubt in {edition}/{slug} ({now})")
    if wrong:
        shown = wrong[:20] + ([f"... and {len(wrong) - 20} more"] if len(wrong) > 20 else [])
        raise DigestError("\n".join(shown), hint="Name only recipients in doubt (the in-doubt "
                          f"list: {IN_DOUBT_CSV} beside the edition, or `digest status`); "
                          "nothing was settled.")
    return {email for _, email in keyed}


def read_recipients(path: Path) -> list[Named]:
    """The addresses in a file: one per line (blank lines and # comments skipped), or a CSV
    whose header has an `email` column, such as the in-doubt list trimmed to what the log
    shows. A line that holds no address is an error naming it."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot read the list of recipients: {exc}") from None
    lines = text.splitlines()
    first = next((n for n, line in enumerate(lines)
                  if line.strip() and not line.lstrip().startswith("#")), len(lines))
    column = None
    if first < len(lines) and "," in lines[first]:  # a CSV: its first line names the columns
        names = [c.strip().lower() for c in next(csv.reader([lines[first]]))]
        if "email" not in names:
            raise InputError(str(path), "a CSV list of recipients needs an `email` column",
                             line=first + 1)
        column = names.index("email")
    found, bad = [], []
    for number, line in enumerate(lines, start=1):
        if column is None:
            value = line.strip()
        elif number <= first + 1:
            continue
        else:
            cells = next(csv.reader([line]), [])
            value = cells[column].strip() if len(cells) > column else ""
        if not value or value.startswith("#"):
            continue
        if "@" not in value or any(c.isspace() for c in value):
            bad.append(f"{path}:{number}: {value!r} is not an email address")
        else:
            found.append(Named(value, f"{path}:{number}"))
    if bad:
        raise DigestError("\n".join(bad[:20]), hint="One address per line (or an `email` "
                          "column); fix those lines and run again. Nothing was settled.")
    if not found:
        raise InputError(str(path), "no email addresses in the file")
    return found
