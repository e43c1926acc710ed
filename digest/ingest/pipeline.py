"""The ingest run: sources in, articles saved in batches, a report out.

Sources are read one at a time and articles saved every `batch_size`, so memory stays flat
however many files there are. A bad record becomes a rejection in the report and the run goes on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

import digest.ingest.readers  # noqa: F401  (registers the built-in readers)
from digest.archive.articles import (
    Outcome,
    Version,
    classify,
    known_versions,
    save_articles,
)
from digest.errors import DigestError, InputError
from digest.ingest.registry import ReadResult, Source, choose
from digest.ingest.report import IngestReport, SourceReport
from digest.ingest.sources import Skipped, expand, fetch, load, looks_like_url
from digest.ingest.text import hashed_id, untextual_problem
from digest.models import Article
from digest.settings import Settings
from digest.taxonomy import Taxonomy, load_taxonomy

BATCH_SIZE = 1000
# Ids go into URLs and file names: a guid such as a long article URL is replaced by its hash.
_PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


def ingest(
    sources: Iterable[str],
    engine: Engine | None,
    settings: Settings,
    *,
    dry_run: bool = False,
    on_article: Callable[[Article], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> IngestReport:
    """Read every source (file, folder or http(s) URL) and save what parses into the archive.

    With `dry_run` nothing is written; the report still says what would be new, updated or
    unchanged (against `engine`, or as if the archive were empty when `engine` is None).
    `on_article` sees every parsed article, finished (id, url, source), in reading order.
    """
    if engine is None and not dry_run:
        raise ValueError("an engine is needed unless dry_run is set")
    report = IngestReport(dry_run=dry_run)
    saver = _Saver(engine, dry_run, batch_size, None if dry_run else _taxonomy(settings))
    finish = _finisher(settings)
    for source, row in _sources(sources, settings, report):
        try:
            reader = choose(source)
        except InputError as error:
            report.reject(row, error)
            continue
        row.reader = reader.name
        for result in _guarded(reader.read(source), reader.name, source):
            if isinstance(result, InputError):
                report.reject(row, result)
                continue
            article = finish(result, source)
            if problem := untextual_problem(article.to_dict()):  # any reader, plug-ins too
                report.reject(row, InputError(source.name, f"article {article.id!r} {problem}"))
                continue
            if on_article is not None:
                on_article(article)
            saver.add(article, row)
    saver.flush()
    return report


def _sources(
    specs: Iterable[str], settings: Settings, report: IngestReport
) -> Iterator[tuple[Source, SourceReport]]:
    """Each source loaded, with its report row; what cannot be loaded is rejected on the way."""
    for spec in specs:
        if looks_like_url(spec):
            loaded: Source | InputError = fetch(
                spec, timeout=settings.fetch_timeout, max_bytes=settings.fetch_max_bytes
            )
            row = report.row(spec)
            if isinstance(loaded, InputError):
                report.reject(row, loaded)
            else:
                yield loaded, row
            continue
        for item in expand(spec, avoid=_own_files(settings)):
            if isinstance(item, Skipped):
                report.skipped.append(item)
            elif isinstance(item, InputError):
                report.reject(report.row(item.where), item)
            else:
                loaded = load(item, str(item))
                row = report.row(str(item))
                if isinstance(loaded, InputError):
                    report.reject(row, loaded)
                else:
                    yield loaded, row


def _own_files(settings: Settings) -> list[Path]:
    """The data folder and a SQLite archive (with its journal files): never articles."""
    own = [settings.data_dir]
    url = make_url(settings.database)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        own += [Path(url.database + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    return own


def _guarded(
    results: Iterator[ReadResult], reader: str, source: Source
) -> Iterator[ReadResult]:
    """A reader's results; a reader that crashes rejects its source instead of the whole run."""
    try:
        yield from results
    except Exception as exc:  # third-party readers and parser libraries can fail on odd input
        yield InputError(
            source.name,
            f"the {reader} reader failed: {type(exc).__name__}: {exc}",
            hint="This looks like a bug in the reader; please report it with this file.",
        )


def _finisher(settings: Settings) -> Callable[[Article, Source], Article]:
    prefix, _, suffix = settings.article_url_template.partition("{id}")

    def finish(article: Article, source: Source) -> Article:
        raw = article.id.strip()
        if prefix and raw.startswith(prefix) and raw.endswith(suffix):
            raw = raw[len(prefix) : len(raw) - len(suffix)]  # our own article URL as a guid
        article.id = raw if _PLAIN_ID.match(raw) else hashed_id(raw)
        if not article.url:
            article.url = settings.article_url(article.id)
        article.source = source.name
        return article

    return finish


def _taxonomy(settings: Settings) -> Taxonomy | None:
    """The taxonomy an untagged article's tags are inferred with when it is stored, so that a
    build need not; without one (missing, or wrong: the build says what is wrong with it),
    the build infers them."""
    try:
        return load_taxonomy(Path(settings.subscribers_dir) / "taxonomy.toml")
    except DigestError:
        return None


class _Saver:
    """Collects articles and saves them a batch at a time, counting outcomes per source."""

    def __init__(self, engine: Engine | None, dry_run: bool, batch_size: int,
                 taxonomy: Taxonomy | None) -> None:
        self.engine = engine
        self.taxonomy = taxonomy
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.pending: list[tuple[Article, SourceReport]] = []
        # In a dry run nothing reaches the database, so later batches must see earlier ones here.
        self.seen: dict[str, Version] = {}

    def add(self, article: Article, row: SourceReport) -> None:
        self.pending.append((article, row))
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch = [article for article, _ in self.pending]
        if self.dry_run:
            outcomes = self._preview(batch)
        else:
            assert self.engine is not None  # ingest() checks it
            outcomes = save_articles(self.engine, batch, taxonomy=self.taxonomy)
        for (_, row), outcome in zip(self.pending, outcomes, strict=True):
            row.count(outcome)
        self.pending.clear()

    def _preview(self, batch: list[Article]) -> list[Outcome]:
        missing = {a.id for a in batch} - self.seen.keys()
        if self.engine is not None and missing:
            with self.engine.connect() as conn:
                self.seen.update(known_versions(conn, missing))
        outcomes: list[Outcome] = []
        for article in batch:
            digest = article.content_hash()
            outcome = classify(article, digest, self.seen.get(article.id))
            if outcome in ("new", "updated"):
                self.seen[article.id] = (digest, article.revised_at)
            outcomes.append(outcome)
        return outcomes
