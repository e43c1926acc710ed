"""Golden files: the fixture week rendered to HTML, text, MJML and manifests, byte for byte.

Regenerate after an intended change with:
    DIGEST_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/build/test_golden.py
and review the diff of tests/build/golden/ before committing it.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
from pathlib import Path

import pytest

from digest.build import build_editions
from tests.support.readers import add_readers

# Read at import: the autouse fixture clears DIGEST_* variables before each test runs.
REGENERATE = os.environ.get("DIGEST_REGENERATE_GOLDEN") == "1"
GOLDEN = Path(__file__).resolve().parent / "golden"
WEEK = "2026-W10"


def _tree(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def _lines(name: str, content: bytes) -> list[str]:
    text = content.decode()
    if name.endswith(".html"):  # inlined HTML has very long lines: diff it tag by tag
        text = text.replace("><", ">\n<")
    return text.splitlines(keepends=True)


def _diff(name: str, expected: bytes, actual: bytes, limit: int = 120) -> str:
    lines = list(difflib.unified_diff(_lines(name, expected), _lines(name, actual),
                                      fromfile=f"golden/{name}", tofile=f"built/{name}"))
    shown = "".join(lines[:limit])
    return shown + (f"\n... {len(lines) - limit} more diff lines" if len(lines) > limit else "")


def test_fixture_week_matches_the_golden_files(build_settings, archive):
    # Markets offers topics: its readers who chose some get variants, golden-checked too.
    add_readers(archive, "markets", {None: 2, "antitrust": 2, "trade": 1, "antitrust+trade": 1})
    result = build_editions(build_settings, week=WEEK, engine=archive)
    built = _tree(result.edition_dir)
    assert set(built) >= {"index.json", "tech-brief/email.html", "markets/manifest.json",
                          "everything/email.txt", "tech-brief/email.mjml"}
    target = GOLDEN / WEEK
    if REGENERATE:
        shutil.rmtree(target, ignore_errors=True)
        for name, content in built.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(content)
        pytest.skip("golden files regenerated; review `git diff tests/build/golden`")
    expected = _tree(target)
    assert sorted(built) == sorted(expected), "files differ from the golden set"
    problems = [_diff(n, expected[n], built[n]) for n in sorted(built) if built[n] != expected[n]]
    if problems:
        pytest.fail("output differs from the golden files (regenerate with "
                    "DIGEST_REGENERATE_GOLDEN=1 if intended):\n" + "\n".join(problems),
                    pytrace=False)


def test_building_twice_gives_identical_bytes(build_settings, archive, tmp_path):
    first = build_editions(build_settings, week=WEEK, engine=archive, out_dir=tmp_path / "a")
    second = build_editions(build_settings, week=WEEK, engine=archive, out_dir=tmp_path / "b")
    one, two = _tree(first.edition_dir), _tree(second.edition_dir)
    assert one and one == two


def test_an_archive_without_stored_signatures_builds_the_same_bytes(build_settings, archive,
                                                                    tmp_path):
    """Signatures are stored at ingest; an archive from before has none (NULL), and one made
    by another version of digest/signatures.py has others: the build makes them again."""
    from sqlalchemy import update

    from digest import signatures
    from digest.archive.articles import load_articles
    from digest.archive.schema import articles

    def _article(engine, article_id):
        return load_articles(engine, ids=[article_id])[0]

    stored = _tree(build_editions(build_settings, week=WEEK, engine=archive,
                                  out_dir=tmp_path / "stored").edition_dir)
    with archive.begin() as conn:
        assert conn.execute(update(articles).values(lead_signature=None)).rowcount > 0
    none = _tree(build_editions(build_settings, week=WEEK, engine=archive,
                                out_dir=tmp_path / "none").edition_dir)
    assert any(b"near-duplicate" in content for content in stored.values())
    assert none == stored

    # And the build compares what is stored: two unrelated stories given one signature fold.
    with archive.begin() as conn:
        conn.execute(update(articles).where(articles.c.id == "fx-cartel")
                     .values(lead_signature=signatures.stored(_article(archive, "fx-tariffs"))))
    forged = build_editions(build_settings, week=WEEK, engine=archive, out_dir=tmp_path / "f")
    manifest = json.loads((forged.edition_dir / "everything" / "manifest.json").read_text())
    folded = {e["id"]: e["reason"] for e in manifest["left_out"] if e["code"] == "folded"}
    assert {"fx-cartel", "fx-tariffs"} & set(folded), folded


def test_inferred_tags_stored_at_ingest_build_the_same_bytes_and_are_the_ones_used(
        build_settings, engine, tmp_path):
    """`digest ingest` stores an untagged article's inferred tags with the taxonomy's
    fingerprint; the build uses them instead of inferring again, unless the taxonomy changed."""
    from sqlalchemy import select, update

    from digest.archive.articles import save_articles
    from digest.archive.schema import articles
    from digest.taxonomy import load_taxonomy

    from .conftest import FIXTURES, fixture_articles

    taxonomy = load_taxonomy(FIXTURES / "taxonomy.toml")
    save_articles(engine, fixture_articles(), taxonomy=taxonomy)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(articles.c.id, articles.c.inferred_tags)).all())
    assert stored["fx-chatbot-fine"] == f"{taxonomy.fingerprint} privacy ai-policy"
    assert stored["fx-cartel"] is None  # it came with tags: nothing to infer
    with_stored = build_editions(build_settings, week=WEEK, engine=engine,
                                 out_dir=tmp_path / "stored").edition_dir
    with engine.begin() as conn:
        conn.execute(update(articles).values(inferred_tags=None))
    inferring = build_editions(build_settings, week=WEEK, engine=engine,
                               out_dir=tmp_path / "none").edition_dir
    assert _tree(with_stored) == _tree(inferring)
    assert b'"inferred": true' in _tree(inferring)["everything/manifest.json"]

    def tags_of(out: str) -> list[dict]:
        edition = build_editions(build_settings, week=WEEK, engine=engine,
                                 out_dir=tmp_path / out).edition_dir
        manifest = json.loads((edition / "everything" / "manifest.json").read_text())
        return next(a["tags"] for a in manifest["articles"] if a["id"] == "fx-chatbot-fine")

    def store(value: str) -> None:
        with engine.begin() as conn:
            conn.execute(update(articles).where(articles.c.id == "fx-chatbot-fine")
                         .values(inferred_tags=value))

    store(f"{taxonomy.fingerprint} trade")  # forged: the build must read what is stored
    assert tags_of("forged") == [{"slug": "trade", "name": "Trade", "inferred": True}]
    store("0123456789abcdef trade")  # made with another taxonomy: inferred again
    assert tags_of("other") == [{"slug": "privacy", "name": "Privacy", "inferred": True},
                                {"slug": "ai-policy", "name": "AI policy", "inferred": True}]


def test_one_process_and_several_build_the_same_bytes(build_settings, archive, tmp_path,
                                                      monkeypatch):
    """The newsletters are shared among forked processes (DIGEST_BUILD_PROCESSES), and a big
    week's near-duplicates are found by one while this one lists the tags: the edition is the
    same, byte for byte, as one process alone builds it (variants included)."""
    import digest.build
    from digest import forking

    add_readers(archive, "markets", {None: 2, "antitrust": 2, "trade": 1, "antitrust+trade": 1})
    pids: set[int] = set()
    indexed_by: set[int] = set()

    def recording(work, count, processes, **options):  # which processes built newsletters
        done = forking.map_forked(lambda i: (work(i), os.getpid()), count, processes, **options)
        pids.update(pid for _, pid in done)
        # Several: the first newsletter was built once already, while the index was made.
        assert options["first_here"] == (processes == 1)
        return [made for made, _ in done]

    def side_by_side(here, there, processes):  # which process found the near-duplicates
        mine, (edges, pid) = forking.side_by_side(here, lambda: (there(), os.getpid()),
                                                  processes)
        indexed_by.add(pid)
        return mine, edges

    monkeypatch.setattr(digest.build, "map_forked", recording)
    monkeypatch.setattr(digest.build, "side_by_side", side_by_side)
    monkeypatch.setattr(digest.build, "SIDE_BY_SIDE", 1)  # the golden week is a small one
    trees = {}
    for processes in (1, 2):
        settings = build_settings.model_copy(update={"build_processes": processes,
                                                     "out_dir": tmp_path / f"p{processes}"})
        pids.clear()
        indexed_by.clear()
        trees[processes] = _tree(build_editions(settings, week=WEEK, engine=archive).edition_dir)
        assert len(pids) == processes, "the newsletters were not shared as asked"
        assert (indexed_by == {os.getpid()}) == (processes == 1)
    assert trees[2] == trees[1]
    assert trees[1] == _tree(GOLDEN / WEEK)


def test_the_build_leaves_the_garbage_collector_as_it_found_it(build_settings, archive,
                                                               tmp_path):
    """The build holds the collector off while it loads the week, then freezes what it loaded
    (digest.build._collector_restored); afterwards, failed or not, all is as it was."""
    import gc

    from digest.errors import DigestError

    assert gc.isenabled() and gc.get_freeze_count() == 0
    build_editions(build_settings, week=WEEK, engine=archive)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with pytest.raises(DigestError):  # fails after loading: a pin the archive does not hold
        build_editions(build_settings, week=WEEK, engine=archive, pins=["no-such-article"])
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        build_editions(build_settings, week=WEEK, engine=archive)
        assert not gc.isenabled()
    finally:
        gc.enable()
