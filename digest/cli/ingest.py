"""`digest ingest` (sources into the archive) and `digest articles` (what the archive holds)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from digest.cli.app import app
from digest.cli.common import console, err, load_settings, user_errors
from digest.errors import DigestError

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine

    from digest.ingest import IngestReport, SourceReport
    from digest.models import Article
    from digest.settings import Settings


@app.command("ingest")
def ingest_command(
    sources: list[str] | None = typer.Argument(
        None,
        metavar="PATH_OR_URL",
        help="Files, folders (read recursively) or http(s) feed URLs. "
        "None: the bundled sample articles.",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Parse and report what would change; write nothing."
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print each parsed article as one JSON object a line, nothing else on stdout "
        "(rejections go to stderr). Articles are still saved unless --dry-run is given.",
    ),
) -> None:
    """Read articles (page-text exports, Markdown, JSON, JSON Lines, RSS/Atom) into the archive.

    Exits 1 when any file or record was rejected; everything else is still saved.
    """
    from rich.text import Text

    from digest.archive import connect
    from digest.ingest import ingest

    settings = load_settings()
    with user_errors():
        targets = list(sources or []) or [str(_sample())]
        if not sources and not as_json:
            note = f"Ingesting the bundled sample articles ({targets[0]})"
            console.print(Text(note, style="dim"))
        engine = _dry_run_engine(settings) if dry_run else connect(settings.database)
        report = ingest(
            targets, engine, settings, dry_run=dry_run, on_article=_print_json if as_json else None
        )
    if as_json:
        _print_rejections(report, err)
    else:
        _print_report(report, console)
    if not report.ok:
        raise typer.Exit(1)


@app.command("articles")
def articles_command(
    tag: str | None = typer.Option(
        None, "--tag", help="Only articles with this tag (name or slug)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Published at or after: YYYY-MM-DD, ISO date-time or ISO week."
    ),
    until: str | None = typer.Option(
        None, "--until", help="Published at or before (a day counts whole): same forms."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per article, a line each."),
) -> None:
    """List what the archive holds, newest first."""
    from rich.table import Table
    from rich.text import Text

    from digest.archive import connect
    from digest.archive.articles import load_articles
    from digest.models import slugify

    settings = load_settings()
    with user_errors():
        start = _bound(since, "--since", end=False)
        stop = _bound(until, "--until", end=True)
        if start and stop and start > stop:
            raise DigestError(f"--since ({since}) is after --until ({until})",
                              hint="Swap the two dates.")
        found = load_articles(
            connect(settings.database), since=start, until=stop, tag=slugify(tag) if tag else None
        )
    if as_json:
        for article in found:
            _print_json(article)
        return
    if not found:
        console.print("The archive holds no articles" + (" matching that." if
                      tag or since or until else ". Add some with `digest ingest`."))
        return
    table = Table("published (UTC)", "id", "kind", "title", "tags", box=None)
    for column in table.columns[:2]:
        column.no_wrap = True  # a date or an id cut in two is no use
    for article in found:
        tags = ", ".join(f"{t.name}*" if t.inferred else t.name for t in article.tags)
        table.add_row(
            f"{article.published_at:%Y-%m-%d %H:%M}", article.id, article.kind or "",
            Text(article.title), Text(tags),
        )
    console.print(table)
    marked = any(t.inferred for a in found for t in a.tags)
    note = " * tag inferred from keywords." if marked else ""
    console.print(f"{len(found)} article(s).{note}")


def _sample() -> Path:
    from digest.ingest import sample_corpus

    path = sample_corpus()
    if not path.is_dir():
        raise DigestError(
            f"the bundled sample articles are missing ({path})",
            hint="Reinstall the package, or name the files to ingest: digest ingest PATH ...",
        )
    return path


def _dry_run_engine(settings: Settings) -> Engine | None:
    """The archive to compare against, without creating one just for a dry run."""
    from sqlalchemy.engine import make_url

    from digest.archive import connect

    url = make_url(settings.database)
    database = url.database
    if (
        url.get_backend_name() == "sqlite"
        and database
        and database != ":memory:"
        and not Path(database).exists()
    ):
        return None
    return connect(settings.database)


def _bound(text: str | None, option: str, *, end: bool) -> datetime | None:
    if text is None:
        return None
    from digest.ingest.dates import parse_bound

    try:
        return parse_bound(text, end=end)
    except ValueError as exc:
        raise DigestError(
            f"{option}: {exc}",
            hint="Use a day (2026-11-02), a date-time (2026-11-02T09:00Z) "
            "or an ISO week (2026-W45).",
        ) from None


def _print_json(article: Article) -> None:
    typer.echo(json.dumps(article.to_dict(), ensure_ascii=False))


def _print_report(report: IngestReport, out: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    title = "Dry run: nothing was written" if report.dry_run else None
    table = Table("source", "format", "new", "updated", "unchanged", "rejected",
                  title=title, box=None)
    table.columns[0].overflow = "fold"  # paths have no spaces to wrap at
    for column in table.columns[2:]:
        column.justify = "right"
    for row in report.sources:
        table.add_row(Text(_short(row.source)), row.reader or "-", *_counts(row))
    total = report.total()
    table.add_section()
    table.add_row(Text("total", style="bold"), "", *_counts(total))
    out.print(table)
    if total.stale:
        out.print(f"{total.stale} older version(s) counted as unchanged: "
                  "the archive already holds a newer revision of those stories.")
    for skipped in report.skipped:
        out.print(Text(f"skipped {_short(skipped.name)} ({skipped.reason})", style="dim"))
    _print_rejections(report, out)


def _print_rejections(report: IngestReport, out: Console) -> None:
    if not report.rejections:
        return
    from rich.text import Text

    out.print(Text(f"{len(report.rejections)} rejected:", style="bold red"))
    for error in report.rejections:
        location = f"{error.where}:{error.line}" if error.line is not None else error.where
        text = f"  {location}: {error.problem}"
        if error.hint:
            text += f" — {error.hint}"
        out.print(Text(text), soft_wrap=True)


def _counts(row: SourceReport) -> list[str]:
    return [str(row.new), str(row.updated), str(row.unchanged), str(row.rejected)]


def _short(name: str) -> str:
    """A source name relative to the sample corpus or the current folder, when it is inside."""
    if "://" in name:
        return name
    from digest.ingest import sample_corpus

    path = Path(os.path.abspath(name))  # not resolve(): a symlink is shown as itself
    for base in (sample_corpus(), Path.cwd()):
        try:
            return str(path.relative_to(os.path.abspath(base)))
        except ValueError:
            continue
    return name
