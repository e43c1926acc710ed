"""RSS 2.0, RSS 1.0 and Atom through feedparser, from a file or a fetched URL.

HTML content becomes paragraphs and subheads, categories become tags, dates become UTC, and
guid / id / link becomes the article id (the pipeline shortens ids that are long URLs).
feedparser's own HTML sanitising is switched off: we only keep text, and it costs more than
the rest of the parsing together.
"""

from __future__ import annotations

import calendar
import codecs
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from digest.errors import InputError
from digest.ingest.dates import DATE_FORMATS
from digest.ingest.html import html_blocks, html_text, text_blocks
from digest.ingest.registry import Reader, ReadResult, Source, register
from digest.ingest.text import derived_id, split_contact, squash
from digest.models import Article, Block, Tag

_ROOT = re.compile(rb"<(?:rss|feed|rdf:rdf)[\s>]", re.I)
_FEED_HINT = "Expected an RSS 2.0, RSS 1.0 (RDF) or Atom feed."


@register
class FeedReader(Reader):
    name = "feed"
    extensions = (".xml", ".rss", ".atom", ".rdf")

    def sniff(self, head: bytes) -> bool:
        return bool(_ROOT.search(head[:2048]))

    def read(self, source: Source) -> Iterator[ReadResult]:
        import feedparser  # here: its import costs more than most ingests of local files

        try:
            parsed = feedparser.parse(source.data, sanitize_html=False,
                                      resolve_relative_uris=False)
        except (UnicodeError, ValueError, LookupError) as exc:
            # feedparser trusts the XML declaration's encoding name; bytes there it cannot
            # decode (found by the fuzz suite) make it raise instead of reporting the feed bad.
            yield InputError(source.name, f"not a readable XML feed: its encoding cannot be "
                             f"worked out ({type(exc).__name__}: {exc})", line=1,
                             hint="Check the <?xml ... encoding=\"...\"?> declaration.")
            return
        if not parsed.get("version"):
            yield _not_a_feed(parsed, source)
            return
        for number, entry in enumerate(parsed.entries, start=1):
            try:
                yield entry_article(entry, source, number)
            except InputError as error:
                yield error


_DECLARATION = re.compile(r"<\?xml[^>]*?>")  # feedparser's own test
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))


def _declares_xml(data: bytes) -> bool:
    """Whether the document starts with a whole `<?xml ...?>`, as feedparser tests it before it
    puts one of its own (and a line break) in front."""
    head, codec = data[:512], "utf-8"
    for bom, name in _BOMS:
        if head.startswith(bom):
            head, codec = head[len(bom):], name
            break
    else:
        if head.startswith((b"<\x00?\x00", b"\x00<\x00?")):
            codec = "utf-16-le" if head[0] else "utf-16-be"
    return _DECLARATION.match(head.decode(codec, "ignore")) is not None


def _not_a_feed(parsed: Any, source: Source) -> InputError:
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and problem is not None:
        line = problem.getLineNumber() if hasattr(problem, "getLineNumber") else None
        if line is not None and not _declares_xml(source.data):
            line = max(line - 1, 1)  # feedparser put a declaration line of its own on top
        message = problem.getMessage() if hasattr(problem, "getMessage") else str(problem)
        return InputError(source.name, f"not an XML feed: {message}", line=line, hint=_FEED_HINT)
    return InputError(
        source.name, "XML, but not an RSS or Atom feed (no <rss>, <rdf:RDF> or <feed> root)",
        hint=_FEED_HINT,
    )


def entry_article(entry: Any, source: Source, number: int) -> Article:
    label = f"entry {number}"
    raw_title = entry.get("title") or ""
    title = html_text(raw_title) if "html" in _type(entry, "title") else squash(raw_title)
    if not title:
        raise InputError(source.name, f"{label}: no <title>", hint=_FEED_HINT)
    published_at = _when(entry, "published") or _when(entry, "updated")
    if published_at is None:
        raw = dict.get(entry, "published") or dict.get(entry, "updated")
        problem = f"unparseable date {raw!r}" if raw else "no date (pubDate, published or dc:date)"
        raise InputError(source.name, f"{label}: {problem}", hint=f"Write dates as {DATE_FORMATS}.")
    updated_at = _when(entry, "updated") if dict.get(entry, "published_parsed") else None
    if updated_at is not None and updated_at <= published_at:
        updated_at = None

    contents = entry.get("content") or []
    # Atom may carry several <content> versions: the HTML one keeps the subheads
    content = next((c for c in contents if "html" in (c.get("type") or "")), None)
    body = _blocks(content or contents[0]) if contents else []
    summary = _blocks(entry.get("summary_detail") or {"value": entry.get("summary") or ""})
    standfirst = None
    if not body:
        body = summary
    elif summary:
        standfirst = _standfirst(" ".join(b.text for b in summary), body)
    body, contact = split_contact(body)
    link = entry.get("link") or ""
    if not link.lower().startswith(("http://", "https://")):
        link = None  # an Atom id such as urn:uuid:... that feedparser offers as the link
    return Article(
        id=entry.get("id") or link or derived_id(title, published_at),
        title=title,
        published_at=published_at,
        url=link,
        authors=_authors(entry),
        updated_at=updated_at,
        kind=_kind(entry),
        tags=_tags(entry),
        standfirst=standfirst,
        body=body,
        contact=contact,
        source=source.name,
    )


def _standfirst(summary: str, body: list[Block]) -> str | None:
    """The summary, unless it only repeats the body: its first paragraph, or its opening words
    (feeds often cut the content short for the description, or copy it whole)."""
    first = next((b.text for b in body if b.kind == "paragraph"), "")
    opening = summary.rstrip(" .…").removesuffix("[...]").rstrip(" .…")
    if summary == first or " ".join(b.text for b in body).startswith(opening):
        return None
    return summary


def _kind(entry: Any) -> str | None:
    """RSS and Atom have no field for the article's kind; publishers add one in their own
    namespace (`<regwire:kind>News</regwire:kind>`), which feedparser names `prefix_kind`."""
    for key, value in entry.items():
        if key.endswith("_kind") and isinstance(value, str) and value.strip():
            return squash(value)
    return None


def _type(entry: Any, key: str) -> str:
    return (entry.get(f"{key}_detail") or {}).get("type") or ""


def _blocks(detail: Any) -> list[Block]:
    value = detail.get("value") or ""
    if detail.get("type") == "text/plain":
        return text_blocks(value)
    return html_blocks(value)


def _when(entry: Any, key: str) -> datetime | None:
    # feedparser gives a struct_time already converted to UTC. dict.get, not entry.get: the
    # latter maps a missing "updated" to "published" (with a DeprecationWarning).
    parsed = dict.get(entry, f"{key}_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


def _authors(entry: Any) -> list[str]:
    names = [squash(a.get("name") or "") for a in entry.get("authors") or []]
    if not any(names) and entry.get("author"):
        names = [squash(entry["author"])]
    return [n for n in dict.fromkeys(names) if n]


def _tags(entry: Any) -> list[Tag]:
    found: dict[str, Tag] = {}
    for category in entry.get("tags") or []:
        name = squash(category.get("label") or category.get("term") or "")
        tag = Tag.from_name(name)
        if tag.slug:
            found.setdefault(tag.slug, tag)
    return list(found.values())
