"""`digest report EDITION -n SLUG`: delivery and engagement of a sent edition, from its events."""

from __future__ import annotations

import csv
import json
import sys
from typing import TYPE_CHECKING

import typer

from digest.cli.app import app
from digest.cli.common import console, escape, fail, load_settings, user_errors

if TYPE_CHECKING:
    from digest.report import Results


@app.command("report")
def report_command(
    edition: str = typer.Argument(
        None, help="Edition id, e.g. 2026-W47 (leave out with --last)."
    ),
    newsletter: str = typer.Option(..., "--newsletter", "-n", help="Slug of the newsletter."),
    last: int = typer.Option(
        None, "--last", min=1, max=200, help="The rates of the last N sent editions instead."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Report a sent edition: the funnel (sent, delivered, opened, clicked), machine opens apart,
    bounces by type, complaints against Gmail and Yahoo's limits, unsubscribes, and every story
    ranked by unique clicks. With --last N, the same rates edition by edition.
    """
    if as_json and as_csv:
        raise fail("choose one of --json and --csv.")
    if (edition is None) == (last is None):
        raise fail("name an EDITION, or give --last N for the trend of the last N editions.")
    from digest.archive import connect
    from digest.report import edition_results, trend
    from digest.report.output import TREND_COLUMNS, as_dict, csv_rows, trend_rows

    settings = load_settings()
    with user_errors():
        engine = connect(settings.database)
        if last is not None:
            found = trend(engine, newsletter, last)
            rows = trend_rows(found)
            if as_json:
                _print_json(rows)
            elif as_csv:
                writer = csv.DictWriter(sys.stdout, TREND_COLUMNS, lineterminator="\n")
                writer.writeheader()
                writer.writerows({k: "" if v is None else v for k, v in row.items()}
                                 for row in rows)
            else:
                _show_trend(found)
            return
        results = edition_results(engine, edition, newsletter)
    if as_json:
        _print_json(as_dict(results))
    elif as_csv:
        csv.writer(sys.stdout, lineterminator="\n").writerows(csv_rows(results))
    else:
        _show(results)


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _pct(part: int, whole: int, digits: int = 1) -> str:
    return f"{part / whole:.{digits}%}" if whole else "–"


def _show(r: Results) -> None:
    from rich.table import Table

    from digest.report.thresholds import GMAIL_NOTE

    send = r.send
    when = send.started_at.strftime("%Y-%m-%d %H:%M UTC") if send.started_at else "?"
    console.print(f"[bold]{escape(send.title)}[/] ({send.newsletter}), edition {send.edition}"
                  f" · sent {when}")
    if send.subject:
        console.print(f"  subject  {escape(send.subject)}", highlight=False)
    if r.in_doubt or r.taken_in_doubt:
        known = (f"; SendGrid's events show it took {r.taken_in_doubt:,} more that were in "
                 "doubt, counted as sent" if r.taken_in_doubt else "")
        console.print(f"  [yellow]in doubt[/] {r.in_doubt:,} recipients: the provider's answer "
                      f"was lost and nothing is known of them since{known}", highlight=False)
    if not r.tracked:
        console.print(f"  sent     {r.sent:,} recipients")
        console.print(f"[yellow]No delivery or engagement figures:[/] {escape(r.note or '')}.")
        return
    funnel = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    funnel.add_column("Funnel")
    funnel.add_column("Recipients", justify="right")
    funnel.add_column("Rate", justify="right")
    funnel.add_column("")
    funnel.add_row("Sent", f"{r.sent:,}", "", "")
    funnel.add_row("Delivered", f"{r.delivered:,}", _pct(r.delivered, r.sent), "of sent")
    funnel.add_row("Opened by people", f"{r.opened:,}", _pct(r.opened, r.delivered),
                   "of delivered")
    funnel.add_row("Clicked", f"{r.clicked:,}", _pct(r.clicked, r.delivered),
                   f"of delivered ({_pct(r.clicked, r.opened)} of those who opened)")
    if r.awaiting:
        funnel.add_row("[dim]No outcome yet[/]", f"[dim]{r.awaiting:,}[/]",
                       f"[dim]{_pct(r.awaiting, r.sent)}[/]", "[dim]of sent[/]")
    console.print(funnel)
    dropped = ", ".join(f"{escape(k)} {n:,}" for k, n in sorted(r.dropped.items()))
    spam = r.spam
    colour = {"ok": "green", "near": "yellow", "over": "red", "limit": "bold red"}.get(spam.name)
    lines = [
        ("Machine opens", f"{r.machine_opened:,} recipients ({r.machine_only:,} opened only by "
                          f"machines, not counted as opened), {r.machine_open_events:,} events"),
        ("Bounces", f"hard {r.bounced:,} ({_pct(r.bounced, r.sent, 2)}) · blocked "
                    f"{r.blocked:,} ({_pct(r.blocked, r.sent, 2)}) · still deferred "
                    f"{r.deferred:,} · dropped {r.dropped_total:,}"
                    + (f" ({dropped})" if dropped else "")),
        ("Complaints", f"[{colour}]{escape(spam.message)}[/]" if colour
                       else escape(spam.message)),
        ("", f"[dim]{GMAIL_NOTE}[/]"),
        ("Unsubscribes", f"{r.unsubscribes:,} ({_pct(r.unsubscribes, r.delivered, 2)} of "
                         "delivered)"),
    ]
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for label, text in lines:
        facts.add_row(label, text)
    console.print(facts, highlight=False)
    stories = Table(box=None, pad_edge=False, header_style="bold",
                    title="Stories by unique clicks", title_justify="left")
    stories.add_column("#", justify="right")
    stories.add_column("Story")
    stories.add_column("Unique", justify="right")
    stories.add_column("Clicks", justify="right")
    stories.add_column("Of delivered", justify="right")
    for n, s in enumerate(r.stories, start=1):
        title = escape(s.story.title) + (" [dim](more this week)[/]" if s.story.more else "")
        stories.add_row(str(n), title, f"{s.unique:,}", f"{s.clicks:,}",
                        _pct(s.unique, r.delivered))
    if r.stories:
        console.print(stories)
    names = {"view": "view in browser", "unsubscribe": "unsubscribe", "manage": "manage",
             "other": "other links"}
    console.print("Other links (unique clicks): " + " · ".join(
        f"{names[link.kind]} {link.unique:,}" for link in r.links))


def _show_trend(found: list[Results]) -> None:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold",
                  title=f"{escape(found[-1].send.title)}: the last {len(found)} editions",
                  title_justify="left")
    for name in ("Edition", "Sent", "Delivered", "Opened", "Clicked", "Bounced", "Complaints",
                 "Unsubscribed"):
        table.add_column(name, justify="left" if name == "Edition" else "right")
    for r in found:
        if not r.tracked:
            table.add_row(r.send.edition, f"{r.sent:,}", "[dim]no events[/]", "", "", "", "", "")
            continue
        spam = r.spam
        complaints = _pct(r.complaints, r.delivered, 3)
        if spam.warning:
            complaints = f"[{'red' if spam.name != 'near' else 'yellow'}]{complaints}[/]"
        table.add_row(
            r.send.edition, f"{r.sent:,}", _pct(r.delivered, r.sent), _pct(r.opened, r.delivered),
            _pct(r.clicked, r.delivered), _pct(r.bounced + r.blocked, r.sent, 2), complaints,
            _pct(r.unsubscribes, r.delivered, 2),
        )
    console.print(table)
    console.print("[dim]Delivered: of sent. Bounced (hard and blocked): of sent. Opened (by "
                  "people), clicked, complaints and unsubscribed: of delivered.[/]")
