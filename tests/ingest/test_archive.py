"""The archive side of ingest: the fast fingerprint and the outcome rules."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.archive.articles import classify, fingerprint
from digest.ingest import ingest
from digest.models import Article, Block, Tag
from digest.settings import Settings

FULL = Article(
    id="a1",
    title="Ministers’ “final” text",
    published_at=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
    url="https://regwire.example/articles/a1",
    authors=["Ana Ruiz", "Li Wei"],
    updated_at=datetime(2026, 11, 4, 10, 0, tzinfo=UTC),
    kind="News",
    tags=[Tag.from_name("AI Policy"), Tag.from_name("EU", inferred=True)],
    standfirst="A standfirst.",
    body=[Block("paragraph", "One."), Block("subhead", "Two"), Block("paragraph", "Three.")],
    contact="Please e-mail editors@regwire.example.",
    source="x.txt",
)


def test_fingerprint_is_content_hash() -> None:
    minimal = Article(id="m", title="M", published_at=datetime(2026, 1, 1, tzinfo=UTC))
    for article in (FULL, minimal):
        assert fingerprint(article) == article.content_hash()


def test_fingerprint_sees_every_field_but_source() -> None:
    """If the model grows a field, fingerprint() must learn it too: this test fails until then."""
    changed = {
        "id": "a2", "title": "Other", "published_at": FULL.published_at + timedelta(hours=1),
        "url": None, "authors": [], "updated_at": None, "kind": "Comment", "tags": [],
        "standfirst": None, "body": [], "contact": None,
    }
    assert {f.name for f in fields(Article)} == set(changed) | {"source"}
    for name, value in changed.items():
        other = replace(FULL, **{name: value})
        assert fingerprint(other) != fingerprint(FULL), name
        assert fingerprint(other) == other.content_hash(), name
    assert fingerprint(replace(FULL, source="moved.txt")) == fingerprint(FULL)


def test_fingerprint_matches_on_every_fixture(fixtures: Path, settings: Settings) -> None:
    seen: list[Article] = []
    ingest([str(fixtures)], None, settings, dry_run=True, on_article=seen.append)
    assert len(seen) > 15
    assert all(fingerprint(a) == a.content_hash() for a in seen)


def test_classify_rules() -> None:
    digest = fingerprint(FULL)
    assert classify(FULL, digest, None) == "new"
    assert classify(FULL, digest, (digest, FULL.revised_at)) == "unchanged"
    assert classify(FULL, digest, ("other", FULL.revised_at)) == "updated"
    later = FULL.revised_at + timedelta(minutes=1)
    assert classify(FULL, digest, ("other", later)) == "stale"
