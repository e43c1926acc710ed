"""`digest report` on the command line: text, JSON and CSV, the trend, and honest gaps."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from digest.cli import app
from digest.send.runner import run_send
from tests.events.conftest import STORIES, write_manifest
from tests.support.data import EDITION, SLUG, add_subscribers

runner = CliRunner()
WIDE = {"COLUMNS": "160"}


def report(*args: str):
    return runner.invoke(app, ["report", *args], env=WIDE)


def opened_and_clicked(sent, webhook, opens: int, clicks: int) -> None:
    r, ev = sent.emails, sent.events
    events = [ev("delivered", email) for email in r]
    events += [ev("open", email, at=sent.at(0.5)) for email in r[:opens]]
    events += [ev("click", email, at=sent.at(1.5), url=STORIES[1][2]) for email in r[:clicks]]
    webhook.post(events)


def test_the_report_in_text_json_and_csv(send, webhook):
    sent = send(8)
    opened_and_clicked(sent, webhook, opens=4, clicks=2)
    webhook.post([sent.events("spamreport", sent.emails[7])])

    text = report(EDITION, "-n", SLUG)
    assert text.exit_code == 0, text.output
    out = text.output
    print(out)
    assert "Regwire AI Policy (ai-policy), edition 2026-W47" in out
    assert "Delivered" in out and "100.0%" in out
    assert "Opened by people" in out and "50.0%" in out
    assert "Clicked" in out and "25.0%" in out and "(50.0% of those who opened)" in out
    assert "Complaints 12.500% (1 of 8 delivered): at or over Gmail and Yahoo's 0.3% limit" \
        in " ".join(out.split())
    assert "Gmail reports no complaints" in out
    lines = out.splitlines()
    first = next(n for n, line in enumerate(lines) if "Stories by unique clicks" in line)
    assert STORIES[1][1] in lines[first + 2]  # ranked first: the only story clicked

    as_json = report(EDITION, "-n", SLUG, "--json")
    data = json.loads(as_json.output)
    assert data["funnel"]["clicked"] == {"count": 2, "rate": 0.25, "of_opened": 0.5}
    assert data["complaints"]["level"] == "limit"
    assert data["stories"][0]["id"] == STORIES[1][0]

    rows = list(csv.reader(io.StringIO(report(EDITION, "-n", SLUG, "--csv").output)))
    assert rows[0] == ["section", "key", "label", "count", "rate"]
    assert ["funnel", "opened", "Opened by people", "4", "0.500000"] in rows


def test_the_last_editions_side_by_side(send, webhook):
    first = send(4, "2026-W46")
    opened_and_clicked(first, webhook, opens=1, clicks=0)
    second = send(0, EDITION)
    opened_and_clicked(second, webhook, opens=3, clicks=1)

    text = report("-n", SLUG, "--last", "8")
    assert text.exit_code == 0, text.output
    print(text.output)
    rows = [line.split() for line in text.output.splitlines() if line.startswith("2026-W")]
    assert [row[:5] for row in rows] == [["2026-W46", "4", "100.0%", "25.0%", "0.0%"],
                                         ["2026-W47", "4", "100.0%", "75.0%", "25.0%"]]
    data = json.loads(report("-n", SLUG, "--last", "1", "--json").output)
    assert [(row["edition"], row["open_rate"]) for row in data] == [(EDITION, 0.75)]
    table = list(csv.DictReader(io.StringIO(report("-n", SLUG, "--last", "8", "--csv").output)))
    assert [(row["edition"], row["opened"]) for row in table] == [("2026-W46", "1"),
                                                                  (EDITION, "3")]


def test_a_send_without_events_says_so_rather_than_show_zeros(settings, engine):
    add_subscribers(engine, SLUG, 3)
    write_manifest(settings.out_dir)
    assert run_send(settings, EDITION, SLUG).ok  # the outbox: .eml files, no provider events

    text = report(EDITION, "-n", SLUG)
    assert text.exit_code == 0, text.output
    assert "3 recipients" in text.output
    assert "reports no events (outbox or SMTP)" in " ".join(text.output.split())
    assert "0.0%" not in text.output
    data = json.loads(report(EDITION, "-n", SLUG, "--json").output)
    assert data["events"]["tracked"] is False and "delivered" not in data["funnel"]
    trend = report("-n", SLUG, "--last", "3")
    assert "no events" in trend.output


def test_a_sendgrid_send_with_no_events_yet_points_at_the_webhook(send):
    send(2)
    text = report(EDITION, "-n", SLUG)
    assert text.exit_code == 0
    assert "no events received for this edition yet" in " ".join(text.output.split())


def test_mistakes_get_a_clear_message_and_exit_1(settings):
    for args, expected in [
        ((EDITION, "-n", SLUG), "has not been sent"),
        (("-n", SLUG, "--last", "8"), "no edition of 'ai-policy' has been sent yet"),
        (("not-an-edition", "-n", SLUG), "is not an edition id"),
        (("-n", SLUG), "name an EDITION, or give --last N"),
        ((EDITION, "-n", SLUG, "--last", "2"), "name an EDITION, or give --last N"),
        ((EDITION, "-n", SLUG, "--json", "--csv"), "choose one of --json and --csv"),
    ]:
        result = report(*args)
        assert result.exit_code == 1, (args, result.output)
        assert expected in " ".join(result.output.split()), (args, result.output)
        assert "Traceback" not in result.output
