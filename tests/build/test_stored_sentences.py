"""Bodies' sentences and scores kept in the archive: a later build reads them instead of
splitting and ranking again, gets the same bytes, and never meets an out-of-date entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

import digest.build
import digest.summarise.extractive as extractive
import digest.summarise.stored as stored
from digest.archive.articles import save_articles
from digest.archive.schema import stored_sentences
from digest.build import build_editions
from digest.models import Block
from digest.summarise.text import clear_caches
from tests.build.conftest import WEEK, fixture_articles


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def _as_a_new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget what this process worked out, and fail if a build works a body out again."""
    extractive.scored_sentences.cache_clear()
    clear_caches()

    def refuse(paragraphs: tuple[str, ...]) -> tuple:
        raise AssertionError(f"worked out again: {paragraphs[0][:60]!r}")

    monkeypatch.setattr(extractive, "scored_sentences", refuse)


def _stored(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(stored_sentences)).scalar_one()


def test_a_later_build_reads_the_sentences_back_and_writes_the_same_bytes(
        build_settings, archive, tmp_path, monkeypatch):
    first = build_editions(build_settings, week=WEEK, engine=archive, out_dir=tmp_path / "a")
    assert _stored(archive) > 0
    _as_a_new_process(monkeypatch)
    second = build_editions(build_settings, week=WEEK, engine=archive, out_dir=tmp_path / "b")
    assert _tree(second.edition_dir) == _tree(first.edition_dir)


def test_what_forked_processes_work_out_is_stored_too(build_settings, archive, tmp_path,
                                                     monkeypatch):
    monkeypatch.setattr(digest.build, "SIDE_BY_SIDE", 1)  # the warm-up newsletter too
    forked = build_settings.model_copy(update={"build_processes": 2})
    first = build_editions(forked, week=WEEK, engine=archive, out_dir=tmp_path / "a")
    _as_a_new_process(monkeypatch)
    alone = build_settings.model_copy(update={"build_processes": 1})
    second = build_editions(alone, week=WEEK, engine=archive, out_dir=tmp_path / "b")
    assert _tree(second.edition_dir) == _tree(first.edition_dir)


def test_an_edited_body_is_split_afresh(build_settings, archive, tmp_path, monkeypatch):
    first = build_editions(build_settings, week=WEEK, engine=archive, out_dir=tmp_path / "a")
    picked = first.built[0]
    text = (first.edition_dir / picked.slug / "email.txt").read_text()
    article = next(a for a in fixture_articles() if a.title in text and not a.standfirst)
    new_text = "The regulator reversed its decision on Friday after a public hearing."
    edited = replace(article, body=[Block(kind="paragraph", text=new_text)],
                     updated_at=datetime(2026, 3, 6, 12, tzinfo=UTC))
    assert save_articles(archive, [edited]) == ["updated"]
    before = _stored(archive)
    second = build_editions(build_settings, week=WEEK, engine=archive, out_dir=tmp_path / "b")
    assert new_text in (second.edition_dir / picked.slug / "email.txt").read_text()
    assert _stored(archive) == before + 1


def test_the_key_follows_the_body_and_the_summarisers_code(monkeypatch):
    body = ("One sentence here. Another one there.",)
    key = stored.body_key(body)
    assert stored.body_key(body) == key
    assert stored.body_key(("One sentence here. Another one there!",)) != key
    monkeypatch.setattr(stored, "code_version", lambda: "another summariser")
    assert stored.body_key(body) != key


def test_an_entry_reads_back_exactly_and_old_ones_are_dropped(engine):
    body = ("The court ruled on Tuesday. The bank will appeal. Fines were cut by half.",)
    worked_out = extractive.scored_sentences(body)
    store = stored.SentenceStore(engine)
    assert store.scored(body, extractive.scored_sentences) == worked_out
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    store.save(now=long_ago)
    fresh = stored.SentenceStore(engine)
    assert fresh.scored(body, lambda _: pytest.fail("not read back")) == worked_out
    assert fresh.new == {}

    other = stored.SentenceStore(engine)
    other.scored(("A different body. With two sentences.",), extractive.scored_sentences)
    other.save()  # today: the 2020 entry is past RETENTION
    assert _stored(engine) == 1
