"""`digest build`: this week's newsletters, from the archive to an edition folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from digest.cli.app import app
from digest.cli.common import console, escape, load_settings, user_errors

if TYPE_CHECKING:
    from rich.console import Console

    from digest.build import BuildResult
    from digest.settings import Settings


@app.command("build")
def build_command(
    week: str | None = typer.Option(
        None, "--week", "-w", help="ISO week such as 2026-W47 (Monday to Sunday, UTC), or "
        "'latest' for the week of the newest article. Default: the seven days up to now."),
    since: str | None = typer.Option(
        None, "--since", help="Window start: a date (2026-11-02) or ISO time, UTC."),
    until: str | None = typer.Option(
        None, "--until", help="Window end, inclusive: a date means the whole day."),
    newsletter: list[str] | None = typer.Option(
        None, "--newsletter", "-n", help="Build only this newsletter (slug); repeatable."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default: DIGEST_OUT_DIR)."),
    quiet_week: bool = typer.Option(
        False, "--quiet-week", help="Build a short 'quiet week' email for newsletters with "
        "nothing in the window (otherwise they are reported and skipped)."),
    edition_file: Path | None = typer.Option(
        None, "--edition-file", "-e", help="TOML file of this edition's overrides: pin, drop, "
        "hand-written summaries, subject, preheader (overall or per newsletters.SLUG table)."),
    pin: list[str] | None = typer.Option(
        None, "--pin", help="Always include this article id, first; repeatable."),
    drop: list[str] | None = typer.Option(
        None, "--drop", help="Leave this article id out; repeatable."),
    subject: str | None = typer.Option(
        None, "--subject", help="Subject line (a template: {{ edition.label }}, "
        "{{ lead.title }}) for every newsletter built."),
    preheader: str | None = typer.Option(
        None, "--preheader", help="Preheader (preview text) for every newsletter built."),
    open_preview: bool = typer.Option(
        False, "--open", help="Then serve the preview of this edition and open the browser."),
    refresh_summaries: bool = typer.Option(
        False, "--refresh-summaries", help="With DIGEST_SUMMARISER=model: ask the model again "
        "instead of reusing its cached summaries (costs tokens; the new answers are cached)."),
    correction: bool = typer.Option(
        False, "--correction", help="Build newsletters already sent again, as a correction: "
        "a new edition (2026-W47-r2) with a ledger of its own; the sent one stays as it was."),
    check: bool = typer.Option(
        False, "--check", help="Then run every pre-send check (Chromium and SpamAssassin "
        "too), as `digest check` does; the build itself runs the quick ones."),
) -> None:
    """Pick, summarise and render each newsletter's articles into OUT/EDITION/SLUG/.

    A newsletter already sent is frozen: building it again is refused (--correction builds a
    correction instead)."""
    settings = load_settings()
    with user_errors():
        result = run_build(settings, week=week, since=since, until=until,
                           newsletters=newsletter, out_dir=out, quiet_week=quiet_week,
                           edition_file=edition_file, pins=pin or [], drops=drop or [],
                           subject=subject, preheader=preheader,
                           refresh_summaries=refresh_summaries, correction=correction)
    show_result(result, settings, console)
    if check and result.built:
        from digest.checks import check_edition
        from digest.cli.check import show_checked

        checked_settings = settings if out is None else settings.model_copy(
            update={"out_dir": out})
        with user_errors():
            checked = check_edition(checked_settings, result.edition,
                                    [r.slug for r in result.built])
        show_checked(checked, console)
        if any(item.report.errors for item in checked):
            raise typer.Exit(1)
    if open_preview and result.built:
        from digest.web.preview.server import serve_preview

        if out is not None:
            settings = settings.model_copy(update={"out_dir": out})
        with user_errors():
            serve_preview(settings, open_path=f"/preview/{result.edition}")


def run_build(settings: Settings, **options: object) -> BuildResult:
    """The library call, kept apart so other commands (and `--open`) can reuse it."""
    from digest.build import build_editions

    return build_editions(settings, **options)  # type: ignore[arg-type]


def show_result(result: BuildResult, settings: Settings, out: Console) -> None:
    """The closing table: newsletter, articles, size, warnings; then where the files are."""
    from rich.table import Table

    correction = (f" · a correction of {result.window.id}"
                  if result.edition != result.window.id else "")
    table = Table(title=f"Edition {result.edition} · {result.window.label}{correction}",
                  title_justify="left", show_lines=False)
    table.add_column("newsletter")
    table.add_column("articles", justify="right")
    table.add_column("size", justify="right")
    table.add_column("warnings", overflow="fold")
    table.add_column("checks")
    warn_at = settings.size_warn_kb * 1024
    for item in result.newsletters:
        if item.status == "empty":
            table.add_row(item.slug, "–", "–", "[yellow]nothing in the window: not built "
                          "(--quiet-week builds a short email)[/]", "–")
            continue
        count = str(item.articles) + (f" + {item.more} more" if item.more else "")
        size = f"{item.html_bytes / 1024:.1f} KB"
        if item.html_bytes > warn_at:
            size = f"[yellow]{size}[/]"
        notes = "\n".join(escape(w) for w in item.warnings) or "[green]none[/]"
        table.add_row(item.slug, count, size, notes, _checks(item.checks))
    out.print(table)
    if result.model_usage is not None:
        usage = result.model_usage
        style = "yellow" if usage.failed or usage.set_aside else "green"
        out.print(f"[{style}]{escape(usage.describe())}[/]", highlight=False, soft_wrap=True)
    if any(item.checks.get("error") for item in result.newsletters):
        out.print(f"[bold red]Checks found errors:[/] see them with [bold]digest check "
                  f"{result.edition}[/] or in the preview's Checks tab.", highlight=False)
    for item in result.newsletters:
        if item.variant_lines:
            built = sum(v.status == "built" for v in item.variants)
            out.print(f"[bold]{item.slug}[/]: {built} variant(s) cut to readers' topics",
                      highlight=False)
            for line in item.variant_lines:
                style = "yellow" if "SKIPPED" in line else "default"
                out.print(f"  [{style}]{escape(line)}[/]", highlight=False)
    if result.built:
        out.print(f"Wrote {len(result.built)} newsletter(s) to [bold]{result.edition_dir}[/] "
                  "(email.html, email.txt, email.mjml, manifest.json each).", highlight=False)
        out.print("Preview them with [bold]digest preview[/].")
    else:
        out.print("[yellow]Nothing built:[/] no newsletter had articles in the window.")


def _checks(counts: dict[str, int]) -> str:
    """The quick checks' verdict, as counts (`digest check` lists the findings)."""
    errors, warnings = counts.get("error", 0), counts.get("warning", 0)
    if not errors and not warnings:
        return "[green]ok[/]"
    parts = [f"[bold red]{errors} error{'s' * (errors != 1)}[/]"] if errors else []
    if warnings:
        parts.append(f"[yellow]{warnings} warning{'s' * (warnings != 1)}[/]")
    return ", ".join(parts)
