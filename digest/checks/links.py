"""Links: every href absolute https, nothing pointing at this machine, none empty, the
view-in-browser link under DIGEST_BASE_URL, and one link per article.

Links built from DIGEST_BASE_URL (view in browser, unsubscribe, List-Unsubscribe) are judged
once, as the setting: with the default http://127.0.0.1:8000 and the outbox backend (nothing
leaves the machine) that is a warning, to fix before going live; with smtp or sendgrid
configured it is an error, since every reader would get links that cannot work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from digest.checks.document import describe, markup
from digest.checks.findings import Finding, Severity
from digest.checks.message import Message

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
NOT_LINKS = ("mailto:", "tel:")


def is_local(host: str) -> bool:
    host = host.lower().strip("[]")
    return (host in LOCAL_HOSTS or host.startswith("127.") or host.endswith(".localhost")
            or host.endswith(".invalid") or host == "invalid")


def base_url_problem(base: str) -> str | None:
    """What is wrong with DIGEST_BASE_URL for a real send, or None."""
    parts = urlsplit(base)
    if parts.scheme == "http":
        return "it is http, not https"
    if parts.scheme != "https" or not parts.hostname:
        return "it is not an https address"
    if is_local(parts.hostname):
        return f"it points at {parts.hostname}, which readers cannot reach"
    return None


def check_links(message: Message) -> Iterator[Finding]:
    base = message.settings.base_url.rstrip("/")
    yield from _base_url(message, base)
    for anchor in message.document.tags("a"):
        yield from _one_link(message, anchor, base)
    yield from _view_in_browser(message, base)
    yield from _articles(message)


def _base_url(message: Message, base: str) -> Iterator[Finding]:
    problem = base_url_problem(base)
    if problem is None:
        return
    severity: Severity = "error" if message.real else "warning"
    if message.real:
        why = (f"the {message.settings.sender} backend sends to real readers, whose "
               "view-in-browser and unsubscribe links (and List-Unsubscribe header) would not work")
    else:
        why = ("fine for trying digest out with the outbox backend; with smtp or sendgrid this "
               "is an error")
    yield Finding(
        "links.base-url", severity, "setting DIGEST_BASE_URL",
        f"DIGEST_BASE_URL is {base}: {problem}. Unsubscribe and view-in-browser links are built "
        f"from it ({why}).",
        "Set DIGEST_BASE_URL to the public https address of `digest serve`, then rebuild.",
        snippet=base,
    )


def _one_link(message: Message, anchor: Any, base: str) -> Iterator[Finding]:
    href = (anchor.get("href") or "").strip()
    if anchor.get("href") is None:
        return  # an anchor target, not a link
    if href in ("", "#"):
        yield Finding("links.empty", "error", describe(anchor), "This link goes nowhere (href is "
                      f"{href!r}).", "Give it the address it should open, or remove the link.",
                      markup(anchor))
        return
    if href.lower().startswith(NOT_LINKS) or href.startswith("#"):
        return
    if base and href.startswith(base + "/"):
        return  # judged once, as the setting (_base_url)
    parts = urlsplit(href)
    if parts.scheme == "https" and parts.netloc and not is_local(parts.hostname or ""):
        return  # the usual case: nothing to describe
    where = describe(anchor)
    if not parts.scheme or not parts.netloc:
        yield Finding("links.absolute", "error", where,
                      f"{href!r} is not an absolute address: it cannot work in an inbox.",
                      "Use the full https:// address.", markup(anchor))
    elif parts.scheme == "http":
        yield Finding("links.https", "error", where, f"{href} is http, not https: browsers "
                      "warn about it and some clients rewrite or block it.",
                      "Link the https:// address.", markup(anchor))
    elif parts.scheme != "https":
        yield Finding("links.https", "error", where, f"{href} uses {parts.scheme}:, which "
                      "email clients do not open.", "Link an https:// address.", markup(anchor))
    elif is_local(parts.hostname or ""):
        yield Finding("links.local", "error" if message.real else "warning", where,
                      f"{href} points at {parts.hostname}, which readers cannot reach.",
                      "Link the public address (check DIGEST_ARTICLE_URL_TEMPLATE and the "
                      "articles' own links).", markup(anchor))


def _view_in_browser(message: Message, base: str) -> Iterator[Finding]:
    view_url = str(message.built.manifest.get("view_url") or "")
    hrefs = {(a.get("href") or "").strip() for a in message.document.tags("a")}
    if not view_url or view_url not in hrefs:
        yield Finding("links.view-in-browser", "warning", "HTML body",
                      "The email has no view-in-browser link (to the web archive).",
                      "Keep the `view_url` link in the template (partials/footer.mjml.j2).")
    elif not view_url.startswith(base + "/"):
        yield Finding("links.view-in-browser", "error", "HTML body",
                      f"The view-in-browser link {view_url} is not under DIGEST_BASE_URL "
                      f"({base}): the edition was built with another base URL.",
                      "Run `digest build` again with the current settings.", view_url)


def _articles(message: Message) -> Iterator[Finding]:
    manifest = message.built.manifest
    listed = [a for a in [*(manifest.get("articles") or []), *(manifest.get("more_this_week")
              or [])] if isinstance(a, dict) and a.get("url")]
    by_url: dict[str, list[str]] = defaultdict(list)
    for article in listed:
        by_url[str(article["url"])].append(str(article.get("title") or article.get("id")))
    for url, titles in by_url.items():
        if len(titles) > 1:
            where = "articles " + ", ".join(map(repr, titles))
            yield Finding("links.article-unique", "error", where,
                          f"{len(titles)} different articles link to the same address {url}: "
                          "readers clicking one of them get the wrong story.",
                          "Fix the articles' links (in the source files) and ingest them again.",
                          url)
    hrefs = {(a.get("href") or "").strip() for a in message.document.tags("a")}
    missing = [titles[0] for url, titles in by_url.items() if url not in hrefs]
    if missing:
        yield Finding("links.article-missing", "error", "HTML body",
                      f"{len(missing)} article(s) have no link in the email: "
                      + ", ".join(map(repr, missing[:5])) + ("…" if len(missing) > 5 else ""),
                      "Link each article's headline or read-more to its url in the template.")
