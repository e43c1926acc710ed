"""The runner and the ledger with the default outbox backend: resuming, doubt, locking, pacing."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from digest.archive.schema import deliveries, subscribers
from digest.cli import app
from digest.editions.lease import holding
from digest.errors import DigestError
from digest.send.backends.outbox import file_name
from digest.send.ledger import Ledger
from digest.send.message import Recipient
from digest.send.retry import Pacer
from digest.send.runner import plan_send, run_send
from digest.settings import Settings
from tests.support.data import EDITION, SLUG, ledger_rows

runner = CliRunner()
People = Callable[..., list[str]]


def test_outbox_writes_one_eml_per_recipient(
    settings: Settings, edition: Path, people: People, engine: Engine
) -> None:
    emails = people(4)
    report = run_send(settings, EDITION, SLUG)
    assert report.ok and report.sent == 4 and report.plan.backend == "outbox"
    files = sorted((edition / "outbox").glob("*.eml"))
    assert [f.name for f in files] == sorted(file_name(e) for e in emails)
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg["To"].addresses[0].addr_spec == emails[0]
    assert all(state == "sent" for state, _ in ledger_rows(engine).values())
    assert file_name("a/b@example.com") != file_name("a_b@example.com")


def test_cli_refuses_an_empty_list(settings: Settings, edition: Path) -> None:
    result = runner.invoke(app, ["send", EDITION, "--newsletter", SLUG, "--yes"])
    assert result.exit_code == 1 and "digest subscribers sync ai-policy" in result.output


def test_cli_send_then_rerun_has_nothing_to_send(
    settings: Settings, edition: Path, people: People
) -> None:
    people(3)
    result = runner.invoke(app, ["send", EDITION, "--newsletter", SLUG, "--yes"])
    assert result.exit_code == 0, result.output
    assert (
        "sent 3" in result.output and "failed 0" in result.output and "in doubt 0" in result.output
    )
    result = runner.invoke(app, ["send", EDITION, "--newsletter", SLUG, "--yes"])
    assert (
        result.exit_code == 0
        and "Nothing to send" in result.output
        and "already sent 3" in result.output
    )


def crashed_batch(engine: Engine, emails: list[str]) -> None:
    """What a run killed mid-batch leaves behind: the batch claimed, in flight."""
    from digest.send.runs import start_run

    crashed = Ledger(engine, EDITION, SLUG)
    run = start_run(engine, EDITION, SLUG, "outbox")
    crashed.claim(crashed.next_batch(), [Recipient(e) for e in emails], run)


def test_in_flight_leftovers_are_in_doubt_and_left_alone_unless_asked(
    settings: Settings, edition: Path, people: People, engine: Engine
) -> None:
    emails = people(10)
    crashed_batch(engine, emails[:3])

    plan = plan_send(settings, EDITION, SLUG)
    assert plan.in_doubt == 3 and plan.to_send == 7
    report = run_send(settings, EDITION, SLUG)
    assert report.sent == 7 and report.in_doubt == 3 and not report.ok
    assert Ledger(engine, EDITION, SLUG).in_doubt() == emails[:3]
    outbox = edition / "outbox"
    assert not any((outbox / file_name(e)).exists() for e in emails[:3])
    listed = (edition / "in-doubt.csv").read_text().splitlines()
    assert listed[0] == "email,batch,since,why" and len(listed) == 4
    assert listed[1].startswith(f"{emails[0]},1,") and "the run sending it died" in listed[1]

    result = runner.invoke(app, ["send", EDITION, "--newsletter", SLUG, "--yes"])
    assert (
        result.exit_code == 1
        and emails[0] in result.output
        and "--resend-in-doubt" in result.output
        and str(edition / "in-doubt.csv") in result.output.replace("\n", "")
    )

    report = run_send(settings, EDITION, SLUG, resend_in_doubt=True)
    assert report.ok and report.sent == 3 and report.in_doubt == 0
    assert all(state == "sent" for state, _ in ledger_rows(engine).values())
    assert all((outbox / file_name(e)).exists() for e in emails)
    assert not (edition / "in-doubt.csv").exists()  # nobody is in doubt any more


def test_a_run_killed_after_claiming_its_last_batch_is_put_right_with_nothing_to_send(
    settings: Settings, edition: Path, people: People, engine: Engine
) -> None:
    """Everyone sent or claimed, the claim left in flight by a run that died, no list written:
    the next `digest send` has nothing new to send, and still settles the claim as in doubt
    and writes the list its plan points to."""
    emails = people(5)
    report = run_send(settings, EDITION, SLUG)
    assert report.ok and report.sent == 5
    with engine.begin() as conn:  # the last batch as a run killed mid-batch left it
        conn.execute(update(deliveries).where(deliveries.c.email.in_(emails[3:]))
                     .values(state="in_flight"))
    (edition / "in-doubt.csv").unlink(missing_ok=True)

    result = runner.invoke(app, ["send", EDITION, "--newsletter", SLUG, "--yes"])
    assert result.exit_code == 1 and "nothing new to send; 2 in doubt" in result.output
    states = {email: state for email, (state, _) in ledger_rows(engine).items()}
    assert [states[e] for e in emails] == ["sent"] * 3 + ["in_doubt"] * 2
    listed = (edition / "in-doubt.csv").read_text().splitlines()
    assert len(listed) == 3 and listed[1].startswith(f"{emails[3]},")


def test_suppressed_in_doubt_recipients_are_not_resent(
    settings: Settings, edition: Path, people: People, engine: Engine
) -> None:
    from digest.subscribers import suppress

    emails = people(3)
    crashed_batch(engine, emails)
    suppress(engine, emails[1], SLUG, "unsubscribed", "one-click")
    report = run_send(settings, EDITION, SLUG, resend_in_doubt=True)
    assert report.sent == 2 and report.in_doubt == 1
    assert Ledger(engine, EDITION, SLUG).in_doubt() == [emails[1]]


def test_a_second_send_of_the_same_edition_is_refused_while_one_runs(
    settings: Settings, edition: Path, people: People, engine: Engine
) -> None:
    people(2)
    with holding(engine, EDITION, SLUG, "send", ttl=60), pytest.raises(
        DigestError, match=r"a send \(process .* on this machine"
    ):
        run_send(settings, EDITION, SLUG)
    assert run_send(settings, EDITION, SLUG).sent == 2  # free again afterwards


def test_unknown_sender_and_missing_key_are_clear(
    configure: Callable[..., Settings], edition: Path, people: People
) -> None:
    people(1)
    with pytest.raises(DigestError, match="DIGEST_SENDER='pigeon': expected a known sender: "
                       "outbox, sendgrid, smtp") as unknown:
        plan_send(configure(sender="pigeon"), EDITION, SLUG)
    assert getattr(unknown.value, "exit_code", 1) == 2  # a wrong setting, as the CLI exits
    with pytest.raises(DigestError, match="DIGEST_SENDGRID_API_KEY is not set"):
        plan_send(configure(sender="sendgrid"), EDITION, SLUG)


def test_the_pacer_keeps_to_the_rate() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(50.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        pacer.wait(100)  # 500 messages at 50/s: the last batch may start after 8 s
    assert now[0] == pytest.approx(108.0)
    assert slept == pytest.approx([2.0, 2.0, 2.0, 2.0])
    free = Pacer(0.0, clock=lambda: 0.0, sleep=lambda s: pytest.fail("slept"))
    free.wait(10_000)


def test_a_name_with_a_line_break_fails_alone_not_its_batch(
    configure: Callable[..., Settings], edition: Path, people: People, engine: Engine
) -> None:
    settings = configure(send_batch_size=2)
    emails = people(6)
    with engine.begin() as conn:  # as if written around the CSV sync, which cleans names
        conn.execute(
            update(subscribers)
            .where(subscribers.c.email == emails[2])
            .values(name="Eve\r\nBcc: all@example.com")
        )
    report = run_send(settings, EDITION, SLUG)
    assert (report.sent, report.failed, report.stopped) == (5, 1, None)
    assert report.failures == [(emails[2], report.failures[0][1])]
    assert "line break" in report.failures[0][1]
    failed = {e for e, (state, _) in ledger_rows(engine).items() if state == "failed"}
    assert failed == {emails[2]}  # alone: the rest of its batch went


def test_once_sent_every_run_sends_the_frozen_copy(
    settings: Settings, edition: Path, people: People
) -> None:
    first = people(2)
    assert run_send(settings, EDITION, SLUG).sent == 2
    (edition / "email.html").write_text("<p>Edited by hand after the send</p>")
    (edition / "email.txt").write_text("Edited by hand after the send")
    later = people(1, start=2)
    plan = plan_send(settings, EDITION, SLUG)
    assert plan.state == "sent" and plan.frozen and "differ" in (plan.note or "")
    assert run_send(settings, EDITION, SLUG).sent == 1
    for address in first + later:
        message = (edition / "outbox" / file_name(address)).read_bytes()
        assert b"Brussels agrees the code of practice" in message
        assert b"Edited by hand" not in message
    result = runner.invoke(app, ["send", EDITION, "-n", SLUG, "--yes"])
    assert "sends the frozen copy" in result.output and "differ" in result.output
