"""Checking built editions, and what `digest send` asks before it sends.

The findings of every run are written into the newsletter's manifest.json ("checks": the
content hash, the groups that ran, the counts and the findings), so the preview shows them and
a send can tell whether they still hold for the content it is about to send.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from digest.checks.findings import Report
from digest.checks.message import Message
from digest.checks.run import FULL, check_messages, group_of, open_message
from digest.editions import BuiltEdition, check_names, load_built, read_edition
from digest.editions.manifest import update_manifest
from digest.errors import DigestError

if TYPE_CHECKING:
    from digest.settings import Settings


@dataclass
class Checked:
    built: BuiltEdition
    report: Report

    @property
    def label(self) -> str:
        return f"{self.built.edition}/{self.built.slug}"


def recorded(built: BuiltEdition) -> Report | None:
    """The findings the manifest holds, or None."""
    return Report.from_dict(built.manifest.get("checks"))


def load_newsletters(settings: Settings, edition: str,
                     slugs: Sequence[str] = ()) -> list[BuiltEdition]:
    """The built newsletters of `edition` (all of them, or those named), read strictly."""
    if not slugs:
        check_names(edition)
        found = read_edition(settings.out_dir, edition)
        slugs = [n.slug for n in found.newsletters] if found else []
        if not slugs:
            raise DigestError(f"edition {edition} has not been built (nothing in "
                              f"{settings.out_dir / edition})",
                              hint=f"Run `digest build` for {edition} first.")
    return [load_built(settings.out_dir, edition, slug) for slug in slugs]


def check_edition(settings: Settings, edition: str, slugs: Sequence[str] = (), *,
                  online: bool = False, record: bool = True) -> list[Checked]:
    """Every check on the newsletters of a built edition (one browser and one SpamAssassin
    for all); the findings are recorded in their manifests unless `record` is False."""
    groups = (*FULL, "online") if online else FULL
    return check_built(settings, load_newsletters(settings, edition, slugs), groups=groups,
                       record=record)


def check_built(settings: Settings, built: Sequence[BuiltEdition], *,
                groups: Sequence[str] = FULL, record: bool = True) -> list[Checked]:
    opened = [open_message(settings, b) for b in built]
    messages = [m for m in opened if isinstance(m, Message)]
    reports = iter(check_messages(settings, messages, groups=groups))
    done = [Checked(b, m if isinstance(m, Report) else next(reports))
            for b, m in zip(built, opened, strict=True)]
    if record:
        for item in done:
            update_manifest(item.built.folder, checks=item.report.to_dict())
    return done


def checks_for_send(settings: Settings, built: BuiltEdition) -> Report:
    """The findings for exactly the content about to be sent. The static checks run again
    (milliseconds; settings such as the backend change their verdict); the browser and spam
    findings are reused when they ran on this very content, and run now when not."""
    before = recorded(built)
    message = open_message(settings, built)
    if isinstance(message, Report):
        return message
    reuse = before is not None and before.content == message.content_hash
    missing = [g for g in FULL if g == "static" or not (reuse and before and g in before.ran)]
    report = check_messages(settings, [message], groups=missing)[0]
    if reuse and before is not None:
        for group in FULL:
            if group not in missing:
                report.add(group, [f for f in before.findings if group_of(f.check) == group])
        if report.spam_score is None:
            report.spam_score = before.spam_score
    update_manifest(built.folder, checks=report.to_dict())
    return report
