"""`digest settle`: the editor settles batches in doubt from the provider's log; digest never
decides it, and once settled the next send neither doubles nor forgets anyone. And a send begun
through one backend is not carried on through another by a forgotten setting."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from digest.archive.schema import send_batches
from digest.cli import app
from digest.editions.lease import holding
from digest.send.runner import run_send
from digest.settings import Settings
from tests.support.data import EDITION, SLUG, ledger_rows, ledger_states
from tests.support.sendgrid_server import Action, SendGridServer

runner = CliRunner()
People = Callable[..., list[str]]
SETTLE = ["settle", EDITION, "-n", SLUG]


def test_a_batch_the_provider_took_is_settled_delivered(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine,
    configure: Callable[..., Settings], edition: Path,
) -> None:
    settings = configure(send_batch_size=10, editor="Ana Editor")
    emails = people(30)
    sendgrid.script(Action.ok(), Action.drop_after_accepting())  # batch 2: taken, answer lost
    assert run_send(settings, EDITION, SLUG).in_doubt == 10
    assert (edition / "in-doubt.csv").exists()

    result = runner.invoke(app, [*SETTLE, "--batch", "2", "--delivered"])

    assert result.exit_code == 0, result.output
    assert "10 recipient(s) of batch(es) 2 marked sent" in result.stdout
    assert "settled by hand by Ana Editor" in result.stdout and "still in doubt: 0" in result.stdout
    assert ledger_states(engine) == {"sent": 30}
    assert not (edition / "in-doubt.csv").exists()  # nobody left in doubt
    with engine.connect() as conn:
        batch = conn.execute(select(send_batches).where(send_batches.c.batch == 2)).one()
    assert batch.state == "sent" and "Ana Editor" in batch.error and "delivered" in batch.error
    again = run_send(settings, EDITION, SLUG)
    assert again.sent == 0 and again.ok
    assert sendgrid.taken() == Counter(emails)  # once each


def test_a_batch_that_never_arrived_goes_with_the_next_send(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine,
    configure: Callable[..., Settings],
) -> None:
    settings = configure(send_batch_size=10)
    emails = people(30)
    sendgrid.script(Action.ok(), Action.ok(), Action.disconnect())  # batch 3: never taken
    assert run_send(settings, EDITION, SLUG).in_doubt == 10

    result = runner.invoke(app, [*SETTLE, "--all-in-doubt", "--not-delivered"])

    assert result.exit_code == 0, result.output
    assert "10 recipient(s) of batch(es) 3 marked failed" in result.stdout
    assert ledger_states(engine) == {"sent": 20, "failed": 10}
    again = run_send(settings, EDITION, SLUG)
    assert again.sent == 10 and again.ok
    assert sendgrid.taken() == Counter(emails)  # the ten once, the rest not again


def test_wrong_requests_are_refused_and_change_nothing(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine,
    configure: Callable[..., Settings],
) -> None:
    settings = configure(send_batch_size=10)
    people(20)
    sendgrid.script(Action.drop_after_accepting())  # batch 1 in doubt
    run_send(settings, EDITION, SLUG)
    before = ledger_rows(engine)

    unknown = runner.invoke(app, [*SETTLE, "--batch", "2", "--delivered"])
    assert unknown.exit_code == 1
    assert "nobody in doubt in batch(es) 2" in unknown.output and "in doubt: 1 " in unknown.output
    undecided = runner.invoke(app, [*SETTLE, "--batch", "1"])
    assert undecided.exit_code == 1 and "--delivered or --not-delivered" in undecided.output
    unnamed = runner.invoke(app, [*SETTLE, "--delivered"])
    assert unnamed.exit_code == 1 and "--batch N" in unnamed.output
    with holding(engine, EDITION, SLUG, "send", ttl=60):  # a send is running
        busy = runner.invoke(app, [*SETTLE, "--batch", "1", "--delivered"])
    assert busy.exit_code == 1 and "Traceback" not in busy.output
    assert ledger_rows(engine) == before


def test_a_send_begun_through_sendgrid_is_not_carried_on_through_the_outbox(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine,
    configure: Callable[..., Settings], edition: Path,
) -> None:
    settings = configure(send_batch_size=10)
    emails = people(30)
    sendgrid.script(Action.ok(), Action.error(401))  # stops after the first batch
    assert run_send(settings, EDITION, SLUG).stopped
    configure(sender="outbox")  # DIGEST_SENDER forgotten: back at its default

    refused = runner.invoke(app, ["send", EDITION, "-n", SLUG, "--yes"])

    said = " ".join(refused.output.split())
    assert refused.exit_code == 1 and "Traceback" not in said
    assert "was being sent through sendgrid (run 1, 10 sent so far)" in said
    assert "DIGEST_SENDER=sendgrid" in said and "--switch-sender" in said
    assert ledger_states(engine) == {"sent": 10, "failed": 10}
    assert not (edition / "outbox").exists()  # nobody written to files instead of mailed
    switched = runner.invoke(app, ["send", EDITION, "-n", SLUG, "--yes", "--switch-sender"])
    assert switched.exit_code == 0, switched.output
    assert len(list((edition / "outbox").glob("*.eml"))) == 20
    assert sendgrid.taken() == Counter(emails[:10])
