"""`digest settle EDITION -n SLUG --batch N --delivered|--not-delivered`: batches in doubt,
settled by the editor from the provider's own log."""

from __future__ import annotations

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
    delivered: bool = typer.Option(
        None, "--delivered/--not-delivered", help="What the provider's log says: delivered "
        "(marked sent) or not (marked failed: the next `digest send` sends them)."),
) -> None:
    """Settle recipients in doubt by hand, after checking the provider's log (SendGrid's
    Activity feed, the relay's mail log). digest never decides this itself."""
    from digest.send.settle import settle_in_doubt

    if delivered is None:
        raise fail("say what the provider's log shows: --delivered or --not-delivered.")
    settings = load_settings()
    with user_errors():
        done = settle_in_doubt(settings, edition, newsletter, batches=batch or [],
                               delivered=delivered, every=every)
    what = "sent" if delivered else "failed (the next `digest send` sends them)"
    batches = ", ".join(map(str, done.batches)) or "none"
    console.print(f"{done.recipients:,} recipient(s) of batch(es) {batches} marked {what}; "
                  f"{done.note}.", highlight=False)
    console.print(f"still in doubt: {done.still_in_doubt:,}"
                  + (f" (`digest status {escape(edition)} -n {escape(newsletter)}`)"
                     if done.still_in_doubt else ""), highlight=False)
