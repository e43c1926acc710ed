"""The archive side of ingest: the content hash and the outcome rules."""

from __future__ import annotations

import pickle
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from digest.archive.articles import StoredBody, classify, load_articles, save_articles
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


def test_a_loaded_body_is_decoded_on_first_use_and_reads_as_stored(engine: Engine) -> None:
    """A build loads every article of its window but reads few bodies: the archive hands them
    over undecoded (StoredBody), and they behave as the list that was saved."""
    save_articles(engine, [FULL, replace(FULL, id="a2", body=[])])
    loaded = {a.id: a for a in load_articles(engine)}
    body = loaded["a1"].body
    assert isinstance(body, StoredBody) and body._blocks is None  # nothing decoded yet
    assert loaded["a1"] == FULL
    assert body == FULL.body and FULL.body == body and body != FULL.body[:2]
    assert list(body) == FULL.body and len(body) == 3 and body[-1] == Block("paragraph", "Three.")
    assert body[1:] == FULL.body[1:] and loaded["a1"].paragraphs == ["One.", "Three."]
    assert loaded["a2"].body == [] and not loaded["a2"].body
    assert loaded["a2"].tags == FULL.tags
    assert all(x is y for x, y in zip(loaded["a1"].tags, loaded["a2"].tags, strict=True))  # once
    assert loaded["a1"].content_hash() == FULL.content_hash()
    again = pickle.loads(pickle.dumps(loaded["a1"]))  # as a forked build sends picks back
    assert again == FULL and isinstance(again.body, StoredBody)
    assert pickle.loads(pickle.dumps(StoredBody('[{"kind": "subhead", "text": "T"}]'))) == [
        Block("subhead", "T")]
    assert save_articles(engine, [loaded["a1"]]) == ["unchanged"]
    # The same JSON text is decoded once, but each article has lists of its own.
    assert loaded["a2"].authors == FULL.authors
    assert loaded["a1"].tags is not loaded["a2"].tags
    loaded["a1"].authors.append("Someone Else")
    loaded["a1"].tags.pop()
    assert loaded["a2"].authors == FULL.authors and loaded["a2"].tags == FULL.tags
