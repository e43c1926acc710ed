"""Subscriber lists: CSV sync, bad rows, and suppressions that no CSV can undo."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from digest.archive.schema import suppressions
from digest.cli import app
from digest.errors import DigestError
from digest.settings import Settings
from digest.subscribers import (
    count_subscribers,
    list_subscribers,
    normalise_email,
    resubscribe,
    suppress,
    suppressions_of,
    sync_subscribers,
    unsubscribe,
)

runner = CliRunner()


def write_list(folder: Path, slug: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.csv"
    path.write_text(text, encoding="utf-8")
    return path


def statuses(engine: Engine, slug: str) -> dict[str, str]:
    return {s.email: s.shown_status for s in list_subscribers(engine, slug)}


def test_sync_adds_updates_and_marks_removed(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    write_list(
        folder, "ai-policy", "email,name,company\nann@example.com,Ann,Acme\nbob@example.com,Bob,\n"
    )
    (report,) = sync_subscribers(engine, folder, "ai-policy")
    assert (report.added, report.updated, report.removed, report.problems) == (2, 0, 0, [])
    rows = {s.email: s for s in list_subscribers(engine, "ai-policy")}
    assert rows["ann@example.com"].name == "Ann"

    write_list(folder, "ai-policy", "email,name\nann@example.com,Ann Lee\ncarl@example.com,Carl\n")
    (report,) = sync_subscribers(engine, folder, "ai-policy")
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 0)
    assert statuses(engine, "ai-policy") == {
        "ann@example.com": "active",
        "bob@example.com": "removed",
        "carl@example.com": "active",
    }
    write_list(folder, "ai-policy", "email,name\nann@example.com,Ann Lee\nbob@example.com,Bob\n")
    (report,) = sync_subscribers(engine, folder, "ai-policy")
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, 1)
    assert statuses(engine, "ai-policy")["bob@example.com"] == "active"  # back on the list


def test_addresses_are_normalised_and_duplicates_collapse(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    write_list(
        folder,
        "trade",
        "Email Address,Full Name\n"
        '  Ann.Lee@Example.COM ,"Lee,\n Ann"\n'
        "ann.lee@example.com,Someone Else\n"
        "\n"
        "bob@example.com,Bob\n",
    )
    (report,) = sync_subscribers(engine, folder, "trade")
    assert (report.added, report.duplicates, report.problems) == (2, 1, [])
    names = {s.email: s.name for s in list_subscribers(engine, "trade")}
    assert names == {"ann.lee@example.com": "Lee, Ann", "bob@example.com": "Bob"}
    assert normalise_email(" Jo@EXAMPLE.com ") == "jo@example.com"


def test_bad_rows_are_reported_with_file_and_line_and_skipped(
    engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "lists"
    path = write_list(
        folder,
        "ai-policy",
        "email,name\n"
        "good@example.com,Good\n"
        "not-an-address,Nope\n"
        ",Nobody\n"
        '"multi\nline",x\n'
        "smith@example.com,Smith, Jo\n"
        "also.good@example.com,Also\n",
    )
    (report,) = sync_subscribers(engine, folder, "ai-policy")
    assert report.added == 2
    found = [(p.where, p.line) for p in report.problems]
    assert found == [(str(path), 3), (str(path), 4), (str(path), 5), (str(path), 7)]
    assert "not-an-address" in str(report.problems[0])
    assert "no email address" in str(report.problems[1])
    assert "3 fields but the header has 2" in str(report.problems[3])
    assert set(statuses(engine, "ai-policy")) == {"good@example.com", "also.good@example.com"}


def test_a_file_without_an_email_column_is_refused(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    write_list(folder, "ai-policy", "name,company\nAnn,Acme\n")
    with pytest.raises(DigestError, match=r"ai-policy.csv:1: no email column"):
        sync_subscribers(engine, folder, "ai-policy")
    with pytest.raises(DigestError, match="does not exist"):
        sync_subscribers(engine, folder, "missing")


def test_suppressions_survive_a_sync_of_a_csv_that_still_lists_them(
    engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "lists"
    write_list(folder, "ai-policy", "email,name\nann@example.com,Ann\nbob@example.com,Bob\n")
    sync_subscribers(engine, folder)
    assert suppress(engine, "ANN@example.com", "ai-policy", "unsubscribed", "one-click") is True
    assert suppress(engine, "bob@example.com", "*", "bounced", "webhook") is True
    (report,) = sync_subscribers(engine, folder)  # the stale export still lists both
    assert report.suppressed == 2
    assert statuses(engine, "ai-policy") == {
        "ann@example.com": "suppressed (unsubscribed)",
        "bob@example.com": "suppressed (bounced)",
    }
    (counts,) = count_subscribers(engine, "ai-policy")
    assert (counts.active, counts.suppressed, counts.receiving) == (2, 2, 0)


def test_suppress_is_idempotent(engine: Engine) -> None:
    assert suppress(engine, "jo@example.com", "ai-policy", "unsubscribed", "one-click") is True
    assert suppress(engine, " Jo@Example.com", "ai-policy", "complained", "webhook") is False
    assert suppress(engine, "jo@example.com", "trade", "unsubscribed", "cli") is True
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(suppressions)) == 2
    (first, _) = suppressions_of(engine, "jo@example.com")
    assert (first.reason, first.source) == ("unsubscribed", "one-click")  # the first one kept


def test_resubscribe_lifts_only_the_named_suppression(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    write_list(folder, "ai-policy", "email\nann@example.com\n")
    sync_subscribers(engine, folder)
    unsubscribe(engine, "ann@example.com", "ai-policy")
    suppress(engine, "ann@example.com", "*", "bounced", "webhook")
    result = resubscribe(engine, "ann@example.com", "ai-policy")
    assert result.lifted == "unsubscribed" and result.still == [("*", "bounced")]
    assert statuses(engine, "ai-policy") == {"ann@example.com": "suppressed (bounced)"}
    result = resubscribe(engine, "ann@example.com", "*")
    assert result.lifted == "bounced" and result.still == []
    assert statuses(engine, "ai-policy") == {"ann@example.com": "active"}
    assert resubscribe(engine, "ann@example.com", "ai-policy").lifted is None


def test_cli_sync_reports_bad_rows_and_exits_non_zero(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "lists"
    monkeypatch.setenv("DIGEST_SUBSCRIBERS_DIR", str(folder))
    write_list(folder, "ai-policy", "email,name\nann@example.com,Ann\nbroken@,X\n")
    result = runner.invoke(app, ["subscribers", "sync"])
    assert result.exit_code == 1, result.output
    assert "1 added" in result.output
    assert "ai-policy.csv:3" in result.output and "Traceback" not in result.output

    write_list(folder, "ai-policy", "email,name\nann@example.com,Ann\n")
    assert runner.invoke(app, ["subscribers", "sync", "ai-policy"]).exit_code == 0
    result = runner.invoke(
        app, ["subscribers", "unsubscribe", "Ann@Example.com", "--newsletter", "ai-policy"]
    )
    assert result.exit_code == 0 and "unsubscribed from ai-policy" in result.output
    result = runner.invoke(app, ["subscribers", "count", "ai-policy"])
    assert result.exit_code == 0 and "ai-policy" in result.output
    result = runner.invoke(app, ["subscribers", "list"])
    assert "suppressed (unsubscribed)" in result.output
    result = runner.invoke(
        app, ["subscribers", "resubscribe", "ann@example.com", "-n", "ai-policy"]
    )
    assert result.exit_code == 0 and "lifted" in result.output
    result = runner.invoke(app, ["subscribers", "unsubscribe", "not an address"])
    assert result.exit_code == 1 and "not a valid email address" in result.output


def test_plain_addresses_skip_the_validator_with_the_same_result() -> None:
    """lenient_email's shortcut for plain ASCII addresses gives what the validator gives."""
    from digest.subscribers.addresses import _PLAIN, BadAddress, lenient_email

    def validated(raw: str) -> str:
        try:
            return normalise_email(raw)
        except BadAddress:
            return raw.strip().lower()

    rng = random.Random(13)
    local, domain = string.ascii_letters + string.digits + ".-_+'!#", string.ascii_letters + "-."
    cases = ["A.B@Example.COM", "a..b@x.com", ".a@x.com", "a@x..com", "a@-x.com", "a@x.com.",
             "a@x", "a@1.2.3.4", "a@x.c", "a@XN--BCHER-KVA.example", "a@@x.com", "@x.com",
             "a" * 65 + "@x.com", "a@" + "b" * 64 + ".com", " Padded@Example.org "]
    cases += ["".join(rng.choices(local, k=rng.randint(1, 9))) + "@"
              + "".join(rng.choices(domain, k=rng.randint(1, 12))) for _ in range(3000)]
    plain = [c for c in cases if _PLAIN.fullmatch(c.strip())]
    assert len(plain) > 2000
    assert [lenient_email(c) for c in cases] == [validated(c) for c in cases]
def test_header_unsafe_values_are_rejected_by_line_and_the_rest_imported(
    engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "lists"
    path = write_list(
        folder,
        "ai-policy",
        "email,name\n"
        "good@example.com,Good\n"
        "nul@example.com,Bad\x00Name\n"
        "esc@example.com,\x1b[31mRed\n"
        "bell@example.com,Ring\x07\n"
        "tricky@example.com,Mallory %%unsubscribe_url%%\n"
        "a%%email%%b@example.com,Sneaky\n"
        '"folded@example.com","Lee,\r\n Ann"\n'
        "arabic@example.com,\u200fسارة\n"
        "last@example.com,Last\n",
    )
    (report,) = sync_subscribers(engine, folder, "ai-policy")
    assert [(p.where, p.line) for p in report.problems] == [(str(path), n) for n in (3, 4, 5, 6, 7)]
    said = [p.problem for p in report.problems]
    assert "contains a control character (U+0000)" in said[0]
    assert "U+001B" in said[1] and "U+0007" in said[2]
    assert "contains a personal placeholder" in said[3] and "the email" in said[4]
    names = {s.email: s.name for s in list_subscribers(engine, "ai-policy")}
    assert names == {"good@example.com": "Good", "folded@example.com": "Lee, Ann",
                     "arabic@example.com": "\u200fسارة", "last@example.com": "Last"}
