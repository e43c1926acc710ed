"""The Checks tab: a newsletter's pre-send findings, as its manifest records them.

`digest build` records the quick (static) checks; `digest check`, `digest build --check` or the
tab's own button add the browser (axe-core, contrast, text size) and SpamAssassin ones. The tab
says whether the findings were made on the content shown, or on an earlier build.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from digest.checks import Finding, Report
from digest.checks.message import Message
from digest.editions import BuiltEdition, Newsletter
from digest.errors import DigestError
from digest.settings import Settings

FAMILIES = {
    "deliverability": "Deliverability",
    "links": "Links",
    "a11y": "Accessibility",
    "dark": "Dark mode",
    "support": "Client support",
    "spam": "Spam score",
    "browser": "Browser",
}


@dataclass
class Family:
    key: str
    title: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def worst(self) -> str:
        severities = {f.severity for f in self.findings}
        return next((s for s in ("error", "warning") if s in severities), "info")


@dataclass
class ChecksView:
    report: Report | None
    current: bool  # the findings were made on the content the preview shows
    families: list[Family]
    real: bool  # the configured backend sends to readers (smtp, sendgrid)

    @property
    def counts(self) -> dict[str, int]:
        return self.report.counts() if self.report else {"error": 0, "warning": 0, "info": 0}

    def ran(self, group: str) -> bool:
        return self.report is not None and group in self.report.ran


def checks_view(settings: Settings, newsletter: Newsletter) -> ChecksView:
    report = Report.from_dict(newsletter.manifest.get("checks"))
    current = False
    if report is not None:
        built = BuiltEdition(newsletter.edition, newsletter.slug, newsletter.folder,
                             newsletter.read("email.html"), newsletter.read("email.txt"),
                             newsletter.manifest)
        try:
            current = Message(settings, built).content_hash == report.content
        except DigestError:
            current = False
    families: dict[str, Family] = {}
    for finding in report.sorted() if report else []:
        key = finding.family
        families.setdefault(key, Family(key, FAMILIES.get(key, key.title()))).findings.append(
            finding)
    order = list(FAMILIES)
    ordered = sorted(families.values(), key=lambda f: (("error", "warning", "info").index(
        f.worst), order.index(f.key) if f.key in order else len(order)))
    return ChecksView(report, current, ordered, settings.sender != "outbox")
