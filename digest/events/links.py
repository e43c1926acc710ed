"""What a clicked link was: one of our own (view in browser, unsubscribe, manage) or a story.

Our own links live under the public base URL and are recognised when the click comes in; the
personal ones carry a signed token, which is cut out before the URL is stored (the database
needs to know that someone clicked "unsubscribe", not hold a working link for them). Stories
are matched later, against the manifest of the edition that was sent: the report reads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

VIEW, UNSUBSCRIBE, MANAGE = "view", "unsubscribe", "manage"
PERSONAL = {"u": UNSUBSCRIBE, "manage": MANAGE}  # first path segment -> link kind
TOKEN = "…"  # what a cut-out token is replaced with
MAX_URL = 2000
# Added by analytics and click-tracking settings, never part of which page a link leads to.
_TRACKING = ("utm_", "mc_", "_hs", "fbclid", "gclid")


@dataclass(frozen=True)
class OwnLinks:
    """Recognises links under the public base URL (`digest serve`)."""

    base_url: str

    def classify(self, url: str) -> tuple[str | None, str]:
        """(kind, url to store): kind is view / unsubscribe / manage for our own links, None
        for any other; personal tokens are cut out of the URL."""
        url = url.strip()[:MAX_URL]
        base = urlsplit(self.base_url.rstrip("/"))
        try:
            parts = urlsplit(url)
        except ValueError:
            return None, url
        if (parts.scheme.lower(), parts.netloc.lower()) != (base.scheme.lower(),
                                                             base.netloc.lower()):
            return None, url
        prefix = base.path.rstrip("/")
        if not parts.path.startswith(prefix + "/"):
            return None, url
        segments = parts.path[len(prefix) + 1:].split("/")
        if segments[0] in PERSONAL and len(segments) > 1:
            cut = "/".join([prefix, segments[0], TOKEN, *segments[2:]])
            return PERSONAL[segments[0]], urlunsplit((parts.scheme, parts.netloc, cut, "", ""))
        if segments[0] == "archive":
            return VIEW, url
        return None, url


def normalised(url: str) -> str:
    """A link as it identifies a page: scheme and host in lower case, no fragment, no tracking
    parameters, no trailing slash; so a click matches the manifest's URL of the story."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith(_TRACKING)]
    path = parts.path.rstrip("/") or ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(query), ""))


@dataclass(frozen=True)
class Story:
    """An article of the sent edition, as the manifest lists it."""

    id: str
    title: str
    url: str
    rank: int
    section: str
    more: bool  # listed under "More this week" (headline only)


def stories_of(manifest: dict[str, Any]) -> list[Story]:
    """The articles of a manifest in the order the email shows them, "More this week" last."""
    found: list[Story] = []
    lists = ((False, manifest.get("articles")), (True, manifest.get("more_this_week")))
    for more, entries in lists:
        for n, entry in enumerate(entries if isinstance(entries, list) else [], start=1):
            if not isinstance(entry, dict) or not entry.get("id"):
                continue
            rank = entry.get("rank") if isinstance(entry.get("rank"), int) else n
            found.append(Story(str(entry["id"]), str(entry.get("title") or entry["id"]),
                               str(entry.get("url") or ""), rank,
                               "" if more else str(entry.get("section") or ""), more))
    return found


class StoryLinks:
    """Maps clicked URLs to the stories of one sent edition."""

    def __init__(self, stories: Iterable[Story]) -> None:
        self.stories = list(stories)
        self._by_url: dict[str, Story] = {}
        for story in self.stories:
            if story.url:
                self._by_url.setdefault(story.url, story)
                self._by_url.setdefault(normalised(story.url), story)

    def story(self, url: str) -> Story | None:
        return self._by_url.get(url) or self._by_url.get(normalised(url))
