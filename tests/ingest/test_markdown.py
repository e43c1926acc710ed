"""Markdown with YAML front matter."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from digest.models import Article, Block

ParseOne = Callable[[Path], Article]


def test_front_matter_and_body(fixtures: Path, parse_one: ParseOne) -> None:
    article = parse_one(fixtures / "markdown" / "ai-act-guidance.md")
    assert article.id == "md-ai-act-guidance"
    assert article.title == "Commission publishes AI Act guidance on general-purpose models"
    assert article.published_at == datetime(2026, 11, 3, 13, 15, tzinfo=UTC)  # +01:00 -> UTC
    assert article.updated_at == datetime(2026, 11, 4, 8, 0, tzinfo=UTC)
    assert article.authors == ["Ana Ruiz", "Tom Berg"]
    assert [t.slug for t in article.tags] == ["ai-policy", "eu", "data-privacy"]
    assert article.kind == "News"
    assert article.url == "https://regwire.example/articles/md-ai-act-guidance"
    assert article.standfirst is not None and article.standfirst.startswith("The guidance tells")
    assert article.body == [
        Block(
            "paragraph",
            "The European Commission published its long-awaited guidance on Monday, two weeks "
            "later than promised, after a consultation that drew more than 400 responses.",
        ),
        Block("subhead", "What changes for providers"),
        Block(
            "paragraph",
            "Providers must publish the summary before the model is placed on the market.",
        ),
        Block("paragraph", "The summary may leave out trade secrets, but must say why it does."),
        Block("paragraph", "“This is a floor, not a ceiling,” an official said."),
        Block("subhead", "Timeline"),
        Block("paragraph", "Enforcement starts in August, with Article 53 obligations first."),
    ]
    assert article.contact is not None and "editorial staff" in article.contact


def test_minimal_front_matter_gets_a_stable_id(fixtures: Path, parse_one: ParseOne) -> None:
    first = parse_one(fixtures / "markdown" / "no-id.md")
    again = parse_one(fixtures / "markdown" / "no-id.md")
    assert re.fullmatch(r"[0-9a-f]{16}", first.id)
    assert first.id == again.id
    assert first.authors == ["Li Wei"]  # `author:` as a single name
    assert first.published_at == datetime(2026, 11, 5, tzinfo=UTC)  # a date alone: midnight UTC
    assert first.tags == [] and first.standfirst is None


def test_markdown_without_extension_is_sniffed(
    fixtures: Path, parse_one: ParseOne, tmp_path: Path
) -> None:
    copy = tmp_path / "ARTICLE"
    copy.write_bytes((fixtures / "markdown" / "ai-act-guidance.md").read_bytes())
    assert parse_one(copy).id == "md-ai-act-guidance"
