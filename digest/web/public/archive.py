"""The web archive, from the database alone: the frozen copies of sent newsletters.

Only frozen newsletters (being sent or sent) exist here: a draft's URL is a 404 exactly like a
missing one, and the public server needs no edition folders. Per newsletter, newest first,
with an Atom feed; a correction is shown as such next to what it corrects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from digest import placeholders
from digest.editions.frozen import Published, frozen_html, published
from digest.editions.ids import is_edition_id, is_slug
from digest.editions.variants import is_variant_key

# Personal placeholders filled per recipient at send time; the public copy gets neutral text.
NEUTRAL_NAME = "reader"
NEUTRAL_EMAIL = "you"
FEED_ENTRIES = 50


@dataclass
class Entry:
    edition: str
    label: str
    subject: str
    preheader: str
    sent_at: datetime
    path: str  # the web version
    corrects: Entry | None = None  # the entry this correction corrects
    corrected_by: list[Entry] = field(default_factory=list)


@dataclass
class NewsletterArchive:
    slug: str
    title: str
    entries: list[Entry]  # newest first

    @property
    def latest(self) -> datetime:
        return self.entries[0].sent_at


Paths = Callable[[str, str], str]  # (edition, slug) -> the web version's path


def archive(engine: Engine, path_of: Paths,
            newsletter: str | None = None) -> list[NewsletterArchive]:
    """Published newsletters, each with its editions newest first; the newsletter most
    recently sent first."""
    grouped: dict[str, list[Published]] = {}
    for item in published(engine, newsletter):
        grouped.setdefault(item.newsletter, []).append(item)
    found = []
    for slug, items in grouped.items():
        entries = [Entry(i.edition, i.label, i.subject, i.preheader, i.sent_at,
                         path_of(i.edition, slug)) for i in items]
        by_id = {e.edition: e for e in entries}
        for item, entry in zip(items, entries, strict=True):
            if item.revision_of and item.revision_of in by_id:
                entry.corrects = by_id[item.revision_of]
                by_id[item.revision_of].corrected_by.append(entry)
        found.append(NewsletterArchive(slug, items[0].title or slug, entries))
    found.sort(key=lambda n: (n.latest, n.slug), reverse=True)
    return found


def web_version(engine: Engine, edition: str, slug: str, unsubscribe_help_url: str,
                manage_request_url: str = "/manage", variant: str = "") -> str | None:
    """The frozen email's HTML (or its `variant`'s, cut to some readers' topics) with the
    personal placeholders made neutral (the manage link goes to the page where a reader asks
    for their own); None unless the newsletter of that edition was sent."""
    if not (is_edition_id(edition) and is_slug(slug)):
        return None
    if variant and not is_variant_key(variant):
        return None
    html = frozen_html(engine, edition, slug, variant)
    if html is None:
        return None
    neutral = {
        placeholders.NAME: NEUTRAL_NAME,
        placeholders.EMAIL: NEUTRAL_EMAIL,
        placeholders.UNSUBSCRIBE_URL: unsubscribe_help_url,
        placeholders.MANAGE_URL: manage_request_url,
    }
    return placeholders.fill(html, neutral, escape=True)


def atom_feed(listing: NewsletterArchive, *, feed_url: str, page_url: str,
              absolute: Callable[[str], str], publisher: str, language: str) -> bytes:
    """The newsletter's archive as an Atom feed: one entry per edition, newest first."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(feed_url)
    feed.title(listing.title)
    feed.subtitle(f"Past editions of {listing.title}, from {publisher}")
    feed.author({"name": publisher})
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.link(href=feed_url, rel="self", type="application/atom+xml")
    feed.language(language)
    feed.updated(listing.latest)
    for entry in listing.entries[:FEED_ENTRIES]:
        item = feed.add_entry(order="append")
        url = absolute(entry.path)
        item.id(url)
        item.title(entry.subject or entry.label)
        item.link(href=url, rel="alternate", type="text/html")
        item.published(entry.sent_at)
        item.updated(entry.sent_at)
        if entry.preheader:
            item.summary(entry.preheader)
    return feed.atom_str(pretty=True)
