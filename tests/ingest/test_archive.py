"""The archive side of ingest: the content hash and the outcome rules."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

from digest.archive.articles import classify
from digest.models import Article, Block, Tag

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


def test_content_hash_sees_every_field_but_source() -> None:
    """to_dict() is spelled out for speed: if the model grows a field, it must learn it too."""
    changed = {
        "id": "a2", "title": "Other", "published_at": FULL.published_at + timedelta(hours=1),
        "url": None, "authors": [], "updated_at": None, "kind": "Comment", "tags": [],
        "standfirst": None, "body": [], "contact": None,
    }
    assert {f.name for f in fields(Article)} == set(changed) | {"source"}
    assert set(FULL.to_dict()) == {f.name for f in fields(Article)}
    for name, value in changed.items():
        other = replace(FULL, **{name: value})
        assert other.content_hash() != FULL.content_hash(), name
    assert replace(FULL, source="moved.txt").content_hash() == FULL.content_hash()


def test_to_dict_round_trips() -> None:
    assert Article.from_dict(FULL.to_dict()) == FULL


def test_classify_rules() -> None:
    digest = FULL.content_hash()
    assert classify(FULL, digest, None) == "new"
    assert classify(FULL, digest, (digest, FULL.revised_at)) == "unchanged"
    assert classify(FULL, digest, ("other", FULL.revised_at)) == "updated"
    later = FULL.revised_at + timedelta(minutes=1)
    assert classify(FULL, digest, ("other", later)) == "stale"
