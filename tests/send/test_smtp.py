"""SMTP against a real aiosmtpd server on 127.0.0.1: what arrives, reused connections, reconnects.

(Several connections at once, and what a crash or a dropped connection then leaves: test_smtp_
parallel.py.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from digest.cli import app
from digest.errors import DigestError
from digest.send.runner import run_send
from digest.send.testsend import send_test
from digest.send.tokens import verify_token
from digest.settings import Settings
from tests.support.data import EDITION, SLUG, ledger_rows
from tests.support.smtp_server import SmtpServer
from tests.support.tls import make_certificates

People = Callable[..., list[str]]


def test_messages_arrive_whole_and_personal(
    smtp_settings: Settings, smtp: SmtpServer, people: People, engine: Engine
) -> None:
    emails = people(5)
    report = run_send(smtp_settings, EDITION, SLUG)
    assert report.ok and report.sent == 5
    # Several connections: the server may see them in any order.
    by_address = {m.rcpt_tos[0]: m for m in smtp.messages}
    assert len(smtp.messages) == 5 and sorted(by_address) == emails
    key = smtp_settings.signing_key()
    rows = ledger_rows(engine)
    for n, address in enumerate(emails):
        received = by_address[address]
        assert received.mail_from == "newsletters@regwire.example"
        msg = received.message
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        assert msg["To"].addresses[0].addr_spec == address
        assert msg["To"].addresses[0].display_name == f"Reader {n}"
        assert msg["Subject"] == "AI policy this week: the code of practice"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = msg["List-Unsubscribe"].strip("<>")
        assert verify_token(key, url.rsplit("/", 1)[1]) == (address, SLUG)
        for part in msg.iter_parts():
            body = part.get_content()
            assert f"Dear Reader {n}," in body and address in body and url in body
            assert "%%" not in body
        assert rows[address] == ("sent", msg["Message-ID"])


def test_one_connection_carries_many_messages(
    configure: Callable[..., Settings], smtp_settings: Settings, smtp: SmtpServer, people: People
) -> None:
    people(60)
    settings = configure(smtp_connections=1)
    assert run_send(settings, EDITION, SLUG).sent == 60
    assert smtp.count == 60 and smtp.connections == 1


def test_a_dropped_connection_is_reopened_and_nobody_lost_or_doubled(
    configure: Callable[..., Settings], edition: Path, people: People
) -> None:
    emails = people(25)
    with SmtpServer(drop_after=7) as server:
        settings = configure(sender="smtp", smtp_port=server.port, send_backoff=0.01,
                             smtp_connections=1)
        report = run_send(settings, EDITION, SLUG)
        assert report.ok and report.sent == 25 and report.retries == 3
        assert server.drops == 3 and server.connections == 4
        assert Counter(r for m in server.messages for r in m.rcpt_tos) == Counter(emails)


def test_starttls_and_login(
    configure: Callable[..., Settings], edition: Path, people: People, tmp_path: Path
) -> None:
    emails = people(3)
    ca_file, context = make_certificates(tmp_path / "tls")
    with SmtpServer(starttls=context, logins={"digest": "s3cret"}) as server:
        settings = configure(
            sender="smtp", smtp_port=server.port, smtp_security="starttls",
            smtp_username="digest", smtp_password="s3cret", smtp_ca_file=ca_file,
        )  # fmt: skip
        assert run_send(settings, EDITION, SLUG).ok
        assert sorted(m.rcpt_tos[0] for m in server.messages) == emails

        wrong = configure(smtp_password="guess", smtp_username="digest")
        people(1, start=3)
        report = run_send(wrong, EDITION, SLUG)
        assert report.stopped and "refused the login of 'digest'" in report.stopped
        assert "guess" not in report.stopped
        untrusted = configure(smtp_password="s3cret", smtp_ca_file="")
        report = run_send(untrusted, EDITION, SLUG)
        assert report.stopped and "TLS" in report.stopped and report.sent == 0


def test_implicit_tls(
    configure: Callable[..., Settings], edition: Path, people: People, tmp_path: Path
) -> None:
    people(2)
    ca_file, context = make_certificates(tmp_path / "tls")
    with SmtpServer(tls=context) as server:
        settings = configure(
            sender="smtp", smtp_port=server.port, smtp_security="tls", smtp_ca_file=ca_file
        )
        assert run_send(settings, EDITION, SLUG).sent == 2 and server.count == 2


def test_unreachable_server_retries_then_stops_without_doubt(
    configure: Callable[..., Settings], edition: Path, people: People
) -> None:
    people(2)
    with SmtpServer() as server:
        port = server.port
    settings = configure(sender="smtp", smtp_port=port, send_retries=2, send_backoff=0.01)
    report = run_send(settings, EDITION, SLUG)
    assert report.stopped and "cannot connect" in report.stopped
    assert report.in_doubt == 0 and report.failed == 2 and report.sent == 0


def test_send_test_over_smtp(smtp_settings: Settings, smtp: SmtpServer, engine: Engine) -> None:
    send_test(smtp_settings, EDITION, SLUG, ["editor@example.com", "boss@example.org"])
    assert sorted(m.rcpt_tos for m in smtp.messages) == [["boss@example.org"],
                                                         ["editor@example.com"]]
    assert smtp.messages[0].message["Subject"].startswith("[TEST] AI policy")
    assert "Dear reader," in smtp.messages[0].message.get_body(("plain",)).get_content()
    assert ledger_rows(engine) == {}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_login_without_tls_is_refused_unless_allowed(
    configure: Callable[..., Settings], edition: Path, people: People
) -> None:
    people(1)
    with SmtpServer(logins={"digest": "s3cret"}) as server:
        settings = configure(sender="smtp", smtp_port=server.port, smtp_security="none",
                             smtp_username="digest", smtp_password="s3cret")
        with pytest.raises(DigestError) as refused:
            run_send(settings, EDITION, SLUG)
        said = str(refused.value)
        assert "DIGEST_SMTP_USERNAME" in said and "DIGEST_SMTP_SECURITY=none" in said
        assert "DIGEST_SMTP_ALLOW_PLAINTEXT_AUTH" in said and "s3cret" not in said
        assert server.connections == 0  # refused before connecting: the password never left
        result = CliRunner().invoke(app, ["send", EDITION, "--newsletter", SLUG, "--yes"])
        assert result.exit_code == 1 and "in clear" in result.output
        assert "Traceback" not in result.output and server.connections == 0

        allowed = configure(smtp_allow_plaintext_auth="true")
        assert run_send(allowed, EDITION, SLUG).sent == 1 and server.count == 1
