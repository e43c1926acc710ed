"""The publisher's page-text export, one fixture per quirk of the seed's layout."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from digest.models import Article, Block

ParseOne = Callable[[Path], Article]


def all_text(article: Article) -> str:
    parts = [article.title, article.standfirst or "", article.contact or ""]
    return "\n".join(parts + [b.text for b in article.body])


def test_seed_layout_every_quirk(fixtures: Path, parse_one: ParseOne) -> None:
    article = parse_one(fixtures / "pagetext" / "101_5e1f0c2a9b3d4e6f.txt")

    assert article.id == "5e1f0c2a9b3d4e6f"  # the hex part of NNN_<hex>.txt
    # chrome dropped; headline kept with its curly quotes
    assert article.title == "Brussels opens ‘gatekeeper’ probe into cloud AI bundling"
    assert "Dismiss" not in all_text(article) and "platform" not in all_text(article)
    assert article.authors == ["Marta Kowalczyk"]
    assert article.published_at == datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    assert article.kind == "Insight"
    # the standfirst, printed twice by the export, is kept once
    assert article.standfirst is not None
    assert article.standfirst.startswith("The European Commission has opened a market")
    assert all(article.standfirst != b.text for b in article.body)
    # (see here) markers gone, with the space before them
    assert article.body[0] == Block(
        "paragraph",
        "The probe follows complaints from smaller model developers that discounts tied to "
        "cloud credits lock customers in.",
    )
    assert "in cloud consoles, the official said." in all_text(article)
    assert "see here" not in all_text(article)
    # the subhead whose closing dash follows a non-breaking space
    assert Block("subhead", "What the probe covers") in article.body
    assert [b.kind for b in article.body].count("subhead") == 1
    # the editorial contact leaves the body for its own field
    assert article.contact is not None and article.contact.startswith("Please e-mail editors@")
    assert all("editorial staff" not in b.text for b in article.body)
    assert article.body[-1].text.startswith("The Commission has twelve months")
    assert article.tags == []  # "Tags" with nothing under it


def test_windows_line_endings_byte_order_mark_two_authors_and_tags(
    fixtures: Path, parse_one: ParseOne
) -> None:
    path = fixtures / "pagetext" / "102_c0ffee00deadbeef.txt"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # the fixture is what it claims

    article = parse_one(path)
    assert article.title.startswith("UK watchdog fines lender")  # no BOM glued to it
    assert "\r" not in all_text(article) and "\ufeff" not in all_text(article)
    assert article.authors == ["Jonas Weber", "Priya Natarajan"]
    assert [(t.slug, t.name) for t in article.tags] == [
        ("data-privacy", "Data Privacy"),
        ("financial-regulation", "Financial Regulation"),
        ("uk", "UK"),
    ]
    assert article.kind == "News"
    assert "(see here and here)" not in all_text(article)
    assert "ignored two internal warnings about the server." in all_text(article)
    assert Block("subhead", "Lessons for other lenders") in article.body


def test_three_authors_no_repeated_standfirst_and_a_derived_id(
    fixtures: Path, parse_one: ParseOne, tmp_path: Path
) -> None:
    path = fixtures / "pagetext" / "trade-moratorium.txt"
    article = parse_one(path)
    assert article.authors == ["Ana Ruiz", "Tom Berg", "Li Wei"]
    assert article.kind == "Comment"
    # the first paragraph is not repeated, so it is body, not standfirst
    assert article.standfirst is None
    assert article.body[0].text.startswith("Ministers meeting in Geneva")
    assert [t.slug for t in article.tags] == ["trade"]

    # no NNN_<hex> file name: a stable id from headline and dateline
    assert re.fullmatch(r"[0-9a-f]{16}", article.id)
    copy = tmp_path / "elsewhere.txt"
    copy.write_bytes(path.read_bytes())
    assert parse_one(copy).id == article.id
    retitled = tmp_path / "retitled.txt"
    retitled.write_text(path.read_text().replace("Trade ministers", "Trade envoys"))
    assert parse_one(retitled).id != article.id


def test_windows_1252_export_is_decoded(fixtures: Path, parse_one: ParseOne) -> None:
    path = fixtures / "pagetext" / "windows-1252.txt"
    path.read_bytes().decode("cp1252")  # the fixture really is cp1252 ...
    try:
        path.read_bytes().decode("utf-8")
        raise AssertionError("... and not UTF-8")
    except UnicodeDecodeError:
        pass
    article = parse_one(path)
    assert article.title == "Regulator’s “final offer” on payment fees rejected"
    assert article.standfirst == (
        "Card schemes turned down the regulator’s proposal to cap cross-border fees."
    )
    assert article.body[0] == Block("subhead", "Next steps")


def test_dateline_without_kind_and_no_tags_section(fixtures: Path, parse_one: ParseOne) -> None:
    article = parse_one(fixtures / "pagetext" / "no-kind-no-tags.txt")
    assert article.kind is None
    assert article.tags == []
    assert article.published_at == datetime(2026, 11, 6, 12, 0, tzinfo=UTC)
    assert [b.text for b in article.body] == [
        "The Competition Appeal Tribunal adjourned the hearing at the request of both parties."
    ]


def test_headline_that_starts_like_a_date_is_not_taken_for_the_dateline(
    tmp_path: Path, parse_one: ParseOne
) -> None:
    path = tmp_path / "deadline.txt"
    path.write_text(
        "March 3, 2027 deadline looms for crypto licences\n\nBy Sam Okafor\n\n"
        "November 9, 2026, 07:15 GMT | News\nFirms have four months left.\n"
    )
    article = parse_one(path)
    assert article.title == "March 3, 2027 deadline looms for crypto licences"
    assert article.published_at == datetime(2026, 11, 9, 7, 15, tzinfo=UTC)


def test_banner_without_dismiss_line_is_not_the_headline(
    tmp_path: Path, parse_one: ParseOne
) -> None:
    path = tmp_path / "banner.txt"
    path.write_text(
        "Scheduled maintenance tonight from 22:00.\n\nMinisters sign digital trade pact\n\n"
        "By Li Wei\n\nNovember 9, 2026, 07:15 GMT | News\n"
        "The pact covers data flows.\n\nTags\nTrade\n"
    )
    assert parse_one(path).title == "Ministers sign digital trade pact"
