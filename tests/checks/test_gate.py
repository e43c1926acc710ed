"""`digest send` and the pre-send checks: an edition with an error is refused, goes out with
--force, and the forced send is recorded (who, when, which errors) and shown by `digest status`.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from digest.archive.schema import forced_sends
from digest.checks.gate import ChecksFailed
from digest.cli import app
from digest.editions.states import state_of
from digest.send.runner import run_send
from digest.settings import Settings
from tests.support.data import add_subscribers, ledger_rows

from .conftest import CHROMIUM, SPAMASSASSIN
from .test_rules import ARTICLE, BASE, CLEAN_HTML, EDITION, SLUG, write_edition

runner = CliRunner()
BROKEN = CLEAN_HTML.replace(f'<h3><a href="{ARTICLE}">', '<h3><a href="http://regwire.example/x">')


@pytest.fixture
def newsroom(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Three subscribers, the public base URL the hand-made edition links to, an editor."""
    monkeypatch.setenv("DIGEST_BASE_URL", BASE)
    monkeypatch.setenv("DIGEST_EDITOR", "Ed Itor")
    add_subscribers(engine, SLUG, 3)
    return Settings()


def send(*extra: str) -> str:
    done = runner.invoke(app, ["send", EDITION, "-n", SLUG, "--yes", *extra])
    return f"{done.exit_code}\n" + " ".join(done.output.split())


def forced_rows(engine: Engine) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(forced_sends)))


def test_an_edition_with_an_error_is_refused_and_nothing_is_sent(newsroom: Settings,
                                                                 engine: Engine) -> None:
    write_edition(newsroom.out_dir, html=BROKEN)
    said = send()
    assert said.startswith("1\n")
    assert "not sending 2026-W47/ai-policy: the pre-send checks found 1 error(s)" in said
    assert "links.https" in said and "http://regwire.example/x" in said
    assert "or send with --force (recorded)" in said
    assert ledger_rows(engine) == {} and forced_rows(engine) == []
    assert state_of(engine, EDITION, SLUG) is None or not state_of(engine, EDITION, SLUG).frozen
    assert not (newsroom.out_dir / EDITION / SLUG / "outbox").exists()
    with pytest.raises(ChecksFailed):  # the library refuses too, not only the command
        run_send(newsroom, EDITION, SLUG)
    assert ledger_rows(engine) == {}
    dry = send("--dry-run")
    assert dry.startswith("0\n") and "a real send is refused unless --force" in dry


def test_force_sends_it_and_the_ledger_says_who_and_when(newsroom: Settings,
                                                        engine: Engine) -> None:
    write_edition(newsroom.out_dir, html=BROKEN)
    said = send("--force")
    assert said.startswith("0\n"), said
    assert "forced by Ed Itor" in said and "sent 3" in said
    assert {state for state, _ in ledger_rows(engine).values()} == {"sent"}
    [row] = forced_rows(engine)
    assert (row.edition, row.newsletter, row.forced_by) == (EDITION, SLUG, "Ed Itor")
    assert [e["check"] for e in row.errors] == ["links.https"]
    assert row.forced_at is not None and row.run_id > 0
    status = runner.invoke(app, ["status", EDITION])
    words = " ".join(status.output.split())
    assert "forced by Ed Itor at" in words and "despite 1 error(s): links.https" in words
    data = json.loads(runner.invoke(app, ["status", EDITION, "--json"]).output)
    assert data[0]["runs"][0]["forced"].startswith("forced by Ed Itor")


def test_a_clean_edition_is_sent_without_force_and_not_recorded_as_forced(
        newsroom: Settings, engine: Engine) -> None:
    write_edition(newsroom.out_dir)
    said = send()
    assert said.startswith("0\n") and "0 error(s)" in said and "sent 3" in said
    assert forced_rows(engine) == []


def test_the_send_first_runs_the_checks_missing_for_this_content(
        newsroom: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch, tools: None) -> None:
    monkeypatch.setenv("DIGEST_CHROMIUM_PATH", str(CHROMIUM))
    monkeypatch.setenv("DIGEST_SPAMASSASSIN_PATH", str(SPAMASSASSIN))
    write_edition(newsroom.out_dir)
    manifest = newsroom.out_dir / EDITION / SLUG / "manifest.json"
    assert "checks" not in json.loads(manifest.read_text())
    said = send()
    assert said.startswith("0\n") and "sent 3" in said, said
    checks = json.loads(manifest.read_text())["checks"]
    assert checks["ran"] == ["static", "browser", "spam"] and checks["counts"]["error"] == 0
    assert checks["spam_score"] < 2.5


def test_a_frozen_send_resumes_without_being_checked_again(newsroom: Settings,
                                                          engine: Engine) -> None:
    write_edition(newsroom.out_dir, html=BROKEN)
    assert send("--force").startswith("0\n")
    add_subscribers(engine, SLUG, 2, start=3)  # new readers of the edition already sent
    path = newsroom.out_dir / EDITION / SLUG / "email.html"
    path.write_text(path.read_text().replace("Unsubscribe", "Leave"))  # the folder changes
    said = send()  # what goes is the frozen copy, checked (and forced) at the first send
    assert said.startswith("0\n") and "sent 2" in said, said
    assert len(forced_rows(engine)) == 1
