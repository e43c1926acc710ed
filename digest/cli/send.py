"""`digest send EDITION --newsletter SLUG`: deliver a built edition, resumably."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from digest.cli.app import app
from digest.cli.common import console, err, escape, fail, load_settings, user_errors

FULL = ""  # the full edition's key among the copies (digest.send.routing.FULL)

if TYPE_CHECKING:
    from rich.console import Console

    from digest.send.backends import Retry
    from digest.send.runner import SendPlan, SendReport
    from digest.settings import Settings


@app.command("send")
def send_command(
    edition: str = typer.Argument(..., help="Edition id, e.g. 2026-W47 (built by `digest build`)."),
    newsletter: str = typer.Option(
        ..., "--newsletter", "-n", help="Slug of the newsletter to send."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Send without asking first."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be sent; send nothing."),
    resend_in_doubt: bool = typer.Option(
        False,
        "--resend-in-doubt",
        help="Also send to the recipients in doubt (the provider's answer was lost, or an "
        "earlier run died while their batch was with it): they may get the edition twice.",
    ),
    test: list[str] = typer.Option(
        None,
        "--test",
        metavar="ADDRESS",
        help="Send a test to ADDRESS instead (repeat, or separate with commas): subject "
        "prefixed [TEST], the ledger untouched.",
    ),
    force: bool = typer.Option(
        False, "--force", help="Send even though the pre-send checks found errors (the send "
        "is recorded with who forced it and when; `digest status` shows it)."),
    switch_sender: bool = typer.Option(
        False, "--switch-sender", help="Carry on a send begun through another backend through "
        "this one (DIGEST_SENDER); without it such a send is refused."),
    variant: str = typer.Option(
        "", "--variant", metavar="KEY", help="With --test: send the variant cut to these "
        "topics (e.g. ai-policy+trade, as `digest build` listed it) instead of the full edition.",
    ),
) -> None:
    """Send a built edition of a newsletter to its subscribers.

    Safe to run again: only those not yet sent to get it. Exits 1 when anything failed or is in
    doubt.
    """
    from digest.send.runner import plan_send, settle_left_behind
    from digest.send.testsend import send_test

    settings = load_settings()
    if variant and not test:
        raise fail("--variant goes with --test: a real send gives every reader the variant "
                   "for their own topics.")
    with user_errors():
        if test:
            addresses = [a.strip() for item in test for a in item.split(",") if a.strip()]
            sent = send_test(settings, edition, newsletter, addresses, variant=variant)
            for address, provider_id in sent:
                console.print(
                    f"test sent to {escape(address)} via {settings.sender} ({escape(provider_id)})"
                )
            return
        plan = plan_send(settings, edition, newsletter, resend_in_doubt=resend_in_doubt,
                         switch_sender=switch_sender)
        _show_plan(plan)
        if not plan.frozen and (plan.recipients or dry_run):
            _checks(settings, plan, force=force, dry_run=dry_run)
        if dry_run:
            console.print("[bold]dry run:[/] nothing was sent.")
            return
        if plan.recipients == 0 and not plan.skipped:
            if not (plan.in_doubt or plan.already_sent or plan.suppressed):
                raise fail(
                    f"nobody to send to: the {plan.newsletter} list is empty in the "
                    f"database. Run `digest subscribers sync {plan.newsletter}` first."
                )
            if plan.in_doubt:
                settle_left_behind(settings, plan.edition, plan.newsletter)
                raise fail(f"nothing new to send; {plan.in_doubt:,} in doubt (see above).")
            console.print("Nothing to send: everyone on the list has it already.")
            return
        if not yes and plan.recipients:  # (only skips to record: nobody is mailed, no question)
            if not sys.stdin.isatty():
                raise fail(
                    "not sending without a confirmation, and there is no terminal to ask "
                    "on: add --yes to send."
                )
            question = f"Send to {plan.recipients:,} recipients via {plan.backend}?"
            if not typer.confirm(question, default=False):
                raise fail("not sent.")
        try:
            report = _send_with_progress(settings, plan, force=force,
                                         switch_sender=switch_sender)
        except KeyboardInterrupt:
            raise fail(
                "interrupted. The batch being sent is now in doubt; run the same command "
                "again to send to the rest.",
                code=130,
            ) from None
    _show_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _checks(settings: Settings, plan: SendPlan, *, force: bool, dry_run: bool) -> None:
    """The pre-send checks' verdict on what this send would freeze: refuse on errors (exit 1)
    unless forced. The checks that have not run on this content run now (a few seconds)."""
    from digest.checks.gate import ChecksFailed, gate_send
    from digest.editions import load_built

    built = load_built(settings.out_dir, plan.edition, plan.newsletter)
    with console.status("pre-send checks (Chromium and SpamAssassin, if not run yet)…"):
        try:
            verdict = gate_send(settings, built, force=force or dry_run)
        except ChecksFailed as exc:
            raise fail(escape(str(exc))) from None
    counts = verdict.report.counts()
    line = f"  checks      {counts['error']} error(s), {counts['warning']} warning(s)"
    if verdict.errors and dry_run and not force:
        console.print(line + " [bold red]· a real send is refused unless --force[/]")
    elif verdict.errors:
        console.print(line + f" [bold red]· forced by {escape(verdict.forced_by or '?')}: "
                      "the send is recorded as forced[/]", highlight=False)
    else:
        console.print(line, highlight=False)


def _send_with_progress(settings: Settings, plan: SendPlan, *, force: bool,
                        switch_sender: bool) -> SendReport:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    from digest.send.runner import run_send

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f}/s" if speed else "–/s", style="progress.data.speed")

    columns = (
        TextColumn("sending"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("send", total=plan.recipients)

        def retrying(exc: Retry, delay: float) -> None:
            progress.console.print(f"[yellow]retrying in {delay:.1f}s:[/] {escape(exc.message)}")

        return run_send(
            settings,
            plan.edition,
            plan.newsletter,
            resend_in_doubt=plan.resend_in_doubt,
            progress=lambda n: progress.advance(task, n),
            on_retry=retrying,
            force=force,
            switch_sender=switch_sender,
        )


def _show_plan(plan: SendPlan) -> None:
    console.print(f"[bold]{escape(plan.title)}[/] ({plan.newsletter}), edition {plan.edition}")
    console.print(f"  subject     {escape(plan.subject)}")
    console.print(f"  backend     {plan.backend}")
    state = {"draft": "draft (the first send freezes it)",
             "sending": "sending (frozen; sends the frozen copy)",
             "sent": "sent (frozen; sends the frozen copy)"}.get(plan.state, plan.state)
    console.print(f"  state       {state}")
    if plan.note:
        console.print(f"  [yellow]note[/]        {escape(plan.note)}")
    console.print(
        f"  recipients  {plan.recipients:,}  (already sent {plan.already_sent:,}, "
        f"suppressed {plan.suppressed:,}, failed last time {plan.failed_before:,})"
    )
    if set(plan.copies) - {FULL} or plan.skipped:
        copies = [f"{'full edition' if key == FULL else key} {n:,}"
                  for key, n in sorted(plan.copies.items(), key=lambda kv: (kv[0] != FULL, kv))]
        console.print(f"  versions    {escape(' · '.join(copies))}", highlight=False)
        if plan.skipped:
            console.print(f"  [yellow]skipped[/]     {plan.skipped:,} (no story on their topics "
                          "this week, DIGEST_VARIANT_QUIET=skip; recorded in the ledger)")
        if plan.unforeseen:
            console.print(f"  [yellow]note[/]        {plan.unforeseen:,} chose their topics "
                          "after the build: they get the full edition (rebuild to cut theirs)")
    if plan.in_doubt:
        action = (
            "sent again now"
            if plan.resend_in_doubt
            else "left alone; `digest settle` records what the provider's log shows, "
            "--resend-in-doubt sends them again"
        )
        console.print(f"  [yellow]in doubt[/]    {plan.in_doubt:,} ({action}):")
        _addresses(plan.in_doubt_sample, plan.in_doubt)
        if plan.in_doubt_csv.exists():
            console.print(f"    full list: {escape(str(plan.in_doubt_csv))}", highlight=False)


def _show_report(report: SendReport) -> None:
    plan = report.plan
    colour = "green" if report.ok else "red"
    console.print(
        f"[{colour}]sent {report.sent:,}[/], suppressed {plan.suppressed:,}, "
        f"failed {report.failed:,}, in doubt {report.in_doubt:,}"
        + (f", retries {report.retries:,}" if report.retries else "")
        + f" ({report.seconds:.1f}s"
        + (f", {report.sent / report.seconds:,.0f}/s)" if report.seconds and report.sent else ")")
    )
    if set(report.copies) - {FULL} or report.skipped:
        copies = [f"{'full edition' if key == FULL else key} {n:,}"
                  for key, n in sorted(report.copies.items(), key=lambda kv: (kv[0] != FULL, kv))]
        skipped = f"; skipped {report.skipped:,} (no story on their topics)" if report.skipped \
            else ""
        console.print(f"  by version: {escape(' · '.join(copies))}{skipped}", highlight=False)
    for address, why in report.failures:
        err.print(f"  failed: {escape(address)}: {escape(why)}", highlight=False, soft_wrap=True)
    if report.failed > len(report.failures):
        err.print(f"  ... and {report.failed - len(report.failures):,} more")
    if report.in_doubt:
        err.print(
            f"[yellow]in doubt: {report.in_doubt:,}[/] (the provider may or may not have taken "
            "them; check its activity log, then settle each batch with `digest settle "
            "EDITION -n SLUG --batch N --delivered` or `--not-delivered` (or recipient by "
            "recipient: --recipient EMAIL, --recipients FILE), or run again with "
            "--resend-in-doubt for all of them):"
        )
        _addresses(report.in_doubt_sample, report.in_doubt, err)
        if report.in_doubt_csv is not None:
            err.print(f"  full list: {escape(str(report.in_doubt_csv))}", highlight=False)
    if report.stopped:
        err.print(f"[bold red]stopped:[/] {escape(report.stopped)}")
        err.print(
            "Fix the cause and run the same command again: it sends only to those not yet sent to."
        )


def _addresses(sample: list[str], total: int, where: Console = console) -> None:
    more = f" and {total - len(sample):,} more" if total > len(sample) else ""
    where.print("    " + ", ".join(sample) + more, highlight=False, markup=False, soft_wrap=True)
