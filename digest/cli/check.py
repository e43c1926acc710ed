"""`digest check EDITION`: every pre-send check on a built edition; `digest import-caniemail`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from digest.cli.app import app
from digest.cli.common import console, escape, load_settings, user_errors

if TYPE_CHECKING:
    from rich.console import Console

    from digest.checks import Checked

STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


@app.command("check")
def check_command(
    edition: str = typer.Argument(..., help="Edition id, e.g. 2026-W47 (built by `digest build`)."),
    newsletter: list[str] | None = typer.Option(
        None, "--newsletter", "-n", help="Check only this newsletter (slug); repeatable."),
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
    online: bool = typer.Option(
        False, "--online", help="Also request every article link (HEAD, with a timeout): "
        "this reaches the publisher's site."),
    show_all: bool = typer.Option(
        False, "--all", help="List the info findings too (otherwise only counted)."),
) -> None:
    """Check a built edition the way an email-testing service would, before anyone gets it.

    Accessibility (axe-core in Chromium, contrast, our email rules), spam score
    (SpamAssassin), deliverability, links and client support, on the exact message the
    sample reader would be sent. The findings go into each newsletter's manifest (the
    preview's Checks tab). Exits 1 when any finding is an error.
    """
    from digest.checks import check_edition

    settings = load_settings()
    with user_errors():
        checked = check_edition(settings, edition, newsletter or [], online=online)
    if as_json:
        typer.echo(json.dumps(as_data(checked), indent=2, ensure_ascii=False))
    else:
        show_checked(checked, console, show_all=show_all)
    if any(item.report.errors for item in checked):
        raise typer.Exit(1)


def as_data(checked: list[Checked]) -> dict[str, object]:
    return {
        "newsletters": [{"edition": c.built.edition, "slug": c.built.slug, **c.report.to_dict()}
                        for c in checked],
        "errors": sum(len(c.report.errors) for c in checked),
    }


def show_checked(checked: list[Checked], out: Console, *, show_all: bool = False) -> None:
    """One table per newsletter: check, severity, where, what to do; then the totals."""
    from rich.table import Table

    for item in checked:
        report, counts = item.report, item.report.counts()
        spam = f" · spam score {report.spam_score:.1f}" if report.spam_score is not None else ""
        title = (f"{item.label}: {_count(counts['error'], 'error')}, "
                 f"{_count(counts['warning'], 'warning')}, {counts['info']} info{spam}")
        shown = [f for f in report.sorted() if show_all or f.severity != "info"]
        if not shown:
            out.print(f"[green]✓[/] {escape(title)}", highlight=False)
            continue
        table = Table(title=escape(title), title_justify="left", show_lines=True, expand=True)
        table.add_column("check", overflow="fold", ratio=2)
        table.add_column("severity", ratio=1)
        table.add_column("where", overflow="fold", ratio=3)
        table.add_column("what to do", overflow="fold", ratio=6)
        for finding in shown:
            where = escape(finding.where)
            if finding.snippet and finding.snippet != finding.where:
                where += f"\n[dim]{escape(finding.snippet)}[/]"
            table.add_row(escape(finding.check), f"[{STYLE[finding.severity]}]"
                          f"{finding.severity}[/]", where,
                          f"{escape(finding.problem)}\n[bold]→[/] {escape(finding.fix)}")
        out.print(table)
    errors = sum(len(c.report.errors) for c in checked)
    hidden = sum(c.report.count("info") for c in checked) if not show_all else 0
    tail = f" ({hidden} info not listed: --all shows them)" if hidden else ""
    if errors:
        out.print(f"[bold red]{_count(errors, 'error')}[/]: `digest send` refuses these "
                  f"newsletters until they are fixed (or --force).{tail}", highlight=False)
    else:
        out.print(f"[green]No errors.[/]{tail}", highlight=False)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@app.command("import-caniemail")
def import_caniemail_command(
    source: str = typer.Argument(
        ..., help="caniemail's api/data.json: a file path, or an http(s) URL to download."),
) -> None:
    """Use caniemail's newest data for the client-support check.

    Converts caniemail's api/data.json (https://www.caniemail.com/api/data.json, MIT
    licence) into DATA_DIR/caniemail-support.json, which the check then prefers to the table
    packaged with digest.
    """
    from digest.checks.caniemail import import_caniemail
    from digest.checks.support_table import IMPORTED

    settings = load_settings()
    target = settings.data_dir / IMPORTED
    with user_errors():
        table = import_caniemail(source, target, timeout=settings.fetch_timeout)
    updated = table["source"].get("data_updated") or "an unknown date"
    console.print(f"Wrote {len(table['features'])} features (caniemail data of "
                  f"{escape(str(updated))}) to [bold]{escape(str(target))}[/]; "
                  "`digest check` uses them from now on.", highlight=False)
