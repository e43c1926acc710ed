"""`digest subscribers ...`: sync the CSV lists, look at them, unsubscribe and resubscribe."""

from __future__ import annotations

import typer

from digest.cli.app import App, app
from digest.cli.common import console, err, escape, fail, load_settings, user_errors

subscribers_app = App(
    help="Subscriber lists (subscribers/SLUG.csv) and suppressions.", no_args_is_help=True
)
app.add_typer(subscribers_app, name="subscribers")


@subscribers_app.command("sync")
def sync_command(
    newsletter: str = typer.Argument(
        None, help="Slug of the list to sync; all lists when omitted."
    ),
) -> None:
    """Load subscribers/SLUG.csv into the database. Suppressed addresses stay suppressed."""
    from digest.archive import connect
    from digest.subscribers import sync_subscribers

    settings = load_settings()
    with user_errors():
        reports = sync_subscribers(connect(settings.database), settings.subscribers_dir, newsletter)
    problems = 0
    for report in reports:
        console.print(
            f"[bold]{report.newsletter}[/]: {report.added:,} added, {report.updated:,} updated, "
            f"{report.removed:,} removed, {report.unchanged:,} unchanged"
            + (f", {report.duplicates:,} duplicate rows folded" if report.duplicates else "")
            + (
                f", {report.suppressed:,} listed but suppressed (kept off)"
                if report.suppressed
                else ""
            )
        )
        for problem in report.problems:
            err.print(f"  [red]skipped[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
        problems += len(report.problems)
    if problems:
        raise fail(f"{problems} bad row(s) skipped; fix them in the CSV and sync again.")


@subscribers_app.command("list")
def list_command(
    newsletter: str = typer.Argument(None, help="Slug of the list; all lists when omitted."),
) -> None:
    """Every subscriber with their status (active, removed, suppressed and why)."""
    from rich.table import Table

    from digest.archive import connect
    from digest.subscribers import list_subscribers

    settings = load_settings()
    with user_errors():
        rows = list(list_subscribers(connect(settings.database), newsletter))
    table = Table("newsletter", "email", "name", "status", box=None)
    for row in rows:
        table.add_row(row.newsletter, escape(row.email), escape(row.name), row.shown_status)
    console.print(table)


@subscribers_app.command("count")
def count_command(
    newsletter: str = typer.Argument(None, help="Slug of the list; all lists when omitted."),
) -> None:
    """How many are on each list, suppressed, removed, and so would receive a send."""
    from rich.table import Table

    from digest.archive import connect
    from digest.subscribers import count_subscribers

    settings = load_settings()
    with user_errors():
        counts = count_subscribers(connect(settings.database), newsletter)
    table = Table("newsletter", "receiving", "on the list", "suppressed", "removed", box=None)
    for c in counts:
        table.add_row(
            c.newsletter, f"{c.receiving:,}", f"{c.active:,}", f"{c.suppressed:,}", f"{c.removed:,}"
        )
    console.print(table)


@subscribers_app.command("unsubscribe")
def unsubscribe_command(
    email: str = typer.Argument(..., help="The address to stop mailing."),
    newsletter: str = typer.Option(
        None, "--newsletter", "-n", help="Only this newsletter (default: all)."
    ),
) -> None:
    """Suppress an address: no CSV sync can put it back; only `resubscribe` lifts it."""
    from digest.archive import connect
    from digest.subscribers import unsubscribe

    settings = load_settings()
    with user_errors():
        address = _address(email)
        new = unsubscribe(connect(settings.database), address, newsletter, source="cli")
    which = newsletter or "every newsletter"
    state = "unsubscribed from" if new else "was already unsubscribed from"
    console.print(f"{escape(address)} {state} {escape(which)}.")


@subscribers_app.command("resubscribe")
def resubscribe_command(
    email: str = typer.Argument(..., help="The address to mail again."),
    newsletter: str = typer.Option(
        ..., "--newsletter", "-n", help="The newsletter ('*' lifts a suppression for all).",
    ),
) -> None:
    """Lift a suppression on purpose (the address must still be in the newsletter's CSV)."""
    from digest.archive import connect
    from digest.subscribers import EVERY, resubscribe

    settings = load_settings()
    with user_errors():
        result = resubscribe(connect(settings.database), _address(email), newsletter)
    if result.lifted:
        console.print(
            f"{escape(result.email)}: lifted the {result.lifted} suppression "
            f"for {escape(newsletter)}."
        )
    else:
        console.print(f"{escape(result.email)} had no suppression for {escape(newsletter)}.")
    for other, reason in result.still:
        err.print(
            f"  still suppressed for {'every newsletter' if other == EVERY else other} ({reason}); "
            f"`digest subscribers resubscribe {result.email} --newsletter '{other}'` lifts it."
        )
    if result.still:
        raise typer.Exit(1)


def _address(raw: str) -> str:
    from digest.subscribers import BadAddress, normalise_email

    try:
        return normalise_email(raw)
    except BadAddress as exc:
        raise fail(escape(str(exc))) from None
