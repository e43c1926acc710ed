"""CSV sync beside readers' own choices: origins, the topics column, erased addresses, history."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from digest.archive.schema import subscribers
from digest.cli import app
from digest.subscribers import sync_subscribers
from digest.subscribers.erasure import erase
from digest.subscribers.history import history_of
from digest.subscribers.preferences import Choice, apply_choices, join
from digest.subscribers.signup import confirm_signup, request_signup
from tests.support.readers import write_publisher

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_publisher(tmp_path / "publisher")


def write_csv(folder: Path, slug: str, text: str) -> None:
    (folder / f"{slug}.csv").write_text(text, encoding="utf-8")


def rows(engine: Engine, slug: str = "roundup") -> dict[str, tuple]:
    s = subscribers.c
    query = select(s.email, s.status, s.origin, s.topics, s.topics_by, s.name).where(
        s.newsletter == slug)
    with engine.connect() as conn:
        return {r.email: tuple(r)[1:] for r in conn.execute(query)}


def test_a_sync_touches_only_the_rows_the_csv_put_there(engine, folder, settings):
    pending = request_signup(engine, "roundup", "reader@example.com", "Rea", None)
    confirm_signup(engine, settings, pending.nonce, ["roundup", "competition"], True)
    write_csv(folder, "roundup", "email,name\ncrm@example.com,Crm\nreader@example.com,Renamed\n")
    (report,) = sync_subscribers(engine, folder, "roundup", key=settings)
    assert (report.added, report.readers_own) == (1, 1)
    assert rows(engine)["reader@example.com"] == ("active", "form", None, "reader", "Rea")

    write_csv(folder, "roundup", "email,name\n")  # the CRM drops both
    (report,) = sync_subscribers(engine, folder, "roundup", key=settings)
    assert report.removed == 1
    assert rows(engine) == {"crm@example.com": ("removed", "csv", None, None, "Crm"),
                            "reader@example.com": ("active", "form", None, "reader", "Rea")}


def test_the_topics_column_sets_topics_unless_the_reader_chose_their_own(engine, folder,
                                                                         settings):
    write_csv(folder, "roundup", "email,name,topics\n"
              "a@example.com,A,Trade; ai-policy\n"
              "b@example.com,B,sanctions\n"
              "c@example.com,C,\n"
              "d@example.com,D,trade|Tariffs\n")
    (report,) = sync_subscribers(engine, folder, "roundup", key=settings)
    assert rows(engine)["a@example.com"][2:4] == ("ai-policy+trade", "csv")
    assert rows(engine)["c@example.com"][2:4] == (None, None)
    # An unknown topic is reported with its line; the row is synced, its topics left alone.
    (problem,) = report.problems
    assert problem.line == 5 and "unknown topic 'Tariffs'" in problem.problem
    assert rows(engine)["d@example.com"][:3] == ("active", "csv", None)

    # b chooses on the manage page
    apply_choices(engine, "b@example.com", {"roundup": Choice(True, ("antitrust",))}, "manage")
    write_csv(folder, "roundup", "email,name,topics\na@example.com,A,antitrust\n"
              "b@example.com,B,trade\nc@example.com,C,\nd@example.com,D,trade\n")
    (report,) = sync_subscribers(engine, folder, "roundup", key=settings)
    assert report.problems == []
    assert rows(engine)["a@example.com"][2:4] == ("antitrust", "csv")
    assert rows(engine)["b@example.com"][2:4] == ("antitrust", "reader")  # the reader's choice
    assert rows(engine)["d@example.com"][2:4] == ("trade", "csv")
    kinds = [(c.change, c.source) for c in history_of(engine, "a@example.com")]
    assert kinds == [("subscribed", "csv"), ("topics", "csv")]


def test_a_topics_column_for_a_newsletter_without_topics_is_reported(engine, folder, settings):
    write_csv(folder, "competition", "email,topics\na@example.com,trade\n")
    (report,) = sync_subscribers(engine, folder, "competition", key=settings)
    (problem,) = report.problems
    assert "offers no topics" in problem.problem and report.added == 1


def test_joining_on_the_manage_page_makes_the_row_the_readers(engine, folder, settings):
    write_csv(folder, "competition", "email,name\nx@example.com,X\n")
    sync_subscribers(engine, folder, "competition", key=settings)
    with engine.begin() as conn:
        join(conn, "x@example.com", "roundup", "manage", ["roundup", "competition"])
    assert rows(engine)["x@example.com"] == ("active", "manage", None, None, "X")


def test_an_erased_address_is_not_re_imported_and_not_mailed(engine, folder, settings):
    from digest.send.runner import run_send
    from tests.support.data import make_edition

    write_csv(folder, "roundup", "email,name\nkeep@example.com,K\ngone@example.com,G\n")
    sync_subscribers(engine, folder, "roundup", key=settings)
    erase(engine, settings, "gone@example.com", "cli")
    (report,) = sync_subscribers(engine, folder, "roundup", key=settings)  # the stale CSV
    assert (report.added, report.erased) == (0, 1)
    assert set(rows(engine)) == {"keep@example.com"}

    make_edition(settings.out_dir, "2026-W47", "roundup")
    sent = run_send(settings, "2026-W47", "roundup")
    assert sent.sent == 1
    outbox = settings.out_dir / "2026-W47" / "roundup" / "outbox"
    assert [p.name for p in outbox.glob("*.eml")] == ["keep@example.com.eml"]


def test_show_prints_lists_and_history_and_cli_changes_are_recorded(engine, folder, settings,
                                                                    monkeypatch):
    monkeypatch.setenv("DIGEST_SUBSCRIBERS_DIR", str(folder))
    write_csv(folder, "roundup", "email,name,topics\nann@example.com,Ann,trade\n")
    assert runner.invoke(app, ["subscribers", "sync"]).exit_code == 0
    assert runner.invoke(app, ["subscribers", "unsubscribe", "ann@example.com", "-n",
                               "roundup"]).exit_code == 0
    assert runner.invoke(app, ["subscribers", "resubscribe", "ann@example.com", "-n",
                               "roundup"]).exit_code == 0
    shown = runner.invoke(app, ["subscribers", "show", "ANN@example.com"], env={"COLUMNS": "160"})
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert "roundup" in out and "trade (from the CSV)" in out
    for change, source in (("subscribed", "csv"), ("unsubscribed", "cli"),
                           ("resubscribed", "cli")):
        assert any(change in line and source in line for line in out.splitlines()), out
    missing = runner.invoke(app, ["subscribers", "show", "nobody@example.com"])
    assert missing.exit_code == 1 and "nothing on file" in missing.output


def test_cli_erase_link_and_purge(engine, folder, settings, monkeypatch):
    monkeypatch.setenv("DIGEST_SUBSCRIBERS_DIR", str(folder))
    write_csv(folder, "roundup", "email,name\nann@example.com,Ann\n")
    runner.invoke(app, ["subscribers", "sync"])
    first = runner.invoke(app, ["subscribers", "link", "ann@example.com"])
    assert first.exit_code == 0 and "/manage/" in first.stdout
    again = runner.invoke(app, ["subscribers", "link", "ann@example.com"])
    assert again.stdout == first.stdout  # the same link until revoked
    revoked = runner.invoke(app, ["subscribers", "link", "ann@example.com", "--revoke"])
    assert revoked.exit_code == 0 and revoked.stdout.strip() != first.stdout.strip()

    refused = runner.invoke(app, ["subscribers", "erase", "ann@example.com"])
    assert refused.exit_code == 1 and "--yes" in refused.output
    erased = runner.invoke(app, ["subscribers", "erase", "ann@example.com", "--yes"])
    assert erased.exit_code == 0 and "erased" in erased.output
    shown = runner.invoke(app, ["subscribers", "show", "ann@example.com"])
    assert shown.exit_code == 0 and "only a keyed hash" in shown.output
    synced = runner.invoke(app, ["subscribers", "sync"], env={"COLUMNS": "200"})
    assert "1 erased at their request (not imported)" in synced.output

    request_signup(engine, "roundup", "slow@example.com", "", None)
    purged = runner.invoke(app, ["subscribers", "purge", "--days", "1"])
    assert purged.exit_code == 0 and "0 sign-up(s)" in purged.output
