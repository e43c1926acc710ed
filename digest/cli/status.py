"""`digest status EDITION`: each newsletter's state, counts, runs and batches."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from digest.cli.app import app
from digest.cli.common import console, escape, load_settings, user_errors

if TYPE_CHECKING:
    from digest.send.status import NewsletterStatus

SHOWN_BATCHES = 10  # on the terminal: those not all sent first, then the latest; --json has all


@app.command("status")
def status_command(
    edition: str = typer.Argument(..., help="Edition id, e.g. 2026-W47."),
    newsletter: str = typer.Option(None, "--newsletter", "-n", help="Only this newsletter."),
    as_json: bool = typer.Option(False, "--json", help="Print everything as JSON."),
) -> None:
    """Where each newsletter of an edition stands: draft, sending or sent; how many were sent,
    are in doubt, failed or remain; each send run and batch with the provider's ids."""
    from digest.send.status import edition_status

    settings = load_settings()
    with user_errors():
        found = edition_status(settings, edition, newsletter)
    if as_json:
        print(json.dumps([n.to_dict() for n in found], indent=2, ensure_ascii=False))
        return
    for number, status in enumerate(found):
        if number:
            console.print()
        _show(status)


def _show(s: NewsletterStatus) -> None:
    say = lambda line: console.print(line, highlight=False, soft_wrap=True)  # noqa: E731
    correction = f", a correction of {s.revision_of}" if s.revision_of else ""
    colour = {"draft": "yellow", "sending": "cyan", "sent": "green"}.get(s.state, "white")
    say(f"[bold]{s.newsletter}[/] · {s.edition}{correction} · [{colour}]{s.state}[/]")
    if s.subject:
        say(f"  subject    {escape(s.subject)}")
    if s.built_at:
        say(f"  built      {_when(s.built_at)}")
    if s.sent_at:
        through = f"; through the list {_when(s.finished_at)}" if s.finished_at else ""
        say(f"  sent       {_when(s.sent_at)} (first batch){through}")
    say(f"  counts     sent {s.sent:,} · in doubt {s.in_doubt:,} · failed {s.failed:,} · "
        f"remaining {s.remaining:,} · suppressed {s.suppressed:,}"
        + (f" · skipped {s.skipped:,}" if s.skipped else "")
        + (f" · in flight {s.in_flight:,}" if s.in_flight else ""))
    if s.variants:
        say("  by version (cut to readers' topics)")
        for key, states in sorted(s.variants.items(), key=lambda kv: (kv[0] != "", kv[0])):
            name = "full edition" if key == "" else key.replace("+", " + ")
            if set(states) == {"skipped"}:
                name = "nothing this week"
            shown = " · ".join(f"{state.replace('_', ' ')} {n:,}"
                               for state, n in sorted(states.items()))
            say(f"    {escape(name):<32} {shown}")
    if s.sending_now:
        say(f"  [cyan]now[/]        being sent by {escape(s.sending_now)}")
    if s.in_doubt_csv:
        say(f"  in doubt   listed in {escape(s.in_doubt_csv)}")
    if s.runs:
        say("  runs")
        for run in s.runs:
            outcome = run.outcome or "running"
            ended = _time(run.finished_at) if run.finished_at else "…"
            note = f": {run.note}" if run.note else ""
            say(f"    {run.id:<4} {run.backend:<9} {escape(run.host)} pid {run.pid:<8} "
                f"{_when(run.started_at)} → {ended}  {escape(outcome + note)}")
            if run.forced:
                say(f"         [bold red]{escape(run.forced)}[/]")
    if s.batches:
        unusual = [b for b in s.batches if b.state != "sent"]
        shown = unusual[:SHOWN_BATCHES] + [b for b in s.batches[-SHOWN_BATCHES:]
                                           if b.state == "sent"]
        shown = sorted({b.batch: b for b in shown}.values(), key=lambda b: b.batch)
        say("  batches    (number, recipients, state, provider id, handed over, why)")
        for b in shown:
            why = f"  {escape(b.error)}" if b.error and b.state != "sent" else ""
            say(f"    {b.batch:<6} {b.size:>5,}  {b.state.replace('_', ' '):<9} "
                f"{escape(b.provider_id or '–'):<24} {_time(b.started_at)}{why}")
        if len(shown) < len(s.batches):
            say(f"    ({len(s.batches) - len(shown):,} more batches, all sent: --json lists "
                "every one)")


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "–"


def _time(moment: datetime | None) -> str:
    return f"{moment:%H:%M:%S}" if moment else "–"
