"""SMTP with several connections at once (DIGEST_SMTP_CONNECTIONS): each reused, each message's
fate its own, and after a crash at most the messages being transmitted in doubt.

Against aiosmtpd (which does not offer PIPELINING) and Postfix's smtp-sink (which does).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.send.ledger import Ledger
from digest.send.runner import run_send
from digest.settings import Settings
from tests.support import wait_until
from tests.support.data import EDITION, SLUG, ledger_rows, ledger_states, make_edition
from tests.support.smtp_server import SmtpServer
from tests.support.smtp_sink import SmtpSink, available

People = Callable[..., list[str]]
SEND = [sys.executable, "-m", "digest", "send", EDITION, "--newsletter", SLUG, "--yes"]
needs_sink = pytest.mark.skipif(not available(), reason="smtp-sink (Debian: postfix) missing")


def received(server: SmtpServer) -> Counter[str]:
    return Counter(r for m in server.messages for r in m.rcpt_tos)


def test_the_connections_send_side_by_side_each_reused(
    configure: Callable[..., Settings], edition: Path, people: People, engine: Engine
) -> None:
    emails = people(60)
    with SmtpServer() as server:
        settings = configure(sender="smtp", smtp_port=server.port, smtp_connections=4)
        report = run_send(settings, EDITION, SLUG)
        assert report.ok and report.sent == 60
        assert server.connections == 4  # opened once each, then reused
        assert sorted(server.per_connection.values()) == [15, 15, 15, 15]
        assert received(server) == Counter(emails)
    assert ledger_states(engine) == {"sent": 60}


def test_a_connection_dropped_mid_send_is_reopened_nobody_lost_or_doubled(
    configure: Callable[..., Settings], edition: Path, people: People, engine: Engine
) -> None:
    emails = people(50)
    # Each connection is cut as its 6th message begins (before DATA: the server cannot have
    # it), while the three others are in the middle of theirs.
    with SmtpServer(drop_after=5) as server:
        settings = configure(sender="smtp", smtp_port=server.port, smtp_connections=4,
                             send_backoff=0.01)
        report = run_send(settings, EDITION, SLUG)
        assert report.ok and report.sent == 50 and report.retries > 0
        assert server.drops > 0 and server.connections > 4
        assert received(server) == Counter(emails)
    assert ledger_states(engine) == {"sent": 50}


def test_a_lost_final_reply_leaves_that_message_alone_in_doubt(
    configure: Callable[..., Settings], edition: Path, people: People, engine: Engine
) -> None:
    emails = people(40)
    with SmtpServer(lose_replies={7, 22}) as server:
        settings = configure(sender="smtp", smtp_port=server.port, smtp_connections=4,
                             send_backoff=0.01)
        report = run_send(settings, EDITION, SLUG)
        lost = {server.messages[6].rcpt_tos[0], server.messages[21].rcpt_tos[0]}
        assert (report.sent, report.in_doubt, report.failed) == (38, 2, 0)
        assert set(Ledger(engine, EDITION, SLUG).in_doubt()) == lost
        assert received(server) == Counter(emails)  # each once: the two were not sent again


@pytest.mark.parametrize("server_took_them", [True, False], ids=["queued", "never-got-them"])
def test_kill_9_mid_send_leaves_only_the_messages_in_transit_in_doubt(
    configure: Callable[..., Settings], edition: Path, people: People, engine: Engine,
    tmp_path: Path, server_took_them: bool,
) -> None:
    emails = people(200)
    with SmtpServer(hold_after=60, hold_takes=server_took_them) as server:
        settings = configure(sender="smtp", smtp_port=server.port, smtp_connections=4)
        process = subprocess.Popen(SEND, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            # All four connections have handed over a message and wait for its reply.
            wait_until(lambda: server.held == 4, timeout=60, what="the held messages")
            assert ledger_states(engine) == {"sent": 60, "in_flight": 4}  # claimed before DATA
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=30) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
            server.release()
        in_transit = {a for a, (state, _) in ledger_rows(engine).items() if state == "in_flight"}

        again = subprocess.run(SEND, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                               env={**os.environ, "COLUMNS": "200"})
        assert again.returncode == 1, again.stdout + again.stderr  # done, but 4 in doubt
        assert "in doubt 4" in again.stdout
        assert set(Ledger(engine, EDITION, SLUG).in_doubt()) == in_transit
        assert ledger_states(engine) == {"sent": 196, "in_doubt": 4}
        expected = Counter(emails) - (Counter() if server_took_them else Counter(in_transit))
        assert received(server) == expected  # nobody twice; the four were left alone
    del settings


@needs_sink
def test_pipelining_to_smtp_sink(
    configure: Callable[..., Settings], edition: Path, people: People, engine: Engine
) -> None:
    people(120)
    with SmtpSink() as sink:
        settings = configure(sender="smtp", smtp_port=sink.port, smtp_connections=4)
        report = run_send(settings, EDITION, SLUG)
        assert report.ok and report.sent == 120
    assert sink.messages == 120
    assert ledger_states(engine) == {"sent": 120}


@needs_sink
def test_refused_recipients_fail_and_are_not_in_doubt_when_pipelined(
    configure: Callable[..., Settings], edition: Path, people: People, engine: Engine
) -> None:
    people(8)
    with SmtpSink("-f", "RCPT") as sink:  # 5xx to every RCPT, MAIL and DATA pipelined with it
        settings = configure(sender="smtp", smtp_port=sink.port, smtp_connections=4)
        report = run_send(settings, EDITION, SLUG)
    assert (report.sent, report.failed, report.in_doubt) == (0, 8, 0)
    assert sink.messages == 0
    assert ledger_states(engine) == {"failed": 8}


@needs_sink
def test_a_server_closing_mid_pipeline_is_retried_never_in_doubt(
    configure: Callable[..., Settings], edition: Path, people: People, engine: Engine
) -> None:
    people(4)
    with SmtpSink("-Q", "RCPT") as sink:  # "421" to RCPT and hang up: DATA's reply never comes
        settings = configure(sender="smtp", smtp_port=sink.port, smtp_connections=4,
                             send_retries=2, send_backoff=0.01)
        report = run_send(settings, EDITION, SLUG)
    assert (report.sent, report.in_doubt, report.failed) == (0, 0, 4)
    assert report.retries == 2 and report.stopped and "gave up" in report.stopped
    assert sink.messages == 0


@needs_sink
def test_a_hang_up_after_the_dot_is_in_doubt_when_pipelined(
    configure: Callable[..., Settings], edition: Path, people: People, engine: Engine
) -> None:
    people(3)
    with SmtpSink("-q", ".") as sink:  # takes each message, then hangs up without a reply
        settings = configure(sender="smtp", smtp_port=sink.port, smtp_connections=4)
        report = run_send(settings, EDITION, SLUG)
    assert (report.sent, report.in_doubt, report.retries) == (0, 3, 0)  # never sent again
    assert ledger_states(engine) == {"in_doubt": 3}


def test_lines_starting_with_a_dot_arrive_as_written(
    settings: Settings, configure: Callable[..., Settings], people: People
) -> None:
    text = ".hidden line\r\n..two dots\r\nDear %%name%%,\r\n.\r\nend\r\n"
    html = "<p>\r\n.dot at the start</p>\r\n" + "x" * 75 + ".\r\n" + "%%name%%" * 20 + "\r\n"
    make_edition(settings.out_dir, EDITION, SLUG, text=text, html=html)
    people(2)
    with SmtpServer() as server:
        # (a bare page without the footer the checks ask for: sent with --force)
        run_send(configure(sender="smtp", smtp_port=server.port), EDITION, SLUG, force=True)
        messages = list(server.messages)
    def lines(body: str) -> list[str]:  # (the line end before a MIME boundary is the boundary's)
        return body.replace("\r\n", "\n").removesuffix("\n").split("\n")

    assert len(messages) == 2
    for message in messages:
        who = message.message["To"].addresses[0].display_name
        plain = message.message.get_body(("plain",)).get_content()
        page = message.message.get_body(("html",)).get_content()
        assert lines(plain) == lines(text.replace("%%name%%", who))
        assert lines(page) == lines(html.replace("%%name%%", who))
