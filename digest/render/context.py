"""What the templates see: plain dicts and strings built from a selection and its summaries.

Templates get no model objects, so what they may use is exactly what is listed here (and in
templates/README.md); StrictUndefined turns anything else into an error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from digest.curate.select import Pick, Selection
from digest.curate.window import Window, long_date
from digest.newsletters import Newsletter
from digest.render.subject import render_line
from digest.render.templates import SendTimeURL, safe_url
from digest.settings import Settings

COLORS = {
    "page": "#eef1f5",  # page background around the 600px column
    "masthead": "#0b2545",  # navy masthead; white and masthead_text on it pass AAA
    "masthead_text": "#c9d6ea",
    "ink": "#1b1f24",  # body text: 16:1 on white
    "soft": "#3d4451",
    "muted": "#5b6472",  # secondary text: 6:1 on white
    "accent": "#b3261e",  # crimson: 6.2:1 on white
    "rule": "#dde1e6",
    "footer_text": "#454c57",  # 7.6:1 on the page background
}


KICKER_TAGS = 2
DEFAULT_PREHEADER = "{{ newsletter.title }}: {{ edition.label }}"


class SummaryLike(Protocol):
    text: str
    method: str
    words: int


@dataclass
class Entry:
    """A picked article with its summary, as laid out in the email."""

    pick: Pick
    summary: SummaryLike


def article_url(pick: Pick, settings: Settings) -> str:
    """The article's own link if it is http(s) or mailto (never a placeholder), else ours."""
    fallback = safe_url(settings.article_url(pick.article.id))
    url = safe_url(pick.article.url, fallback=fallback)
    return fallback if isinstance(url, SendTimeURL) else url


def byline(authors: Sequence[str]) -> str:
    names = [a.strip() for a in authors if a.strip()]
    if not names:
        return ""
    if len(names) == 1:
        return f"By {names[0]}"
    return "By " + ", ".join(names[:-1]) + f" and {names[-1]}"


def item(entry: Entry, settings: Settings) -> dict[str, Any]:
    pick, article = entry.pick, entry.pick.article
    # The newsletter's tags the article carries (at most two), else its own first tag.
    by_slug = {t.slug: t for t in pick.tags}
    shown = [by_slug[s] for s in pick.matched if s in by_slug][:KICKER_TAGS]
    if not shown and pick.primary_tag is not None:
        shown = [pick.primary_tag]
    kicker = [{"text": t.name, "inferred": t.inferred} for t in shown]
    if article.kind:
        kicker.append({"text": article.kind, "inferred": False})
    meta = " · ".join(p for p in (byline(article.authors), long_date(article.published_at)) if p)
    return {
        "id": article.id,
        "title": article.title,
        "url": article_url(pick, settings),
        "kicker": kicker,
        "kicker_text": " · ".join(k["text"] + (" (inferred)" if k["inferred"] else "")
                                  for k in kicker),
        "kind": article.kind or "",
        "authors": list(article.authors),
        "byline": byline(article.authors),
        "date": long_date(article.published_at),
        "meta": meta,
        "summary": entry.summary.text,
        "summary_method": entry.summary.method,
        "rank": pick.rank,
        "pinned": pick.pinned,
    }


def editorial_contact(settings: Settings, picks: Sequence[Pick]) -> str:
    """The configured contact, else the one most articles carry (earliest-ranked on a tie),
    else the newsletters' reply-to address."""
    if settings.editorial_contact.strip():
        return settings.editorial_contact.strip()
    found = [" ".join(p.article.contact.split()) for p in picks if p.article.contact]
    if not found:
        return f"Please e-mail {settings.reply_to} to contact the editorial staff."
    counts = Counter(found)
    return max(found, key=lambda c: (counts[c], -found.index(c)))


def edition_heading(window: Window) -> str:
    if window.week:
        return f"Week {int(window.week.split('W')[1])} · {window.label}"
    return window.label


def email_context(
    *,
    selection: Selection,
    entries: Sequence[Entry],
    more: Sequence[Entry],
    settings: Settings,
    subject: str,
    preheader: str | None,
    view_url: str,
    quiet: bool = False,
    topics: Sequence[str] = (),
) -> dict[str, Any]:
    """Template context; renders the subject and preheader templates on the way. `topics`
    names the reader's topics of a variant (none for the full edition)."""
    newsletter: Newsletter = selection.newsletter
    window = selection.window
    sections = []
    shown = {id(e.pick): e for e in entries}
    for section in selection.sections([e.pick for e in entries]):
        items = [item(shown[id(p)], settings) for p in section.picks]
        sections.append({"key": section.key, "title": section.title, "articles": items})
    edition = {**window.to_dict(), "heading": edition_heading(window), "week": window.week or ""}
    ranked = sorted(entries, key=lambda e: e.pick.rank)
    lead = item(ranked[0], settings) if ranked else {
        "title": "A quiet week", "url": view_url, "summary": "", "kicker_text": ""}
    newsletter_info = {"slug": newsletter.slug, "title": newsletter.title,
                       "description": newsletter.description, "from_name": newsletter.from_name}
    line_context = {"newsletter": newsletter_info, "edition": edition, "lead": lead,
                    "count": len(entries) + len(more)}
    where = f"newsletter {newsletter.slug!r}"
    subject_line = render_line(subject, line_context, where=f"{where}: subject")
    pre_source = preheader or newsletter.description or DEFAULT_PREHEADER
    preheader_line = render_line(pre_source, line_context, where=f"{where}: preheader")
    count = len(entries) + len(more)
    intro = newsletter.description or newsletter.title
    if count:
        stories = f"{count} {'story' if count == 1 else 'stories'}"
        intro = f"{intro.rstrip('.')}. This week: {stories}{' on your topics' if topics else ''}."
    return {
        "lang": settings.email_lang,
        "colors": COLORS,
        "subject": subject_line,
        "preheader": preheader_line,
        "newsletter": newsletter_info,
        "edition": edition,
        "intro": intro,
        "sections": sections,
        "more_this_week": [item(e, settings) for e in more],
        "lead": lead,
        "count": count,
        "quiet": quiet,
        "contact": editorial_contact(settings, [e.pick for e in [*entries, *more]]),
        "publisher": settings.publisher_name,
        "postal_address": settings.postal_address,
        "view_url": view_url,
        "topics": list(topics),
        "offers_topics": bool(newsletter.topics),
    }
