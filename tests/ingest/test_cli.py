"""`digest ingest` and `digest articles` through Typer's runner: output, JSON, exit codes."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from digest.archive import connect
from digest.archive.articles import load_articles
from digest.cli import app
from digest.ingest import sample_corpus
from digest.settings import Settings

runner = CliRunner()
wide = {"COLUMNS": "250"}  # so that long fixture paths stay on one table line
BAD = Path(__file__).parent / "fixtures" / "bad"


def test_ingest_prints_counts_per_source_and_a_total(fixtures: Path, settings: Settings) -> None:
    sources = [str(fixtures / "pagetext"), str(fixtures / "json")]
    result = runner.invoke(app, ["ingest", *sources], env=wide)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "source" in line)
    assert header.split() == ["source", "format", "new", "updated", "unchanged", "rejected"]
    total = next(line for line in lines if line.strip().startswith("total"))
    assert total.split() == ["total", "10", "0", "0", "0"]  # 5 page-text, 5 JSON
    row = next(line for line in lines if "articles.json" in line)
    assert row.split()[1:] == ["json", "2", "0", "0", "0"]

    again = runner.invoke(app, ["ingest", *sources], env=wide)
    total = next(line for line in again.stdout.splitlines() if line.strip().startswith("total"))
    assert total.split() == ["total", "0", "0", "10", "0"]


def test_rejections_are_listed_and_exit_1_while_the_rest_is_saved(
    fixtures: Path, settings: Settings
) -> None:
    bad = BAD / "invalid.json"
    result = runner.invoke(app, ["ingest", str(bad), str(fixtures / "pagetext")])
    assert result.exit_code == 1
    expected = f"{bad}:4: invalid JSON: Expecting ',' delimiter (column 3) — Fix the JSON"
    assert expected in result.output
    assert "Traceback" not in result.output
    assert len(load_articles(connect(settings.database))) == 5


def test_json_prints_articles_and_nothing_else_on_stdout(
    fixtures: Path, settings: Settings
) -> None:
    bad = BAD / "missing_title.json"
    result = runner.invoke(
        app, ["ingest", "--json", str(fixtures / "markdown" / "ai-act-guidance.md"), str(bad)]
    )
    assert result.exit_code == 1  # one record rejected
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["md-ai-act-guidance", "ok-1", "ok-3"]
    guidance = records[0]
    assert guidance["published_at"] == "2026-11-03T13:15:00Z"
    assert guidance["updated_at"] == "2026-11-04T08:00:00Z"
    assert guidance["tags"][0] == {"slug": "ai-policy", "name": "AI Policy", "inferred": False}
    assert guidance["body"][1] == {"kind": "subhead", "text": "What changes for providers"}
    assert "record 2: missing 'title'" in result.stderr
    assert len(load_articles(connect(settings.database))) == 3  # --json alone still saves


def test_dry_run_writes_nothing(fixtures: Path, settings: Settings) -> None:
    result = runner.invoke(app, ["ingest", "--dry-run", str(fixtures / "json")])
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was written" in result.stdout
    total = next(line for line in result.stdout.splitlines() if line.strip().startswith("total"))
    assert total.split() == ["total", "5", "0", "0", "0"]
    url = make_url(settings.database)
    if url.get_backend_name() == "sqlite":
        assert not Path(url.database or "").exists()  # not even an empty archive
    else:
        assert load_articles(connect(settings.database)) == []


def test_missing_path_and_unreachable_url_are_clean_errors(settings: Settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed.xml"
    result = runner.invoke(app, ["ingest", "no/such/folder", url])
    assert result.exit_code == 1
    assert "no/such/folder: no such file or folder" in result.output
    assert f"{url}: cannot fetch: cannot connect" in result.output
    assert "Traceback" not in result.output


def test_articles_lists_filters_and_prints_json(fixtures: Path, settings: Settings) -> None:
    assert runner.invoke(app, ["ingest", str(fixtures / "pagetext")]).exit_code == 0
    assert runner.invoke(app, ["ingest", str(fixtures / "json" / "articles.json")]).exit_code == 0

    listed = runner.invoke(app, ["articles"])
    assert listed.exit_code == 0, listed.output
    assert "5e1f0c2a9b3d4e6f" in listed.stdout and "js-merger-review" in listed.stdout
    assert "7 article(s)." in listed.stdout

    privacy = runner.invoke(app, ["articles", "--tag", "Data Privacy", "--json"])
    assert [json.loads(line)["id"] for line in privacy.stdout.splitlines()] == ["c0ffee00deadbeef"]

    window = runner.invoke(app, ["articles", "--since", "2026-11-05", "--until", "2026-11-05",
                                 "--json"])
    titles = [json.loads(line)["title"] for line in window.stdout.splitlines()]
    assert titles == [
        "Parliament committee backs AI liability compromise",  # 15:20 UTC
        "Trade ministers agree to extend e-commerce duty moratorium",  # 08:00 UTC
    ]
    week = runner.invoke(app, ["articles", "--since", "2026-W45", "--until", "2026-W45", "--json"])
    assert len(week.stdout.splitlines()) == 7


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--since", "last week"], "--since: cannot read 'last week' as a date"),
        (["--until", "2026-02-30"], "--until: cannot read '2026-02-30' as a date"),
        (["--since", "2026-W54"], "2026 has no week 54"),
        (["--since", "2026-11-09", "--until", "2026-11-02"], "is after --until"),
    ],
)
def test_articles_bad_dates(arguments: list[str], message: str, settings: Settings) -> None:
    result = runner.invoke(app, ["articles", *arguments])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_inferred_tags_are_marked(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "inferred.jsonl"
    path.write_text(json.dumps({
        "id": "tagged-by-keywords", "title": "Model rules", "published_at": "2026-11-03",
        "tags": [{"slug": "ai-policy", "name": "AI Policy", "inferred": True}, "EU"],
    }))
    assert runner.invoke(app, ["ingest", str(path)]).exit_code == 0
    listed = runner.invoke(app, ["articles"])
    assert "AI Policy*, EU" in listed.stdout
    assert "* tag inferred from keywords" in listed.stdout


def test_empty_archive(settings: Settings) -> None:
    result = runner.invoke(app, ["articles"])
    assert result.exit_code == 0
    assert "The archive holds no articles" in result.stdout


@pytest.mark.skipif(not sample_corpus().is_dir(), reason="the sample corpus is not there yet")
def test_no_argument_ingests_the_bundled_sample_without_rejections(settings: Settings) -> None:
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 0, result.output
    assert "bundled sample articles" in result.stdout
    total = next(line for line in result.stdout.splitlines() if line.strip().startswith("total"))
    new, updated, unchanged, rejected = map(int, total.split()[1:])
    assert rejected == 0 and unchanged == 0
    assert new >= 40
    assert updated >= 1  # the sample holds one story updated later under the same id
    stored = load_articles(connect(settings.database))
    assert len(stored) == new
