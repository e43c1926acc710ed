"""`digest check --online`: does every article link still answer?

One HEAD request per distinct article URL across all the messages of a run (a GET, body
unread, where a server refuses HEAD), redirects followed, at most
DIGEST_CHECK_ONLINE_CONCURRENCY at a time, each given DIGEST_CHECK_ONLINE_TIMEOUT seconds.
Never part of the default run: it reaches out to the publisher's site.

    404 or 410                 error: the story is gone
    other 4xx, 5xx, no answer  warning: maybe a paywall, a bot filter or a bad minute
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

import httpx

from digest.checks.findings import Finding, Severity, shorten
from digest.checks.run import run_async

if TYPE_CHECKING:
    from digest.checks.message import Message
    from digest.settings import Settings

GONE = {404, 410}
NO_HEAD = {405, 501}
USER_AGENT = "digest-link-check/1 (httpx)"


def article_links(message: Message) -> dict[str, str]:
    """url -> title of every article the message links to (picked and 'More this week')."""
    manifest = message.built.manifest
    links: dict[str, str] = {}
    for article in [*(manifest.get("articles") or []), *(manifest.get("more_this_week") or [])]:
        if isinstance(article, dict) and str(article.get("url") or "").startswith("http"):
            links.setdefault(str(article["url"]), str(article.get("title") or article["url"]))
    return links


def online_findings(settings: Settings, messages: Sequence[Message]) -> list[list[Finding]]:
    per_message = [article_links(m) for m in messages]
    urls = sorted({url for links in per_message for url in links})
    answers = run_async(_ask_all(urls, settings.check_online_timeout,
                                   settings.check_online_concurrency))
    found: list[list[Finding]] = []
    for links in per_message:
        findings = []
        for url, title in links.items():
            problem = answers.get(url)
            if problem is not None:
                severity, what = problem
                findings.append(Finding("links.online", severity, f"article {shorten(title, 60)!r}",
                                        f"{url} {what}.", "Check the link in the article's "
                                        "source and ingest it again (or drop the article).", url))
        found.append(findings)
    return found


async def _ask_all(urls: list[str], timeout: float,
                   concurrency: int) -> dict[str, tuple[Severity, str] | None]:
    slots = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    headers = {"User-Agent": USER_AGENT}
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True, limits=limits,
                                 headers=headers) as client:

        async def one(url: str) -> tuple[str, tuple[Severity, str] | None]:
            async with slots:
                return url, await _ask(client, url)

        return dict(await asyncio.gather(*(one(url) for url in urls)))


async def _ask(client: httpx.AsyncClient, url: str) -> tuple[Severity, str] | None:
    """None when the link answers 2xx (after redirects), else (severity, what happened)."""
    try:
        response = await client.head(url)
        if response.status_code in NO_HEAD:
            async with client.stream("GET", url) as streamed:
                response = streamed
    except httpx.TimeoutException:
        return "warning", f"did not answer within {client.timeout.read:g} s"
    except httpx.HTTPError as exc:
        return "warning", f"could not be reached ({shorten(str(exc) or type(exc).__name__, 80)})"
    status = response.status_code
    if status < 400:
        return None
    if status in GONE:
        return "error", f"answers {status}: the page is gone"
    return "warning", f"answers {status}"
