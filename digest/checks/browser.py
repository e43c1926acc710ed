"""The checks that need a browser, in one headless Chromium for every message of a run:

- axe-core (axe-playwright-python) on the email at 700 px and 375 px, with the rules that do
  not apply to an email (page landmarks, skip links) and those our own checks cover more
  strictly (contrast in two modes, image alt, lang, link names) left out;
- text contrast at WCAG AA (4.5:1, 3:1 for large text) from the computed colours, in light
  mode and in forced dark mode (prefers-color-scheme: dark, a dark canvas behind the email);
- running text smaller than 14 px at phone width.

Requests leave nothing: every one but the page itself is aborted. When Chromium (or the
Playwright library) is missing, each message gets one warning saying what to install.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest.checks.findings import Finding, Severity, shorten
from digest.checks.run import run_async

if TYPE_CHECKING:
    from digest.checks.message import Message
    from digest.settings import Settings

WIDTHS = (700, 375)  # desktop column and a phone
PHONE_BELOW = 480  # MJML stacks columns at 480 px and below
PARALLEL_PAGES = 3  # pages checked at once (axe-core is the slow part)
LIGHT_CANVAS, DARK_CANVAS = [255, 255, 255], [18, 18, 18]
MIN_BODY_PX = 14
BODY_CHARS = 40  # text this long is running text, not a label
SCRIPT = (Path(__file__).resolve().parent / "browser.js").read_text(encoding="utf-8")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
# Page-level rules that do not apply to an email, and rules our own checks cover.
AXE_SKIPPED = ["region", "landmark-one-main", "page-has-heading-one", "bypass",
               "color-contrast", "color-contrast-enhanced", "image-alt", "html-has-lang",
               "link-name"]
AXE_SEVERITY: dict[str, Severity] = {"critical": "error", "serious": "warning",
                                     "moderate": "warning", "minor": "info"}


class Unavailable(Exception):
    """Chromium or Playwright is not there: the browser checks cannot run."""


def browser_findings(settings: Settings,
                     messages: Sequence[Message]) -> tuple[bool, list[list[Finding]]]:
    """(ran, findings per message). When the browser is missing, ran is False and each
    message gets the one finding that says what to install."""
    try:
        return True, run_async(_check_all(Path(settings.chromium_path), messages))
    except Unavailable as exc:
        finding = Finding("browser.unavailable", "warning", "setting DIGEST_CHROMIUM_PATH",
                          f"The accessibility (axe), contrast and text-size checks did not run: "
                          f"{exc}.", "Install Chromium (Debian: apt-get install chromium) or "
                          "set DIGEST_CHROMIUM_PATH to it, then run `digest check` again.",
                          str(settings.chromium_path))
        return False, [[finding] for _ in messages]


async def _check_all(executable: Path, messages: Sequence[Message]) -> list[list[Finding]]:
    """Every message at both widths, a few pages at a time: Chromium runs each page in its own
    process, so pages checked in parallel use every core."""
    if not (executable.is_file() and os.access(executable, os.X_OK)):
        raise Unavailable(f"no Chromium at {executable}")
    try:
        from axe_playwright_python.base import AXE_SCRIPT
        from playwright.async_api import Error, async_playwright
    except ImportError:
        raise Unavailable("the Playwright library is not installed "
                          "(pip install playwright axe-playwright-python)") from None
    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(executable_path=str(executable),
                                                       args=CHROMIUM_ARGS)
        except Error as exc:
            raise Unavailable(f"Chromium at {executable} did not start: "
                              f"{shorten(str(exc), 200)}") from None
        try:
            context = await browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
            await context.route("**/*", _offline)
            await context.add_init_script(script=AXE_SCRIPT)
            slots = asyncio.Semaphore(PARALLEL_PAGES)

            async def one(message: Message, width: int) -> list[Finding]:
                async with slots:
                    page = await context.new_page()
                    try:
                        return await _at_width(page, message.html, width)
                    except Error as exc:
                        return [Finding("browser.failed", "warning", f"Chromium at {width} px",
                                        f"The browser checks stopped: {shorten(str(exc), 200)}",
                                        "Run `digest check` again; report it if it keeps "
                                        "happening.")]
                    finally:
                        await page.close()

            done = await asyncio.gather(*(one(m, w) for m in messages for w in WIDTHS))
        finally:
            await browser.close()
    step = len(WIDTHS)
    return [_merge_axe(done[n:n + step]) for n in range(0, len(done), step)]


async def _at_width(page: Any, html: str, width: int) -> list[Finding]:
    """axe-core at this width; at desktop width the contrast in light and dark mode, at phone
    width the size of running text."""
    await page.set_viewport_size({"width": width, "height": 900})
    await page.set_content(html, wait_until="load")
    found = [_axe_finding(v, width) for v in await _axe(page)]
    phone = width < PHONE_BELOW
    measured = await page.evaluate(SCRIPT, {"canvas": LIGHT_CANVAS, "phone": phone,
                                            "dark": False, "minPx": MIN_BODY_PX,
                                            "bodyChars": BODY_CHARS})
    if phone:
        return found + _small_text(measured["small"], width)
    found += _contrast(measured["contrast"], "light")
    await page.emulate_media(color_scheme="dark")
    dark = await page.evaluate(SCRIPT, {"canvas": DARK_CANVAS, "phone": False, "dark": True,
                                        "minPx": MIN_BODY_PX, "bodyChars": BODY_CHARS})
    return found + _contrast(dark["contrast"], "dark")


def _merge_axe(per_width: list[list[Finding]]) -> list[Finding]:
    """One finding per axe rule however many widths it failed at, naming them."""
    merged: dict[str, Finding] = {}
    others: list[Finding] = []
    for found in per_width:
        for finding in found:
            first = merged.get(finding.check)
            if not finding.check.startswith("a11y.axe."):
                others.append(finding)
            elif first is None:
                merged[finding.check] = finding
            else:
                width = finding.problem.rpartition(", at ")[2]
                merged[finding.check] = replace(
                    first, problem=first.problem.replace(" px).", f" px and {width}", 1))
    return [*merged.values(), *others]


async def _offline(route: Any) -> None:
    if route.request.url.startswith(("data:", "about:")):
        await route.continue_()
    else:
        await route.abort()


async def _axe(page: Any) -> list[dict[str, Any]]:
    options = {"resultTypes": ["violations"],
               "rules": {rule: {"enabled": False} for rule in AXE_SKIPPED}}
    results = await page.evaluate("(options) => axe.run(document, options)", options)
    return list(results.get("violations") or [])


def _axe_finding(violation: dict[str, Any], width: int) -> Finding:
    nodes = violation.get("nodes") or [{}]
    first = nodes[0]
    target = " ".join(map(str, first.get("target") or [])) or "the email"
    more = f" (and {len(nodes) - 1} more)" if len(nodes) > 1 else ""
    summary = str(first.get("failureSummary") or "").replace("Fix any of the following:", "")
    summary = summary.replace("Fix all of the following:", "")
    return Finding(
        f"a11y.axe.{violation['id']}", AXE_SEVERITY.get(str(violation.get("impact")), "warning"),
        f"{target}{more}",
        f"{violation.get('help', violation['id'])} (axe-core, at {width} px).",
        shorten(summary, 200) + (f" See {violation['helpUrl']}" if violation.get("helpUrl")
                                 else ""),
        shorten(str(first.get("html") or "")),
    )


def _contrast(failures: list[dict[str, Any]], mode: str) -> list[Finding]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for failure in failures:
        groups[(failure["where"], failure["fg"], failure["bg"])].append(failure)
    found = []
    for (where, fg, bg), items in groups.items():
        worst = min(items, key=lambda f: f["ratio"])
        if mode == "light":
            check, severity = "a11y.contrast", "error"
            problem = (f"Text {fg} on {bg} has a contrast of {worst['ratio']}:1; WCAG AA needs "
                       f"{worst['need']}:1 at {worst['size']:g} px.")
            fix = "Darken the text or lighten the background (the template's colours)."
        else:
            check = "dark.contrast"
            severity = "error" if worst["ratio"] < 3 else "warning"
            problem = (f"In dark mode, text {fg} on {bg} has a contrast of {worst['ratio']}:1 "
                       f"(WCAG AA needs {worst['need']}:1): "
                       + ("dark on dark, unreadable." if worst["ratio"] < 3 else "hard to read."))
            fix = ("Give it a light colour in the template's @media (prefers-color-scheme: dark) "
                   "rules, or a background of its own.")
        more = f" ({len(items)} places)" if len(items) > 1 else ""
        found.append(Finding(check, severity, f"{where}{more}", problem, fix,
                             shorten(worst["text"])))
    return found


def _small_text(small: list[dict[str, Any]], width: int) -> list[Finding]:
    groups: dict[tuple[str, float], list[dict[str, Any]]] = defaultdict(list)
    for item in small:
        groups[(item["where"], item["size"])].append(item)
    return [
        Finding("a11y.text-size", "warning", f"{where}" + (f" ({len(items)} places)"
                                                            if len(items) > 1 else ""),
                f"Running text is {size:g} px on a {width} px phone screen: below "
                f"{MIN_BODY_PX} px it is hard to read (and iOS may enlarge it, breaking the "
                "layout).", f"Make it at least {MIN_BODY_PX} px in the template's phone "
                "@media rule.", shorten(items[0]["text"]))
        for (where, size), items in groups.items()
    ]
