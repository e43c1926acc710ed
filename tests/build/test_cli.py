"""`digest build` on the command line, and how editions are written and rewritten."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from digest.build import build_editions
from digest.cli import app

WEEK = "2026-W10"


def test_build_prints_the_table_and_where_the_files_are(build_settings, archive):
    result = CliRunner().invoke(app, ["build", "--week", WEEK], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Edition 2026-W10 · 2–8 March 2026" in out
    for header in ("newsletter", "articles", "size", "warnings"):
        assert header in out
    assert "tech-brief" in out and "markets" in out and "everything" in out
    edition = Path(build_settings.out_dir) / WEEK
    assert f"Wrote 3 newsletter(s) to {edition}" in out
    index = json.loads((edition / "index.json").read_text())
    assert [n["slug"] for n in index["newsletters"]] == ["tech-brief", "markets", "everything"]
    assert index["edition"]["id"] == WEEK
    for slug in ("tech-brief", "markets", "everything"):
        assert sorted(p.name for p in (edition / slug).iterdir()) == [
            "email.html", "email.mjml", "email.txt", "manifest.json"]


def test_an_empty_newsletter_is_reported_and_not_built(build_settings, archive):
    runner = CliRunner()
    result = runner.invoke(app, ["build", "--week", "2026-W20", "--newsletter", "markets"],
                           env={"COLUMNS": "160"})
    assert result.exit_code == 0
    assert "nothing in the window: not built" in result.output
    assert "Nothing built" in result.output
    assert not (Path(build_settings.out_dir) / "2026-W20").exists()

    result = runner.invoke(app, ["build", "--week", "2026-W20", "-n", "markets", "--quiet-week"],
                           env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    folder = Path(build_settings.out_dir) / "2026-W20" / "markets"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["quiet_week"] is True and manifest["articles"] == []
    assert manifest["warnings"] == ["nothing in the window: quiet-week email"]
    assert "Nothing new was published in Markets &amp; Trade" in (folder / "email.html").read_text()
    assert "Nothing new was published in Markets & Trade" in (folder / "email.txt").read_text()


def test_overrides_from_the_command_line(build_settings, archive, tmp_path):
    edition_file = tmp_path / "edition.toml"
    edition_file.write_text('[summaries]\n"fx-tariffs" = "Duties of up to 35%."\n')
    result = CliRunner().invoke(app, [
        "build", "--week", WEEK, "-n", "markets", "--pin", "fx-cartel", "--drop", "fx-tariffs",
        "--subject", "Markets: {{ count }} stories", "--preheader", "Short & sharp",
        "--edition-file", str(edition_file), "--out", str(tmp_path / "elsewhere")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "elsewhere" / WEEK / "markets" / "manifest.json")
                          .read_text())
    assert manifest["subject"] == "Markets: 2 stories"
    assert manifest["preheader"] == "Short & sharp"
    assert manifest["articles"][0]["id"] == "fx-cartel"
    assert "fx-tariffs" in {x["id"] for x in manifest["left_out"] if x["code"] == "dropped"}
    # The index records the overrides, so the preview can rebuild the edition the same way.
    index = json.loads((tmp_path / "elsewhere" / WEEK / "index.json").read_text())
    assert index["build"] == {"edition_file": str(edition_file.resolve()), "pins": ["fx-cartel"],
                              "drops": ["fx-tariffs"], "subject": "Markets: {{ count }} stories",
                              "preheader": "Short & sharp"}


def test_rebuilding_one_newsletter_keeps_the_others_and_their_extra_files(build_settings,
                                                                          archive):
    first = build_editions(build_settings, week=WEEK, engine=archive)
    edition = first.edition_dir
    markets_before = (edition / "markets" / "email.html").read_bytes()
    outbox = edition / "tech-brief" / "outbox"
    outbox.mkdir()
    (outbox / "sent.eml").write_text("kept")
    (edition / "tech-brief" / "email.html").write_text("stale")

    build_editions(build_settings, week=WEEK, newsletters=["tech-brief"], engine=archive)
    assert (edition / "markets" / "email.html").read_bytes() == markets_before
    assert (edition / "tech-brief" / "email.html").read_text().startswith("<!DOCTYPE html>")
    assert (outbox / "sent.eml").read_text() == "kept"
    index = json.loads((edition / "index.json").read_text())
    assert [n["slug"] for n in index["newsletters"]] == ["tech-brief", "markets", "everything"]
    leftovers = [p.name for p in Path(build_settings.out_dir).iterdir() if p.name != WEEK]
    assert leftovers == []  # no staging or trash folders


def test_a_date_range_edition_is_named_by_its_dates(build_settings, archive):
    result = build_editions(build_settings, since="2026-03-04", until="2026-03-06",
                            newsletters=["tech-brief"], engine=archive)
    assert result.edition_dir.name == "2026-03-04_2026-03-06"
    manifest = json.loads((result.edition_dir / "tech-brief" / "manifest.json").read_text())
    assert manifest["edition"]["label"] == "4–6 March 2026"
    assert {a["id"] for a in manifest["articles"]} == {"fx-ai-guidance", "fx-chatbot-fine",
                                                       "fx-escape"}
    assert manifest["view_url"] == ("http://127.0.0.1:8000/archive/2026-03-04_2026-03-06/"
                                    "tech-brief")
