"""`digest settle EDITION -n SLUG --batch N|--recipient EMAIL --delivered|--not-delivered`:
batches or recipients in doubt, settled by the editor from the provider's own log."""

from __future__ import annotations

from pathlib import Path

import typer

from digest.cli.app import app
from digest.cli.common import console, escape, fail, load_settings, user_errors


@app.command("settle")
def settle_command(
    edition: str = typer.Argument(..., help="Edition id, e.g. 2026-W47."),
    newsletter: str = typer.Option(..., "--newsletter", "-n", help="Slug of the newsletter."),
    batch: list[int] = typer.Option(
        None, "--batch", metavar="N", help="A batch in doubt, as `digest status` lists it "
        "(repeat for more)."),
    every: bool = typer.Option(False, "--all-in-doubt", help="Every batch with recipients in "
                               "doubt."),
    recipient: list[str] = typer.Option(
        None, "--recipient", metavar="EMAIL", help="A recipient in doubt, as the in-doubt list "
        "names them (repeat for more): over SMTP a batch can be partly delivered."),
    recipients: Path = typer.Option(
        None, "--recipients", metavar="FILE", help="A file of recipients in doubt: one address "
        "per line, or a CSV with an email column (the in-doubt list, trimmed)."),
    delivered: bool = typer.Option(
        None, "--delivered/--not-delivered", help="What the provider's log says: delivered "
        "(marked sent) or not (marked failed: the next `digest send` sends them)."),
) -> None:
    """Settle recipients in doubt by hand, after checking the provider's log (SendGrid's
    Activity feed, the relay's mail log). digest never decides this itself."""
    from digest.send.settle import Named, read_recipients, settle_in_doubt

    if delivered is None:
        raise fail("say what the provider's log shows: --delivered or --not-delivered.")
    settings = load_settings()
    with user_errors():
        named = [Named(email, "--recipient") for email in recipient or []]
        if recipients is not None:
            named += read_recipients(recipients)
        done = settle_in_doubt(settings, edition, newsletter, batches=batch or [],
                               delivered=delivered, every=every, recipients=named)
    what = "sent" if delivered else "failed (the next `digest send` sends them)"
    batches = ", ".join(map(str, done.batches)) or "none"
    console.print(f"{done.recipients:,} recipient(s) of batch(es) {batches} marked {what}; "
                  f"{done.note}.", highlight=False)
    console.print(f"still in doubt: {done.still_in_doubt:,}"
                  + (f" (`digest status {escape(edition)} -n {escape(newsletter)}`)"
                     if done.still_in_doubt else ""), highlight=False)
