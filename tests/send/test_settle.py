"""`digest settle`: the editor settles batches, or single recipients, in doubt from the
provider's log; digest never decides it, and once settled the next send neither doubles nor
forgets anyone. And a send begun through one backend is not carried on through another by a
forgotten setting."""

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


def batch_states(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(send_batches.c.batch, send_batches.c.state)).all())


def test_recipients_the_log_names_are_settled_one_by_one(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine,
    configure: Callable[..., Settings], edition: Path, tmp_path: Path,
) -> None:
    """Over SMTP a batch is several messages, and a crash can leave some delivered: the editor
    settles the addresses the relay's log shows, the rest of the batch as it shows."""
    settings = configure(send_batch_size=10)
    emails = people(20)
    sendgrid.script(Action.ok(), Action.disconnect())  # batch 2: in doubt (in fact not taken)
    assert run_send(settings, EDITION, SLUG).in_doubt == 10
    doubtful = emails[10:]

    # Two named on the command line (as the log spells one: in capitals), three in a file:
    # the in-doubt list itself, trimmed to the rows the log shows.
    named = runner.invoke(app, [*SETTLE, "--recipient", doubtful[0].upper(),
                                "--recipient", doubtful[1], "--not-delivered"])
    assert named.exit_code == 0, named.output
    assert "2 recipient(s) of batch(es) 2 marked failed" in named.stdout
    assert "still in doubt: 8" in named.stdout
    assert batch_states(engine) == {1: "sent", 2: "mixed"}
    listed = (edition / "in-doubt.csv").read_text().splitlines()
    trimmed = tmp_path / "not-delivered.csv"
    trimmed.write_text("\n".join(listed[:4]) + "\n")  # the header and three rows
    from_file = runner.invoke(app, [*SETTLE, "--recipients", str(trimmed), "--not-delivered"])
    assert from_file.exit_code == 0, from_file.output
    assert "3 recipient(s)" in from_file.stdout and "still in doubt: 5" in from_file.stdout
    plain = tmp_path / "log.txt"
    plain.write_text(f"# from the relay's log\n{doubtful[5]}\n\n{doubtful[6]}\n")
    assert runner.invoke(app, [*SETTLE, "--recipients", str(plain),
                               "--not-delivered"]).exit_code == 0
    rows = ledger_rows(engine)
    assert [e for e in doubtful if rows[e][0] == "in_doubt"] == doubtful[7:]
    assert all(rows[e][0] == "failed" for e in doubtful[:7])
    with engine.connect() as conn:
        note = conn.scalar(select(send_batches.c.error).where(send_batches.c.batch == 2))
    assert "settled by hand" in note and "not delivered" in note

    rest = runner.invoke(app, [*SETTLE, "--batch", "2", "--not-delivered"])
    assert rest.exit_code == 0 and "3 recipient(s) of batch(es) 2" in rest.stdout
    assert batch_states(engine) == {1: "sent", 2: "failed"}
    assert run_send(settings, EDITION, SLUG).sent == 10
    assert sendgrid.taken() == Counter(emails)  # once each: batch 2 never arrived before


def test_wrong_recipients_are_refused_with_where_they_were_named_and_change_nothing(
    sendgrid_settings: Settings, sendgrid: SendGridServer, people: People, engine: Engine,
    configure: Callable[..., Settings], tmp_path: Path,
) -> None:
    settings = configure(send_batch_size=5)
    emails = people(10)
    sendgrid.script(Action.ok(), Action.drop_after_accepting())  # batch 2 in doubt
    run_send(settings, EDITION, SLUG)
    before = ledger_rows(engine)

    def settle(*args: str) -> str:
        result = runner.invoke(app, [*SETTLE, *args, "--delivered"])
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        return " ".join(result.output.split())

    said = settle("--recipient", emails[0], "--recipient", "nobody@example.org",
                  "--recipient", emails[6])
    assert f"--recipient: {emails[0]} is not in doubt in {EDITION}/{SLUG} (it is sent)" in said
    assert "nobody@example.org is not in doubt" in said and "not on its ledger" in said
    assert emails[6] not in said and "nothing was settled" in said
    listing = tmp_path / "list.txt"
    listing.write_text(f"{emails[5]}\nnot an address\n{emails[7]}\n")
    assert f"{listing}:2: 'not an address' is not an email address" in settle(
        "--recipients", str(listing))
    wrong_csv = tmp_path / "list.csv"
    wrong_csv.write_text(f"address,batch\n{emails[5]},2\n")
    assert "needs an `email` column" in settle("--recipients", str(wrong_csv))
    missing = settle("--recipients", str(tmp_path / "missing.txt"))
    assert "cannot read the list of recipients" in missing and "No such file" in missing
    assert "not both" in settle("--batch", "2", "--recipient", emails[5])
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
