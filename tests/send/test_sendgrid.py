"""SendGrid through the official client against a SendGrid-compatible server on 127.0.0.1."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from digest.cli import app
from digest.send.ledger import Ledger
from digest.send.runner import run_send
from digest.send.testsend import send_test
from digest.send.tokens import verify_token
from digest.settings import Settings
from digest.subscribers import suppress
from tests.support.data import EDITION, SLUG, ledger_rows
from tests.support.sendgrid_server import Action, SendGridServer

runner = CliRunner()
People = Callable[..., list[str]]


def test_batches_of_at_most_1000_with_per_recipient_values(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine
) -> None:
    emails = people(2500)
    report = run_send(sendgrid_settings, EDITION, SLUG)
    assert report.ok and report.sent == 2500
    assert [len(p["personalizations"]) for p in sendgrid.payloads] == [1000, 1000, 500]
    assert Counter(email for email, _ in sendgrid.accepted) == Counter(emails)  # each once

    payload = sendgrid.payloads[0]
    assert payload["from"] == {"email": "newsletters@regwire.example", "name": "Regwire AI Policy"}
    assert payload["subject"] == "AI policy this week: the code of practice"
    assert [c["type"] for c in payload["content"]] == ["text/plain", "text/html"]
    assert payload["categories"] == [SLUG, EDITION]
    assert payload["custom_args"] == {"newsletter": SLUG, "edition": EDITION}
    assert payload["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "asm" not in payload and "mail_settings" not in payload
    key = sendgrid_settings.signing_key()
    for person in payload["personalizations"][:50]:
        (to,) = person["to"]
        url = person["headers"]["List-Unsubscribe"].strip("<>")
        assert verify_token(key, url.rsplit("/", 1)[1]) == (to["email"], SLUG)
        subs = person["substitutions"]
        assert subs["%%email%%"] == to["email"] and subs["%%unsubscribe_url%%"] == url
        assert subs["%%name%%"] == to["name"] and to["name"].startswith("Reader ")
    html = payload["content"][1]["value"]
    # No name or address in this batch changes when escaped: the HTML shares their placeholders.
    assert "%%name%%" in html and "%%name_html%%" not in html
    assert "%%name_html%%" not in person["substitutions"]

    ids_by_email = dict(sendgrid.accepted)
    rows = ledger_rows(engine)
    assert len(rows) == 2500
    assert all(rows[e] == ("sent", ids_by_email[e]) for e in emails)  # X-Message-Id kept


def test_a_rerun_sends_only_to_those_not_yet_sent(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine
) -> None:
    first = people(30)
    assert run_send(sendgrid_settings, EDITION, SLUG).sent == 30
    later = people(12, start=30)
    suppress(engine, first[0], SLUG, "unsubscribed", "one-click")
    suppress(engine, later[0], "*", "bounced", "webhook")
    report = run_send(sendgrid_settings, EDITION, SLUG)
    assert report.sent == 11 and report.plan.suppressed == 2
    assert Counter(e for e, _ in sendgrid.accepted) == Counter(first + later[1:])
    assert run_send(sendgrid_settings, EDITION, SLUG).sent == 0


def test_server_errors_are_retried(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, configure
) -> None:
    settings = configure(send_batch_size=10)
    emails = people(30)
    sendgrid.script(Action.error(500), Action.ok(), Action.error(503), Action.error(502))
    report = run_send(settings, EDITION, SLUG)
    assert report.ok and report.sent == 30 and report.retries == 3
    assert Counter(e for e, _ in sendgrid.accepted) == Counter(emails)  # nobody lost or doubled


def test_429_waits_until_the_rate_limit_resets(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People
) -> None:
    people(5)
    sendgrid.script(Action.rate_limited(reset_in=1.0))
    reset = int(sendgrid._script[0].headers["X-RateLimit-Reset"])
    report = run_send(sendgrid_settings, EDITION, SLUG)
    assert report.ok and report.retries == 1
    assert time.time() >= reset - 0.05  # it waited for the reset, not a 10 ms backoff
    assert sendgrid.statuses == [429, 202]


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_stop_the_whole_send_at_once(
    sendgrid_settings: Settings,
    sendgrid: SendGridServer,
    people: People,
    engine: Engine,
    configure,
    status: int,
) -> None:
    configure(send_batch_size=10)
    people(50)
    sendgrid.script(Action.ok(), Action.error(status))
    result = runner.invoke(app, ["send", EDITION, "--newsletter", SLUG, "--yes"])
    assert result.exit_code == 1
    assert f"SendGrid refused the API key ({status})" in result.output
    assert "DIGEST_SENDGRID_API_KEY" in result.output and "Traceback" not in result.output
    assert sendgrid.requests == 2  # no further batch was tried
    states = Counter(state for state, _ in ledger_rows(engine).values())
    assert states == {"sent": 10, "failed": 10}  # the other 30 untouched, not yet tried
    report = run_send(sendgrid_settings, EDITION, SLUG)  # the key fixed: the rest goes
    assert report.ok and report.sent == 40


def test_a_wrong_key_is_a_401_from_the_server(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, configure
) -> None:
    people(3)
    settings = configure(sendgrid_api_key="SG.wrong")
    report = run_send(settings, EDITION, SLUG)
    assert report.stopped and "401" in report.stopped and report.failed == 3
    assert "SG.wrong" not in report.stopped  # the secret is never repeated


def test_other_4xx_fails_that_batch_and_goes_on(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine, configure
) -> None:
    settings = configure(send_batch_size=10)
    emails = people(30)
    sendgrid.script(Action.ok(), Action.error(400, "The to.email field is invalid"))
    report = run_send(settings, EDITION, SLUG)
    assert (report.sent, report.failed, report.stopped) == (20, 10, None)
    assert not report.ok
    assert report.failures and "The to.email field is invalid" in report.failures[0][1]
    failed = {e for e, (state, _) in ledger_rows(engine).items() if state == "failed"}
    assert failed == set(emails[10:20])
    again = run_send(settings, EDITION, SLUG)  # a rerun tries the failed batch again
    assert again.ok and again.sent == 10 and again.plan.failed_before == 10
    assert Counter(e for e, _ in sendgrid.accepted) == Counter(emails)


def test_retries_are_bounded_then_the_send_stops(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine, configure
) -> None:
    settings = configure(send_retries=2, send_batch_size=5)
    people(10)
    sendgrid.script(*[Action.error(500)] * 3)
    report = run_send(settings, EDITION, SLUG)
    assert report.stopped and "gave up after 3 attempts" in report.stopped
    assert (report.sent, report.failed, report.in_doubt) == (0, 5, 0)
    assert sendgrid.requests == 3


def test_a_read_timeout_after_the_request_went_out_is_in_doubt_not_retried(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, configure, engine
) -> None:
    settings = configure(send_retries=3, sendgrid_timeout=0.3, send_batch_size=4)
    emails = people(12)
    sendgrid.script(Action.ok(), Action.timeout_after_accepting(0.8))
    report = run_send(settings, EDITION, SLUG)
    assert report.stopped is None and report.retries == 0
    assert (report.sent, report.in_doubt, report.failed) == (8, 4, 0)
    assert Ledger(engine, EDITION, SLUG).in_doubt() == sorted(emails[4:8])
    assert Counter(e for e, _ in sendgrid.accepted) == Counter(emails)  # each once
    assert sendgrid.requests == 3  # the timed-out batch was not sent again


def test_asm_group_and_sandbox_come_from_the_settings(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, configure
) -> None:
    settings = configure(sendgrid_asm_group_id=4242, sendgrid_sandbox=True)
    people(2)
    assert run_send(settings, EDITION, SLUG).ok
    payload = sendgrid.payloads[0]
    assert payload["asm"] == {"group_id": 4242}
    assert payload["mail_settings"] == {"sandbox_mode": {"enable": True}}


def test_send_test_goes_to_any_address_without_the_ledger(
    sendgrid_settings: Settings, sendgrid: SendGridServer, engine: Engine
) -> None:
    sent = send_test(sendgrid_settings, EDITION, SLUG, ["Editor@Example.com", "boss@example.org"])
    assert [address for address, _ in sent] == ["editor@example.com", "boss@example.org"]
    payload = sendgrid.payloads[0]
    assert payload["subject"].startswith("[TEST] ")
    assert ledger_rows(engine) == {}
    result = runner.invoke(
        app, ["send", EDITION, "-n", SLUG, "--test", "a@example.com,b@example.com"]
    )
    assert result.exit_code == 0 and "test sent to b@example.com" in result.output
    result = runner.invoke(app, ["send", EDITION, "-n", SLUG, "--test", "nope"])
    assert result.exit_code == 1 and "not a valid email address" in result.output


def test_the_server_refuses_what_sendgrid_would(sendgrid: SendGridServer) -> None:
    from tests.support.sendgrid_server import validate

    good = {
        "from": {"email": "a@example.com"},
        "subject": "s",
        "content": [{"type": "text/plain", "value": "x"}],
        "personalizations": [{"to": [{"email": "b@example.com"}]}],
    }
    assert validate(good) == []
    assert validate({**good, "personalizations": good["personalizations"] * 1001})
    assert validate({**good, "content": []})
    assert validate({k: v for k, v in good.items() if k != "from"})
    assert validate({**good, "headers": {"X-A": "a\r\nBcc: x@example.com"}})


@pytest.mark.parametrize("flag", [[], ["--dry-run"]])
def test_cli_confirms_or_refuses_without_a_terminal(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, flag: list[str]
) -> None:
    people(3)
    result = runner.invoke(app, ["send", EDITION, "--newsletter", SLUG, *flag])
    assert "AI policy this week" in result.output and "sendgrid" in result.output
    assert "recipients  3" in result.output
    if flag:
        assert result.exit_code == 0 and "nothing was sent" in result.output
    else:
        assert result.exit_code == 1 and "--yes" in result.output
    assert sendgrid.requests == 0
    result = runner.invoke(app, ["send", "2026-W01", "--newsletter", SLUG, "--yes"])
    assert result.exit_code == 1 and "digest build" in result.output


def test_what_recipients_read_after_substitution(
    sendgrid_settings: Settings, sendgrid: SendGridServer, engine: Engine
) -> None:
    from tests.support.data import add_subscribers
    from tests.support.sendgrid_server import render

    emails = add_subscribers(engine, SLUG, 2)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE subscribers SET name = 'Tom <b>&amp; \"Co\"' "
                             f"WHERE email = '{emails[0]}'")
    assert run_send(sendgrid_settings, EDITION, SLUG).ok
    payload = sendgrid.payloads[0]
    assert "%%name_html%%" in payload["content"][1]["value"]  # one name needs escaping
    made = render(payload, 0)
    person = payload["personalizations"][0]
    url = person["headers"]["List-Unsubscribe"].strip("<>")
    assert 'Dear Tom <b>&amp; "Co",' in made["text/plain"]
    assert "Dear Tom &lt;b&gt;&amp;amp; &quot;Co&quot;," in made["text/html"]
    assert f'href="{url}"' in made["text/html"] and url in made["text/plain"]
    assert "%%" not in made["text/html"] + made["text/plain"] + made["subject"]
    plain = render(payload, 1)  # the other reader of the same batch, nothing to escape
    assert "Dear Reader 1," in plain["text/html"] and "Dear Reader 1," in plain["text/plain"]
    # A batch in which nothing needs escaping: the HTML shares the plain placeholders.
    later = add_subscribers(engine, SLUG, 2, start=2)
    assert run_send(sendgrid_settings, EDITION, SLUG).sent == 2
    shared = sendgrid.payloads[1]
    assert "%%name_html%%" not in shared["content"][1]["value"]
    for n, email in enumerate(later):
        made = render(shared, n)
        assert f"Dear Reader {n + 2}," in made["text/html"] and email in made["text/html"]
        assert "%%" not in made["text/html"] + made["text/plain"]
