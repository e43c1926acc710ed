"""Running the checks over messages, and the groups they come in.

    static    pure Python over the HTML, text and headers (deliverability, links, our own
              accessibility rules, client support, the color-scheme meta): milliseconds, so
              every `digest build` runs them
    browser   axe-core at 375 and 700 px, text contrast in light and dark mode, body text size
              on phones: one headless Chromium for all the messages of a run
    spam      SpamAssassin (local rules only) over every message's .eml, in one process
    online    a HEAD request to every distinct article link (`digest check --online` only)

`digest check` and `digest build --check` run static, browser and spam; `digest send` runs
whatever has not run on the exact content it is about to send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from digest.checks.accessibility import check_accessibility
from digest.checks.deliverability import check_deliverability
from digest.checks.findings import Finding, Report
from digest.checks.links import check_links
from digest.checks.message import Message
from digest.checks.support import check_support
from digest.editions import BuiltEdition
from digest.errors import DigestError

if TYPE_CHECKING:
    from digest.settings import Settings

STATIC: tuple[Callable[[Message], Iterable[Finding]], ...] = (
    check_deliverability, check_links, check_accessibility, check_support,
)
FULL = ("static", "browser", "spam")
T = TypeVar("T")


def open_message(settings: Settings, built: BuiltEdition) -> Message | Report:
    """The message to check, or a report with the one error that stops it being sent (a
    header the sender would refuse)."""
    try:
        return Message(settings, built)
    except DigestError as exc:
        report = Report(content="")
        report.add("static", [Finding("deliverability.headers", "error", "headers",
                                      exc.message, exc.hint or "Fix the value and rebuild.")])
        return report


def static_findings(message: Message) -> list[Finding]:
    return [finding for check in STATIC for finding in check(message)]


def static_report(settings: Settings, built: BuiltEdition) -> Report:
    """What `digest build` records in every manifest."""
    message = open_message(settings, built)
    if isinstance(message, Report):
        return message
    report = Report(message.content_hash)
    report.add("static", static_findings(message))
    return report


def check_messages(settings: Settings, messages: Sequence[Message], *,
                   groups: Sequence[str] = FULL) -> list[Report]:
    """Run `groups` over every message; one report per message, in order. The browser and
    SpamAssassin each start once for all of them, SpamAssassin working while Chromium does."""
    reports = [Report(m.content_hash) for m in messages]
    if "static" in groups:
        for message, report in zip(messages, reports, strict=True):
            report.add("static", static_findings(message))
    spam = None
    if "spam" in groups and messages:
        from digest.checks.spam import SpamRun

        spam = SpamRun(settings, messages)
    if "browser" in groups and messages:
        from digest.checks.browser import browser_findings

        ran, per_message = browser_findings(settings, messages)
        for report, found in zip(reports, per_message, strict=True):
            if ran:
                report.add("browser", found)
            else:  # what to install; "browser" stays off `ran`, so a later run tries again
                report.findings.extend(found)
    if spam is not None:
        for report, (score, found) in zip(reports, spam.results(), strict=True):
            if score is None:  # not checked: say why, and leave "spam" off `ran`
                report.findings.extend(found)
            else:
                report.add("spam", found)
                report.spam_score = score
    if "online" in groups and messages:
        from digest.checks.online import online_findings

        for report, found in zip(reports, online_findings(settings, messages), strict=True):
            report.add("online", found)
    return reports


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from synchronous code, also when this thread already runs
    an event loop (a send started from an async caller): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def group_of(check: str) -> str:
    """The group a check id belongs to."""
    if check.startswith(("a11y.axe.", "a11y.contrast", "a11y.text-size", "dark.contrast",
                         "browser.")):
        return "browser"
    if check.startswith("spam."):
        return "spam"
    if check.startswith("links.online"):
        return "online"
    return "static"
