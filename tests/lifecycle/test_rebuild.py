"""Sent is frozen: a rebuild is refused (saying what was sent, when, to how many, and how to build
a correction); a rebuild while a send runs is refused; --correction builds a separate edition."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine

from digest.settings import Settings
from tests.lifecycle.conftest import READERS, WEEK, Cli, digest_process
from tests.support.data import ledger_rows
from tests.support.sendgrid_server import API_KEY, Action, SendGridServer


def manifest(settings: Settings, edition: str, slug: str) -> dict:
    return json.loads((settings.out_dir / edition / slug / "manifest.json").read_text())


def test_a_sent_newsletter_is_frozen_and_a_correction_is_a_new_edition(
    cli: Cli, newsroom: Settings, engine: Engine
) -> None:
    assert cli("build", "--week", WEEK).exit_code == 0
    sent_html = (newsroom.out_dir / WEEK / "tech-brief" / "email.html").read_text()
    assert cli("send", WEEK, "-n", "tech-brief", "--yes").exit_code == 0

    refused = cli("build", "--week", WEEK)
    assert refused.exit_code == 1
    words = " ".join(refused.output.split())
    assert f"tech-brief of {WEEK} was sent on " in words and f"to {READERS} readers" in words
    assert "(subject: 'Tech Brief:" in words
    assert f"digest build --week {WEEK} -n tech-brief --correction" in words
    assert f"digest build --week {WEEK} -n markets -n everything" in words
    assert "Traceback" not in refused.output
    assert (newsroom.out_dir / WEEK / "tech-brief" / "email.html").read_text() == sent_html

    others = cli("build", "--week", WEEK, "-n", "markets", "-n", "everything")
    assert others.exit_code == 0, others.output
    nothing_to_correct = cli("build", "--week", WEEK, "-n", "markets", "--correction")
    assert nothing_to_correct.exit_code == 1
    assert "markets of 2026-W10 has not been sent" in " ".join(nothing_to_correct.output.split())

    corrected = cli("build", "--week", WEEK, "-n", "tech-brief", "--correction")
    assert corrected.exit_code == 0, corrected.output
    revision = f"{WEEK}-r2"
    shown = " ".join(corrected.output.split())
    assert f"Edition {revision}" in shown and f"a correction of {WEEK}" in shown
    fixed = manifest(newsroom, revision, "tech-brief")
    assert fixed["edition"]["id"] == revision and fixed["edition"]["revision_of"] == WEEK
    assert fixed["subject"].startswith("Correction: Tech Brief:")
    assert fixed["view_url"].endswith(f"/archive/{revision}/tech-brief")
    # A draft correction is rebuilt in place; once sent, the next one is r3.
    again = cli("build", "--week", WEEK, "-n", "tech-brief", "--correction")
    assert f"Edition {revision}" in again.output
    assert cli("send", revision, "-n", "tech-brief", "--yes").exit_code == 0
    assert Counter(s for s, _ in ledger_rows(engine, WEEK, "tech-brief").values()) == {
        "sent": READERS}  # the original's ledger is untouched: a ledger of its own
    assert Counter(s for s, _ in ledger_rows(engine, revision, "tech-brief").values()) == {
        "sent": READERS}
    third = cli("build", "--week", WEEK, "-n", "tech-brief", "--correction")
    assert f"Edition {WEEK}-r3" in third.output
    assert cli("build", "--week", WEEK, "-n", "tech-brief").exit_code == 1  # still frozen

    status = json.loads(cli("status", revision, "--json").stdout)
    assert [(s["newsletter"], s["state"], s["revision_of"]) for s in status] == [
        ("tech-brief", "sent", WEEK)]


def test_a_rebuild_while_the_edition_is_being_sent_is_refused(
    newsroom: Settings, cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    assert cli("build", "--week", WEEK).exit_code == 0
    with SendGridServer() as sendgrid:
        sendgrid.script(Action.hold(process=True))  # the send waits on its first batch
        send = digest_process(
            "send", WEEK, "-n", "markets", "--yes", cwd=tmp_path,
            env={"DIGEST_SENDER": "sendgrid", "DIGEST_SENDGRID_API_KEY": API_KEY,
                 "DIGEST_SENDGRID_API_HOST": sendgrid.url},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        try:
            sendgrid.wait_until(lambda: sendgrid.held == 1, timeout=60)
            for letters in ([], ["-n", "everything"]):  # any newsletter of that edition
                refused = cli("build", "--week", WEEK, *letters)
                assert refused.exit_code == 1
                words = " ".join(refused.output.split())
                assert f"edition {WEEK} is being sent right now" in words, words
                assert "sending markets" in words
        finally:
            sendgrid.release()
            output, _ = send.communicate(timeout=60)
    assert send.returncode == 1, output  # the held batch was taken, its answer never came
    assert "in doubt 4" in output
    assert cli("build", "--week", WEEK, "-n", "everything").exit_code == 0  # the send is over
