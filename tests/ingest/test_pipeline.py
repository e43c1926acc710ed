"""The ingest run: re-ingest semantics, dry runs, batches, folder walking, the report.

Storage tests take `settings` (whose archive is SQLite, and PostgreSQL too when
DIGEST_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from digest.archive import connect
from digest.archive.articles import load_articles
from digest.ingest import ingest
from digest.settings import Settings


def corpus(fixtures: Path, into: Path) -> Path:
    """A writable copy of the good fixtures."""
    for sub in ("pagetext", "markdown", "json", "feeds"):
        shutil.copytree(fixtures / sub, into / sub)
    return into


def story(version: int, updated: str | None, body: str, story_id: str = "story-1") -> str:
    record = {"id": story_id, "title": f"Export ban widened (v{version})",
              "published_at": "2026-11-03T08:00:00Z", "body": [body]}
    if updated:
        record["updated_at"] = updated
    return json.dumps(record)


def test_new_then_unchanged_then_updated_never_duplicated(
    fixtures: Path, tmp_path: Path, settings: Settings
) -> None:
    folder = corpus(fixtures, tmp_path / "in")
    engine = connect(settings.database)

    first = ingest([str(folder)], engine, settings).total()
    assert (first.new, first.updated, first.unchanged, first.rejected) == (17, 0, 0, 0)
    stored = {a.id: a for a in load_articles(engine)}
    assert len(stored) == 17

    second = ingest([str(folder)], engine, settings).total()
    assert (second.new, second.updated, second.unchanged) == (0, 0, 17)

    page = folder / "pagetext" / "trade-moratorium.txt"
    page.write_text(page.read_text().replace("two delegations", "three delegations"))
    third = ingest([str(folder)], engine, settings)
    assert (third.total().new, third.total().updated, third.total().unchanged) == (0, 1, 16)
    (changed,) = [row for row in third.sources if row.updated]
    assert changed.source.endswith("trade-moratorium.txt")

    after = {a.id: a for a in load_articles(engine)}
    assert after.keys() == stored.keys()  # same ids, no duplicates
    moratorium = next(a for a in after.values() if a.title.startswith("Trade ministers"))
    assert "three delegations" in moratorium.paragraphs[-1]


def test_an_older_version_never_overwrites_a_newer_one(tmp_path: Path, settings: Settings) -> None:
    engine = connect(settings.database)
    newer = tmp_path / "b-newer.jsonl"
    older = tmp_path / "a-older.jsonl"
    newer.write_text(story(2, "2026-11-04T08:00:00Z", "Corrected text."))
    older.write_text(story(1, None, "First text."))

    report = ingest([str(newer)], engine, settings)
    assert report.total().new == 1
    report = ingest([str(older)], engine, settings)
    total = report.total()
    assert (total.new, total.updated, total.unchanged, total.stale) == (0, 0, 1, 1)
    (kept,) = load_articles(engine)
    assert kept.paragraphs == ["Corrected text."]


def test_a_folder_with_both_versions_always_ends_on_the_newer(
    tmp_path: Path, settings: Settings
) -> None:
    engine = connect(settings.database)
    folder = tmp_path / "both"
    folder.mkdir()
    (folder / "a-older.jsonl").write_text(story(1, None, "First text.", "story-2"))
    (folder / "b-newer.jsonl").write_text(story(2, "2026-11-04T08:00:00Z", "Fixed.", "story-2"))
    (folder / "c-oldest-again.jsonl").write_text(story(1, None, "First text.", "story-2"))

    first = ingest([str(folder)], engine, settings)
    assert [(r.new, r.updated, r.stale) for r in first.sources] == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    again = ingest([str(folder)], engine, settings)
    assert [(r.unchanged, r.stale) for r in again.sources] == [(1, 1), (1, 0), (1, 1)]
    (kept,) = load_articles(engine)
    assert kept.title == "Export ban widened (v2)"


def test_dry_run_writes_nothing_but_reports_what_would_change(
    fixtures: Path, tmp_path: Path, settings: Settings
) -> None:
    folder = corpus(fixtures, tmp_path / "in")
    engine = connect(settings.database)

    dry = ingest([str(folder)], engine, settings, dry_run=True)
    assert dry.dry_run and dry.total().new == 17
    assert load_articles(engine) == []

    ingest([str(folder)], engine, settings)
    page = folder / "pagetext" / "trade-moratorium.txt"
    page.write_text(page.read_text().replace("two delegations", "five delegations"))
    dry = ingest([str(folder)], engine, settings, dry_run=True).total()
    assert (dry.new, dry.updated, dry.unchanged) == (0, 1, 16)
    stored = next(a for a in load_articles(engine) if a.title.startswith("Trade ministers"))
    assert "two delegations" in stored.paragraphs[-1]


def test_dry_run_without_an_archive_and_across_batches(tmp_path: Path, settings: Settings) -> None:
    lines = [story(1, None, "First text."), story(1, None, "First text."),
             story(2, "2026-11-04T08:00:00Z", "Corrected.")]
    path = tmp_path / "versions.jsonl"
    path.write_text("\n".join(lines))
    # batch_size=1: each version is judged against the ones before it, as a real run would
    total = ingest([str(path)], None, settings, dry_run=True, batch_size=1).total()
    assert (total.new, total.unchanged, total.updated) == (1, 1, 1)
    with pytest.raises(ValueError):
        ingest([str(path)], None, settings)


def test_small_batches_save_everything(fixtures: Path, tmp_path: Path, settings: Settings) -> None:
    folder = corpus(fixtures, tmp_path / "in")
    engine = connect(settings.database)
    report = ingest([str(folder)], engine, settings, batch_size=2)
    assert report.total().new == 17
    assert len(load_articles(engine)) == 17


def test_folders_are_walked_sorted_and_skips_are_reported(
    fixtures: Path, tmp_path: Path, settings: Settings
) -> None:
    root = tmp_path / "in"
    (root / "b" / "nested").mkdir(parents=True)
    (root / "a").mkdir()
    (root / ".git").mkdir()
    article = (fixtures / "json" / "single.json").read_bytes()
    (root / "b" / "nested" / "z.json").write_bytes(article)
    (root / "a" / "y.json").write_bytes(article.replace(b"js-single", b"js-other"))
    (root / "x.json").write_bytes(article.replace(b"js-single", b"js-third"))
    (root / ".git" / "config.json").write_text("{}")
    (root / ".hidden.json").write_text("{}")
    (root / "README.md").write_text("# About these files\n")
    (root / "x.json~").write_text("{}")

    report = ingest([str(root)], connect(settings.database), settings)

    assert report.ok
    assert [Path(row.source).relative_to(root).as_posix() for row in report.sources] == [
        "a/y.json", "b/nested/z.json", "x.json"
    ]
    skipped = {Path(s.name).name: s.reason for s in report.skipped}
    assert skipped == {".git": "hidden folder", ".hidden.json": "hidden file",
                       "README.md": "documentation file", "x.json~": "backup or temporary file"}


def test_the_archive_inside_an_ingested_folder_is_left_alone(
    fixtures: Path, tmp_path: Path, settings: Settings
) -> None:
    # the test archive (when SQLite) and data folder live in tmp_path: ingesting tmp_path
    # must not try to read them as articles
    shutil.copy(fixtures / "json" / "single.json", tmp_path / "single.json")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "secret.key").write_text("x")
    report = ingest([str(tmp_path)], connect(settings.database), settings)
    assert report.ok, report.rejections
    assert report.total().new == 1


def test_url_template_fills_missing_urls(fixtures: Path, settings: Settings) -> None:
    custom = settings.model_copy(update={"article_url_template": "https://news.example/a/{id}.html"})
    seen = []
    ingest([str(fixtures / "pagetext" / "trade-moratorium.txt"),
            str(fixtures / "markdown" / "ai-act-guidance.md")],
           None, custom, dry_run=True, on_article=seen.append)
    moratorium, guidance = seen
    assert moratorium.url == f"https://news.example/a/{moratorium.id}.html"
    assert guidance.url == "https://regwire.example/articles/md-ai-act-guidance"  # its own


def test_a_url_template_with_other_braces_fills_only_id(
    fixtures: Path, settings: Settings, tmp_path: Path
) -> None:
    """One rule in ingest and render: `{id}` is replaced, any other brace is left as it is
    (ingest used str.format, which raised KeyError on `{lang}`)."""
    template = "https://news.example/{lang}/a/{id}?ref={{x}}"
    custom = Settings(article_url_template=template, subscribers_dir=settings.subscribers_dir,
                      database_url=settings.database_url, data_dir=settings.data_dir)
    seen = []
    report = ingest([str(fixtures / "pagetext" / "trade-moratorium.txt")], None, custom,
                    dry_run=True, on_article=seen.append)
    assert report.ok
    (moratorium,) = seen
    assert moratorium.url == f"https://news.example/{{lang}}/a/{moratorium.id}?ref={{{{x}}}}"
    assert moratorium.url == custom.article_url(moratorium.id)  # what the build links to


def test_each_stored_version_carries_its_own_near_duplicate_signature(
    tmp_path: Path, settings: Settings
) -> None:
    """Made at ingest so a build need not make them all (digest/signatures.py), and made again
    with every version stored: a stale one would fold the wrong stories."""
    from sqlalchemy import select

    from digest import signatures
    from digest.archive.schema import articles

    engine = connect(settings.database)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(story(1, None, "Ministers widen the export ban on chips to three states."))
    second.write_text(story(2, "2026-11-04T08:00:00Z", "A wholly new opening about tariffs."))

    def stored() -> bytes:
        with engine.connect() as conn:
            return conn.scalar(select(articles.c.lead_signature))

    ingest([str(first)], engine, settings)
    (v1,) = load_articles(engine)
    assert stored() == signatures.stored(v1)
    ingest([str(second)], engine, settings)
    (v2,) = load_articles(engine)
    assert stored() == signatures.stored(v2) != signatures.stored(v1)
    title, lead = signatures.from_store(stored())
    assert (set(title), lead) == (set(signatures.parts(v2)[0]), signatures.parts(v2)[1])
    loaded: dict[str, bytes | None] = {}
    load_articles(engine, since=v2.published_at, until=v2.published_at, signatures=loaded)
    assert loaded == {"story-1": stored()}


def test_an_untagged_articles_inferred_tags_are_stored_with_the_taxonomy_of_the_settings(
    tmp_path: Path, settings: Settings
) -> None:
    """So that a big week's build need not infer them all (Taxonomy.stored_inference); with
    no taxonomy to infer with, nothing is stored and the build infers them."""
    from sqlalchemy import select

    from digest.archive.schema import articles
    from digest.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(Path(settings.subscribers_dir) / "taxonomy.toml")
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([
        story(1, None, "Antitrust regulators opened a cartel inquiry; the cartel denies it."),
        json.dumps({"id": "tagged", "title": "Tagged", "tags": ["Trade"], "body": ["Text."],
                    "published_at": "2026-11-03T09:00:00Z"}),
    ]))
    engine = connect(settings.database)

    def stored() -> dict[str, str | None]:
        with engine.connect() as conn:
            return dict(conn.execute(select(articles.c.id, articles.c.inferred_tags)).all())

    ingest([str(source)], engine, settings)
    (untagged,) = [a for a in load_articles(engine) if a.id == "story-1"]
    assert stored() == {"story-1": taxonomy.stored_inference(untagged), "tagged": None}
    assert taxonomy.from_store(stored()["story-1"]) == ["antitrust"]
    read: dict[str, str | None] = {}
    load_articles(engine, inferred=read)
    assert read == stored()

    elsewhere = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'b.db'}",
                                            "subscribers_dir": tmp_path / "no-taxonomy"})
    other = connect(elsewhere.database)
    ingest([str(source)], other, elsewhere)
    with other.connect() as conn:
        assert set(conn.execute(select(articles.c.inferred_tags)).scalars()) == {None}
