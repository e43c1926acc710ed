"""What `digest send` asks before a real send: do the checks find errors in this content?

The findings must be for exactly the content about to be sent: the quick checks run again, and
the browser and SpamAssassin checks run first when they have not run on it (checks_for_send).
A send with errors goes ahead only when forced, and the forced send is recorded: who (the
DIGEST_EDITOR setting, else the OS user) and when, with the errors it went out with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from digest.checks.edition import checks_for_send
from digest.checks.findings import Finding, Report
from digest.errors import DigestError

if TYPE_CHECKING:
    from digest.editions import BuiltEdition
    from digest.settings import Settings

SHOWN = 5  # errors listed in the refusal; `digest check` lists them all


class ChecksFailed(DigestError):
    """The checks found errors in the content about to be sent, and the send was not forced."""

    def __init__(self, built: BuiltEdition, errors: list[Finding]) -> None:
        self.errors = errors
        lines = [f"  {f.check} ({f.where}): {f.problem}" for f in errors[:SHOWN]]
        if len(errors) > SHOWN:
            lines.append(f"  ... and {len(errors) - SHOWN} more")
        super().__init__(
            f"not sending {built.edition}/{built.slug}: the pre-send checks found "
            f"{len(errors)} error(s):\n" + "\n".join(lines),
            hint=f"See them all with `digest check {built.edition} -n {built.slug}` or in the "
            "preview's Checks tab; fix them and rebuild, or send with --force (recorded).",
        )


@dataclass
class Verdict:
    report: Report
    forced_by: str | None  # who forced a send that has errors; None when it has none

    @property
    def errors(self) -> list[Finding]:
        return self.report.errors


def gate_send(settings: Settings, built: BuiltEdition, *, force: bool = False) -> Verdict:
    """The checks' verdict on `built`; ChecksFailed when it has errors and `force` is not set."""
    report = checks_for_send(settings, built)
    if report.errors and not force:
        raise ChecksFailed(built, report.errors)
    return Verdict(report, settings.editor_name() if report.errors else None)
