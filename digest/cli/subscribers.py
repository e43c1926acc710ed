"""`digest subscribers ...`: sync the CSV lists, look at them and at one address's history,
unsubscribe and resubscribe, purge stale sign-ups, erase an address, hand out manage links."""

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
    """Load subscribers/SLUG.csv into the database. Suppressed addresses stay suppressed.

    Only rows the CSV put there change: readers who signed up or chose on the manage page keep
    their choices, and erased addresses are not imported. Also deletes stale unconfirmed sign-ups.
    """
    from digest.archive import connect
    from digest.subscribers import sync_subscribers
    from digest.subscribers.signup import purge_pending

    settings = load_settings()
    with user_errors():
        engine = connect(settings.database)
        reports = sync_subscribers(engine, settings.subscribers_dir, newsletter, key=settings)
        purged = purge_pending(engine, settings.pending_days)
    if purged:
        console.print(f"{purged:,} sign-up(s) never confirmed in {settings.pending_days} days: "
                      "deleted.")
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
            + (f", {report.readers_own:,} on the list by their own choice (left as they are)"
               if report.readers_own else "")
            + (f", {report.erased:,} erased at their request (not imported)"
               if report.erased else "")
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
    table = Table("newsletter", "receiving", "on the list", "suppressed", "paused", "removed",
                  box=None)
    for c in counts:
        table.add_row(c.newsletter, f"{c.receiving:,}", f"{c.active:,}", f"{c.suppressed:,}",
                      f"{c.paused:,}", f"{c.removed:,}")
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
        result = resubscribe(connect(settings.database), _address(email), newsletter, "cli")
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


@subscribers_app.command("show")
def show_command(
    email: str = typer.Argument(..., help="The address to look up."),
) -> None:
    """One address: its lists, topics, suppressions, pending sign-ups and the history of changes."""
    from rich.table import Table

    from digest.archive import connect
    from digest.subscribers.history import history_of
    from digest.subscribers.show import on_file

    settings = load_settings()
    with user_errors():
        address = _address(email)
        engine = connect(settings.database)
        found = on_file(engine, settings, address)
        changes = history_of(engine, address)
    if found.erased:
        console.print(f"{escape(address)} was erased at its owner's request: only a keyed hash "
                      "of it is kept, so no CSV sync imports it again.")
        return
    if not (found.lists or found.suppressions or found.pending or changes):
        raise fail(f"nothing on file for {escape(address)}.")
    if found.lists:
        table = Table("newsletter", "status", "origin", "topics", "paused until", box=None,
                      title=f"Lists of {escape(address)}", title_justify="left")
        for row in found.lists:
            table.add_row(row.newsletter, row.status, row.origin, escape(row.topics),
                          row.paused_until)
        console.print(table)
    for newsletter, reason, source, since in found.suppressions:
        which = "every newsletter" if newsletter == "*" else newsletter
        console.print(f"suppressed for {which}: {reason} (via {source}, {since})")
    for newsletter, requested in found.pending:
        console.print(f"sign-up for {newsletter} waiting for confirmation since {requested}")
    table = Table("when (UTC)", "newsletter", "change", "detail", "source", box=None,
                  title="History", title_justify="left")
    for change in changes:
        newsletter = {"*": "every newsletter", None: ""}.get(change.newsletter, change.newsletter)
        table.add_row(f"{change.at:%Y-%m-%d %H:%M}", newsletter, change.change,
                      escape(change.detail), change.source)
    console.print(table if changes else "No recorded changes.")


@subscribers_app.command("purge")
def purge_command(
    days: int = typer.Option(
        None, "--days", min=1, help="Older than this many days (default DIGEST_PENDING_DAYS)."
    ),
) -> None:
    """Delete sign-ups never confirmed (serve start-up and sync do it too)."""
    from digest.archive import connect
    from digest.subscribers.signup import purge_pending

    settings = load_settings()
    days = days or settings.pending_days
    with user_errors():
        purged = purge_pending(connect(settings.database), days)
    console.print(f"{purged:,} sign-up(s) never confirmed in {days} days: deleted.")


@subscribers_app.command("erase")
def erase_command(
    email: str = typer.Argument(..., help="The address whose data to erase."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Erase without asking first."),
) -> None:
    """Erase everything about an address; only a keyed hash stays, so no CSV re-imports it."""
    import sys

    from digest.archive import connect
    from digest.subscribers.erasure import erase, erase_outbox_files

    settings = load_settings()
    address = _address(email)
    if not yes:
        if not sys.stdin.isatty():
            raise fail("not erasing without a confirmation, and there is no terminal to ask on: "
                       "add --yes.")
        if not typer.confirm(f"Erase every record of {address}? This cannot be undone.",
                             default=False):
            raise fail("nothing erased.")
    with user_errors():
        result = erase(connect(settings.database), settings, address, "cli")
        files = erase_outbox_files(settings.out_dir, settings.data_dir, address)
    rows = ", ".join(f"{n:,} from {table}" for table, n in sorted(result.rows.items()))
    if files:
        rows += f"{', ' if rows else ''}{files:,} outbox file(s)"
    console.print(f"{escape(address)} erased ({rows or 'nothing was on file'}); its keyed hash "
                  "keeps it off every list. Remove it from the CRM's CSV exports too.")


@subscribers_app.command("link")
def link_command(
    email: str = typer.Argument(..., help="The address whose manage link to print."),
    revoke: bool = typer.Option(
        False, "--revoke", help="Make a new link; every older one (in sent emails) stops working."
    ),
) -> None:
    """Print an address's manage link (e.g. to answer a reader who lost theirs)."""
    from digest.archive import connect
    from digest.subscribers.links import link_for
    from digest.subscribers.links import revoke as revoke_links

    settings = load_settings()
    with user_errors():
        address = _address(email)
        engine = connect(settings.database)
        if revoke:
            with engine.begin() as conn:
                revoke_links(conn, address)
        url = link_for(engine, settings, settings.base_url, address)
    if revoke:
        err.print("Older manage links of this address no longer work.")
    print(url)


def _address(raw: str) -> str:
    from digest.subscribers import BadAddress, normalise_email

    try:
        return normalise_email(raw)
    except BadAddress as exc:
        raise fail(escape(str(exc))) from None
