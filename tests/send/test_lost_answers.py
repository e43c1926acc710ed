"""Lost answers are in doubt, never retried; only what provably did not arrive is sent again.

Against real servers on 127.0.0.1: the SendGrid-compatible server (accept-then-drop, time out
after accepting, drop without taking, reset while the request is written, a port that refuses
connections) and aiosmtpd (the reply after DATA lost).
"""

from __future__ import annotations

import csv
import json
import socket
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from digest.cli import app
from digest.send.ledger import Ledger
from digest.send.runner import IN_DOUBT_IN_A_ROW, run_send
from digest.settings import Settings
from tests.support.data import EDITION, HTML, SLUG, ledger_rows, make_edition
from tests.support.sendgrid_server import API_KEY, Action, SendGridServer
from tests.support.smtp_server import SmtpServer

runner = CliRunner()
People = Callable[..., list[str]]
SEND = ["send", EDITION, "--newsletter", SLUG, "--yes"]


def test_lost_answers_are_in_doubt_reported_and_resent_only_on_request(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine,
    configure: Callable[..., Settings], edition: Path,
) -> None:
    configure(send_batch_size=10, sendgrid_timeout=0.5)
    emails = people(60)
    sendgrid.script(
        Action.ok(),
        Action.drop_after_accepting(),  # batch 2: taken, the answer lost
        Action.ok(),
        Action.timeout_after_accepting(1.5),  # batch 4: taken, no answer in time
        Action.disconnect(),  # batch 5: read, not taken, the connection closed
        Action.ok(),
    )
    result = runner.invoke(app, SEND)
    assert result.exit_code == 1
    assert "sent 30" in result.stdout and "in doubt 30" in result.stdout
    assert "and 25 more" in result.output  # the first few on the terminal, not all 30
    assert emails[10] in result.output and emails[49] not in result.output
    assert "retries" not in result.stdout  # nothing was sent again
    # Nobody twice: the taken batches went once, the dropped one not at all.
    assert sendgrid.taken() == Counter(emails[:30] + emails[30:40] + emails[50:])
    assert sendgrid.requests == 6

    listed = edition / "in-doubt.csv"
    assert str(listed) in result.output.replace("\n", "")
    with listed.open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["email"] for r in rows) == sorted(emails[10:20] + emails[30:50])
    by_batch = {r["batch"]: r["why"] for r in rows}
    assert set(by_batch) == {"2", "4", "5"}
    assert "timed out" in by_batch["4"] and "after the request was sent" in by_batch["2"]

    status = runner.invoke(app, ["status", EDITION, "-n", SLUG, "--json"])
    assert status.exit_code == 0, status.output
    [shown] = json.loads(status.stdout)
    assert (shown["state"], shown["sent"], shown["in_doubt"], shown["remaining"]) == (
        "sent", 30, 30, 0)
    assert [b["state"] for b in shown["batches"]] == ["sent", "in_doubt", "sent", "in_doubt",
                                                      "in_doubt", "sent"]
    ids = dict(sendgrid.accepted)
    assert shown["batches"][0]["provider_id"] == ids[emails[0]]
    assert shown["batches"][1]["provider_id"] is None  # the answer carrying it was lost
    assert shown["in_doubt_csv"] == str(listed)
    table = runner.invoke(app, ["status", EDITION])
    assert "in doubt 30" in table.stdout and ids[emails[0]] in table.stdout

    # A rerun leaves them alone; --resend-in-doubt sends them. Here the editor checked the
    # provider's log and learnt only batch 5 never arrived, so resends just those: the test
    # fixes the others' fate in the ledger the way a later tool would.
    again = runner.invoke(app, SEND)
    assert again.exit_code == 1 and "Nothing" not in again.stdout
    assert sum(sendgrid.taken().values()) == 50
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE deliveries SET state = 'sent' WHERE state = 'in_doubt' AND batch IN (2, 4)"
        )
    resent = runner.invoke(app, [*SEND, "--resend-in-doubt"])
    assert resent.exit_code == 0, resent.output
    assert "sent 10" in resent.stdout and "in doubt 0" in resent.stdout
    assert sendgrid.taken() == Counter(emails)
    assert not listed.exists()
    assert Counter(state for state, _ in ledger_rows(engine).values()) == {"sent": 60}


def test_a_connection_reset_while_the_request_is_written_is_retried(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People,
    configure: Callable[..., Settings],
) -> None:
    # An edition big enough that the request cannot sit whole in the sockets' buffers: the
    # reset comes while the client is still writing it.
    padding = "<p>" + "Regulators said the terms may raise switching costs. " * 80_000 + "</p>"
    make_edition(sendgrid_settings.out_dir, html=HTML.replace("</body>", padding + "</body>"))
    settings = configure(send_batch_size=5)
    emails = people(10)
    sendgrid.script(Action.cut_upload(), Action.ok())
    # Forced: an email this size is past Gmail's clip line, which the pre-send checks refuse.
    report = run_send(settings, EDITION, SLUG, force=True)
    assert report.ok and report.retries == 1 and report.in_doubt == 0
    assert sendgrid.statuses[:3] == [-1, 202, 202]  # reset, then each batch taken once
    assert sendgrid.taken() == Counter(emails)


def test_a_refused_connection_is_retried(
    configure: Callable[..., Settings], edition: Path, people: People
) -> None:
    spot = socket.socket()
    spot.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    port = spot.getsockname()[1]
    settings = configure(sender="sendgrid", sendgrid_api_key=API_KEY, send_backoff=0.01,
                         sendgrid_api_host=f"http://127.0.0.1:{port}")
    emails = people(3)
    started: list[SendGridServer] = []

    def server_comes_up(problem: object, delay: float) -> None:
        if not started:
            spot.close()
            started.append(SendGridServer(port=port).start())

    try:
        report = run_send(settings, EDITION, SLUG, on_retry=server_comes_up)
        assert report.ok and report.retries == 1
        assert started[0].taken() == Counter(emails)
    finally:
        spot.close()
        for server in started:
            server.stop()


def test_answers_lost_again_and_again_stop_the_send(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People,
    configure: Callable[..., Settings], engine: Engine,
) -> None:
    settings = configure(send_batch_size=2)
    emails = people(20)
    sendgrid.script(Action.ok(), *[Action.drop_after_accepting()] * IN_DOUBT_IN_A_ROW)
    report = run_send(settings, EDITION, SLUG)
    assert report.stopped and f"lost for {IN_DOUBT_IN_A_ROW} batches in a row" in report.stopped
    assert (report.sent, report.in_doubt) == (2, 2 * IN_DOUBT_IN_A_ROW)
    untried = set(emails) - set(ledger_rows(engine))
    assert len(untried) == 20 - 2 - 2 * IN_DOUBT_IN_A_ROW  # left for the next run
    assert run_send(settings, EDITION, SLUG).sent == len(untried)
    assert sendgrid.taken() == Counter(emails)


def test_an_smtp_reply_lost_after_data_is_in_doubt_not_resent(
    configure: Callable[..., Settings], edition: Path, people: People, engine: Engine
) -> None:
    """...and once the relay's log shows it took that one message, the editor settles that
    recipient alone (`digest settle --recipient`), and nobody is sent twice."""
    emails = people(5)
    with SmtpServer(lose_replies={3}) as smtp:
        settings = configure(sender="smtp", smtp_host="127.0.0.1", smtp_port=smtp.port,
                             send_backoff=0.01)
        report = run_send(settings, EDITION, SLUG)
        assert (report.sent, report.in_doubt, report.retries) == (4, 1, 0)
        lost = smtp.messages[2].rcpt_tos[0]  # the third to arrive (connections run side by side)
        assert Ledger(engine, EDITION, SLUG).in_doubt() == [lost]
        assert "reply to the message was lost" in Ledger(engine, EDITION, SLUG).doubtful()[0].reason
        assert sorted(m.rcpt_tos[0] for m in smtp.messages) == emails  # each once: no resend

        settled = runner.invoke(app, ["settle", EDITION, "-n", SLUG, "--recipient", lost,
                                      "--delivered"])
        assert settled.exit_code == 0, settled.output
        assert "1 recipient(s)" in settled.stdout and "marked sent" in settled.stdout
        assert ledger_rows(engine)[lost][0] == "sent"
        assert not (edition / "in-doubt.csv").exists()
        assert run_send(settings, EDITION, SLUG).sent == 0
        assert sorted(m.rcpt_tos[0] for m in smtp.messages) == emails  # still once each
