"""RSS 2.0, RSS 1.0 and Atom files through feedparser."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.archive import connect
from digest.errors import InputError
from digest.ingest import ingest
from digest.models import Article, Block, Tag
from digest.settings import Settings

Parse = Callable[[Path], list[Article | InputError]]


def articles(results: list[Article | InputError]) -> list[Article]:
    assert all(isinstance(r, Article) for r in results), results
    return [r for r in results if isinstance(r, Article)]


def test_rss2_content_categories_and_dates(fixtures: Path, parse: Parse) -> None:
    raid, short = articles(parse(fixtures / "feeds" / "rss2.xml"))

    assert raid.title == "Regulator raids app store offices in fee inquiry"
    assert raid.published_at == datetime(2026, 11, 3, 9, 30, tzinfo=UTC)  # +0100 -> UTC
    assert raid.authors == ["Tom Berg"]
    assert raid.kind == "Analysis"  # from the publisher's own namespace
    assert raid.tags == [Tag("antitrust", "Antitrust"), Tag("digital-markets", "Digital Markets")]
    assert raid.url == "https://regwire.example/articles/rs-app-store-raid"
    # the description differs from the content's first paragraph: it is the standfirst
    assert raid.standfirst == "Officials arrived unannounced on Tuesday morning."
    assert raid.body == [
        Block(
            "paragraph",
            "Competition officials searched the offices of an app store operator & two of its "
            "payment partners.",
        ),
        Block("subhead", "Why now"),
        Block("paragraph", "The inquiry into commission fees began in March. It has widened "
                           "since."),
        Block("paragraph", "First point"),
        Block("paragraph", "Second point"),
    ]  # tags stripped, entities unescaped, the script dropped
    assert raid.contact is not None and "editorial staff" in raid.contact

    # no content: the (escaped) description is the body, and there is no standfirst
    assert short.paragraphs == ["Only a description, escaped HTML.", "Second paragraph."]
    assert short.standfirst is None
    assert short.kind is None
    assert short.url == "https://news.example.org/2026/11/04/short-item?utm_source=rss"


def test_rss1(fixtures: Path, parse: Parse) -> None:
    (quota,) = articles(parse(fixtures / "feeds" / "rss1.rdf"))
    assert quota.title == "Steel safeguard quotas cut by a tenth"
    assert quota.published_at == datetime(2026, 11, 5, 11, 0, tzinfo=UTC)  # dc:date, +02:00
    assert quota.authors == ["Ana Ruiz"]
    assert quota.tags == [Tag("trade", "Trade")]
    assert quota.paragraphs == ["The cut takes effect on 1 January."]


def test_atom(fixtures: Path, parse: Parse) -> None:
    tracking, plain = articles(parse(fixtures / "feeds" / "atom.xml"))

    assert tracking.title == "Court limits legitimate interest for ad tracking"  # HTML title
    assert tracking.authors == ["Marta Kowalczyk", "Jonas Weber"]
    assert tracking.published_at == datetime(2026, 11, 5, 17, 0, tzinfo=UTC)
    assert tracking.updated_at == datetime(2026, 11, 6, 9, 0, tzinfo=UTC)
    assert tracking.tags == [Tag("data-privacy", "Data Privacy"), Tag("courts", "Courts")]
    assert tracking.standfirst is None  # the summary only repeats the first paragraph
    assert tracking.body[1] == Block("subhead", "Reaction")

    assert plain.paragraphs == ["First line of text.", "Second paragraph & more."]
    assert plain.standfirst is None  # feedparser's copy of the content is not a standfirst
    assert plain.url is None  # the urn: id is no link
    assert plain.published_at == datetime(2026, 11, 6, 7, 0, tzinfo=UTC)  # only <updated>


def test_feed_ids_in_the_archive(fixtures: Path, settings: Settings) -> None:
    """guid / id / link become ids: our own article URL gives its id back, others are hashed."""
    seen: list[Article] = []
    report = ingest([str(fixtures / "feeds")], connect(settings.database), settings,
                    on_article=seen.append)
    assert report.ok
    ids = {a.title: a.id for a in seen}
    assert ids["Regulator raids app store offices in fee inquiry"] == "rs-app-store-raid"
    assert ids["Steel safeguard quotas cut by a tenth"] == "rdf-steel-quota"
    # a tag: URI and a URL with a query string are no good as ids: 16 hex digits instead
    assert re.fullmatch(r"[0-9a-f]{16}", ids["Court limits legitimate interest for ad tracking"])
    assert re.fullmatch(r"[0-9a-f]{16}", ids["Short item with only a description"])
    assert ids["Entry with plain-text content"] == "urn:uuid:plain-text-entry"
    plain = next(a for a in seen if a.title == "Entry with plain-text content")
    assert plain.url == settings.article_url_template.format(id=plain.id)


@pytest.mark.parametrize("declared", [b"\x80tf-8", b"\x00tf-8"])
def test_a_broken_encoding_declaration_is_an_error_naming_the_file(declared: bytes) -> None:
    """Found by the fuzz suite: feedparser raised on these instead of calling the feed bad."""
    from digest.ingest import Source, choose

    data = b'<?xml version="1.0" encoding="' + declared + b'"?>\n<rss version="2.0"></rss>'
    source = Source("broken.xml", data)
    (error,) = choose(source).read(source)
    assert isinstance(error, InputError) and error.where == "broken.xml" and error.line == 1
    assert "encoding cannot be worked out" in error.problem


@pytest.mark.parametrize(("data", "line"), [
    (b"<foo>\n<bar>\n</baz>", 3),
    (b'<?xml version="1.0"?>\n<foo>\n<bar>\n</baz>', 4),
    ('<?xml version="1.0" encoding="utf-16"?>\n<foo>\n<bar>\n</baz>'.encode("utf-16"), 4),
    (b"\r", 2),
    (b"<?xml", 1),
])
def test_the_line_of_an_xml_error_is_the_files_own(data: bytes, line: int) -> None:
    """Found by the fuzz suite: feedparser adds an XML declaration line to a document without
    one, so its line numbers were one too many there."""
    from digest.ingest import Source, choose

    source = Source("bad.xml", data)
    (error,) = choose(source).read(source)
    assert isinstance(error, InputError) and error.line == line, error
