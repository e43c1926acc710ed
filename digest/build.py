"""The weekly build: archive -> selection -> summaries -> emails -> edition folder.

    result = build_editions(settings, week="2026-W47")

writes OUT/EDITION/SLUG/{email.html,email.txt,email.mjml,manifest.json} and OUT/EDITION/
index.json; a newsletter that offers topics also gets one variant per set of topics its readers
hold (digest/variants.py), under OUT/EDITION/SLUG/variants/. Everything is rendered in memory
first and the folder is swapped in whole, so a failure never leaves a half-written edition.
Same archive, subscribers, settings and templates: same bytes.

Only drafts are built: a newsletter already sent (or being sent) is frozen, and the build
refuses it; `correction=True` builds sent newsletters again as a new edition, a revision
("2026-W47-r2") with a ledger of its own (digest.editions.lifecycle).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from jinja2 import Environment
from sqlalchemy import Engine

from digest.archive import connect
from digest.archive.articles import load_articles
from digest.checks.run import static_report
from digest.curate import (
    DuplicateIndex,
    EditionPlan,
    Overrides,
    Pick,
    Selection,
    Window,
    edition_plan,
    select,
)
from digest.curate.select import TagCache
from digest.curate.window import resolve_window
from digest.editions import BuiltEdition
from digest.editions.frozen import content_hash
from digest.editions.ids import base_of, revision_id, revision_of
from digest.editions.layout import newsletter_folder
from digest.editions.lifecycle import check_buildable, correction_id, writing
from digest.editions.manifest import dumps, manifest_data
from digest.editions.variants import Variant
from digest.editions.write import write_edition
from digest.errors import DigestError
from digest.forking import can_fork, map_forked, side_by_side
from digest.models import Article
from digest.newsletters import Newsletter, load_newsletters, select_newsletters
from digest.render import (
    Entry,
    Fitted,
    RenderedEmail,
    Timings,
    email_context,
    fit_to_budget,
    render_email,
)
from digest.render.context import article_url
from digest.render.templates import template_env
from digest.settings import Settings
from digest.subscribers.lists import topic_groups
from digest.summarise import Summary, get_summariser, split_sentences, standfirst_summary, summarise
from digest.summarise.model import Usage
from digest.summarise.stored import SentenceStore
from digest.taxonomy import Taxonomy, load_taxonomy
from digest.variants import Cut, cut_to_topics

P = ParamSpec("P")
R = TypeVar("R")
# Articles this close outside the window are reported as "outside the window" when they match.
NEIGHBOUR_DAYS = 3
SIDE_BY_SIDE = 2000  # articles in the window from which indexing them takes two processes
CORRECTION_PREFIX = "Correction: "


@dataclass
class NewsletterResult:
    slug: str
    title: str
    status: str  # "built" | "quiet" (built, nothing in the window) | "empty" (not built)
    subject: str = ""
    articles: int = 0
    more: int = 0
    html_bytes: int = 0
    warnings: list[str] = field(default_factory=list)
    path: Path | None = None
    checks: dict[str, int] = field(default_factory=dict)  # findings by severity (digest.checks)
    variants: list[Variant] = field(default_factory=list)  # cut to readers' topics
    variant_lines: list[str] = field(default_factory=list)  # what happened to each, in words


@dataclass
class BuildResult:
    window: Window
    edition: str  # the edition id: the window's, or a correction's ("2026-W47-r2")
    edition_dir: Path
    newsletters: list[NewsletterResult]
    timings: Timings
    model_usage: Usage | None = None  # what the model backend cost, when it is the one used

    @property
    def built(self) -> list[NewsletterResult]:
        return [n for n in self.newsletters if n.status != "empty"]


def _collector_restored(build: Callable[P, R]) -> Callable[P, R]:
    """The build holds Python's cyclic garbage collector off while it loads and indexes the
    week: articles and indexes hold no reference cycles, yet a 10,000-article week had the
    collector walk everything three times over (0.3 s). It then freezes them (gc.freeze), so
    that later collections, in this process and in the forked ones, skip them (a walk would
    also have each child copy the pages it touched). This puts the collector back as it was,
    however the build ends; refcounting frees the articles all along."""

    @functools.wraps(build)
    def restored(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled, frozen = gc.isenabled(), gc.get_freeze_count()
        try:
            return build(*args, **kwargs)
        finally:
            gc.enable() if enabled else gc.disable()
            if not frozen:  # nobody else had frozen anything: unfreeze what the build did
                gc.unfreeze()

    return restored


@_collector_restored
def build_editions(
    settings: Settings,
    *,
    week: str | None = None,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    newsletters: Sequence[str] | None = None,
    out_dir: Path | None = None,
    quiet_week: bool = False,
    edition_file: Path | None = None,
    pins: Sequence[str] = (),
    drops: Sequence[str] = (),
    subject: str | None = None,
    preheader: str | None = None,
    now: datetime | None = None,
    engine: Engine | None = None,
    refresh_summaries: bool = False,
    correction: bool = False,
    revision: int | None = None,
) -> BuildResult:
    """Build the edition for one window; the library call behind `digest build`.

    `refresh_summaries` asks the model again rather than using its cached answers;
    `correction`: build sent newsletters again as a correction (the next revision of the
    edition); `revision`: build that revision of the edition (the preview's rebuild of one)."""
    timings = Timings()
    started = timings.mark()
    subscribers = Path(settings.subscribers_dir)
    taxonomy = load_taxonomy(subscribers / "taxonomy.toml")
    newsletters_path = subscribers / "newsletters.toml"
    available = load_newsletters(newsletters_path, taxonomy, publisher=settings.publisher_name)
    chosen = select_newsletters(available, list(newsletters or []), newsletters_path)
    plan = edition_plan(edition_file, set(available), pins=list(pins), drops=list(drops),
                        subject=subject, preheader=preheader)
    week = _week_from_plan(plan, week, since, until)
    engine = engine or connect(settings.database)
    window = resolve_window(engine, week=week, since=since, until=until, now=now)
    _check_latest(plan, week, window)
    again = _window_options(window)
    slugs = [n.slug for n in chosen]
    if correction:
        edition_id = correction_id(engine, Path(out_dir or settings.out_dir), window.id, slugs,
                                   again)
    else:
        edition_id = revision_id(window.id, revision or 1)
    check_buildable(engine, edition_id, slugs, again)  # before any work; again under the lease
    record = _edition_record(window, edition_id)
    margin = timedelta(days=NEIGHBOUR_DAYS)
    gc.disable()  # until the week is loaded and indexed (_collector_restored says why)
    stored: dict[str, bytes | None] = {}  # near-duplicate signatures made at ingest
    inferred: dict[str, str | None] = {}  # and the untagged ones' inferred tags
    nearby = load_articles(engine, since=window.since - margin, until=window.until + margin,
                           signatures=stored, inferred=inferred)
    in_window = [a for a in nearby if a.published_at in window]
    neighbours = [a for a in nearby if a.published_at not in window]
    extra = _named_articles(engine, plan, {a.id for a in nearby})
    started = timings.add("load", started)

    tag_cache = TagCache(taxonomy, inferred)
    pinnable = {**extra, **{a.id: a for a in neighbours}}
    duplicates = DuplicateIndex.of(in_window, {})  # none until found below (see index_here)

    def select_for(newsletter: Newsletter, overrides: Overrides) -> Selection:
        return select(newsletter, window, in_window, taxonomy, duplicates=duplicates,
                      overrides=overrides, neighbours=neighbours, extra=pinnable,
                      tag_cache=tag_cache)

    env = template_env(str(settings.templates_dir) if settings.templates_dir else None)
    with _Summaries(settings, engine, refresh_summaries) as summaries:
        maker = _Maker(settings=settings, env=env, summaries=summaries, plan=plan,
                       record=record, engine=engine, taxonomy=taxonomy, quiet_week=quiet_week,
                       select_for=select_for,
                       tags_of=lambda i: _tags_of(i, in_window, pinnable, tag_cache))
        processes = settings.build_processes if _reopenable(engine) else 1
        if summaries.usage is not None:
            # The model's backend keeps its counts, cache and connections in this process,
            # and is handed every summary it will be asked for at once, before any email.
            processes = 1
        big = len(in_window) >= SIDE_BY_SIDE
        warm = big and processes > 1 and len(chosen) > 1 and can_fork()  # (a server: threads)

        def index_here() -> None:
            tag_cache.listed(in_window)  # every article's tags, worked out once for all
            if warm:
                # While the other process is still at the near-duplicates: build the first
                # newsletter once, unfolded, and throw it away. What it loads lazily (compiled
                # templates, the parsed stylesheet, its summaries) the processes that build
                # the newsletters then inherit; they need not wait for one to be built first.
                _freeze_loaded()
                summaries.keep(maker.make(chosen[0]).sentences)

        # Each a tenth of a second in a big week, and independent: a forked copy of this
        # process finds the near-duplicates (only their pairs come back) meanwhile.
        indexing = settings.build_processes if big else 1
        _, edges = side_by_side(index_here,
                                lambda: DuplicateIndex(in_window, indexing, stored).edges,
                                indexing)
        duplicates = DuplicateIndex.of(in_window, edges)
        _freeze_loaded()
        timings.add("curate", started)
        if summaries.usage is not None:
            maker.select_all(chosen, timings)
        # Otherwise each newsletter is curated and rendered by whichever process takes it.
        made = map_forked(lambda i: maker.make(chosen[i]), len(chosen), processes,
                          in_child=lambda: engine.dispose(close=False), first_here=not warm)
        started = timings.mark()
        for one in made:  # what each process worked out, stored once for the next build
            summaries.keep(one.sentences)
        summaries.save()
        timings.add("summarise", started)
    results = [one.result for one in made]
    outputs: dict[str, dict[str, bytes]] = {}
    hashes: dict[str, str] = {}  # what the lease records as built, by slug
    for one in made:
        timings.merge(one.timings)
        if one.result.status != "empty":
            outputs[one.result.slug], hashes[one.result.slug] = one.files, one.hash

    started = timings.mark()
    root = Path(out_dir or settings.out_dir)
    edition_dir = root / edition_id
    if outputs:
        order = list(available)
        given = {"edition_file": str(edition_file.resolve()) if edition_file else None,
                 "pins": list(pins), "drops": list(drops), "subject": subject,
                 "preheader": preheader, "quiet_week": quiet_week}
        with writing(engine, edition_id, slugs, again, settings.send_lease_seconds) as written:
            write_edition(root, record, outputs, [r for r in results if r.status != "empty"],
                          order, build={k: v for k, v in given.items() if v})
            written.update(hashes)
        for r in results:
            if r.status != "empty":
                r.path = edition_dir / r.slug
    timings.add("write", started)
    return BuildResult(window=window, edition=edition_id, edition_dir=edition_dir,
                       newsletters=results, timings=timings, model_usage=summaries.usage)


def _freeze_loaded() -> None:
    """The collector back on, with what the build loaded and indexed so far frozen
    (_collector_restored says why)."""
    gc.freeze()
    gc.enable()


def _window_options(window: Window) -> str:
    """The window as `digest build` options, for hints."""
    if window.week:
        return f"--week {window.id}"
    return f"--since {window.since:%Y-%m-%dT%H:%M:%S} --until {window.until:%Y-%m-%dT%H:%M:%S}"


def _reopenable(engine: Engine) -> bool:
    """Whether a forked child can open this database again (an in-memory one it cannot)."""
    return engine.dialect.name != "sqlite" or engine.url.database not in (None, "", ":memory:")


def _edition_record(window: Window, edition_id: str) -> dict[str, Any]:
    """The edition as index.json and the manifests record it; a correction says what of."""
    record: dict[str, Any] = {**window.to_dict(), "id": edition_id}
    if revision_of(edition_id) > 1:
        record.update(revision_of=base_of(edition_id), revision=revision_of(edition_id))
    return record


@dataclass
class _Made:
    """One newsletter built: its result, its files, their content hash, the time it took, and
    the bodies' sentences its summaries worked out (digest.summarise.stored)."""

    result: NewsletterResult
    files: dict[str, bytes]
    hash: str
    timings: Timings
    sentences: dict[str, str] = field(default_factory=dict)  # worked out, for the next build


@dataclass
class _Maker:
    """What every newsletter of one build is made with. `make` curates and builds one, in
    whichever process takes it (digest.forking hands newsletters to forked copies of this one)."""

    settings: Settings
    env: Environment
    summaries: _Summaries
    plan: EditionPlan
    record: dict[str, Any]
    engine: Engine
    taxonomy: Taxonomy
    quiet_week: bool
    select_for: Callable[[Newsletter, Overrides], Selection]
    tags_of: Callable[[str], frozenset[str]]
    selections: dict[str, Selection] = field(default_factory=dict)  # curated beforehand

    def select_all(self, chosen: Sequence[Newsletter], timings: Timings) -> None:
        """Curate every newsletter now, and hand a backend that works in bulk (the model's)
        every summary the emails will ask for."""
        started = timings.mark()
        for newsletter in chosen:
            self.selections[newsletter.slug] = self.select_for(
                newsletter, self.plan.for_newsletter(newsletter.slug))
        timings.add("curate", started)
        words = self.settings.summary_words
        self.summaries.prefetch(
            ((p.article, s.newsletter.summary_words or words)
             for s in self.selections.values() for p in s.picks
             if p.article.id not in self.plan.for_newsletter(s.newsletter.slug).summaries),
            timings)

    def make(self, newsletter: Newsletter) -> _Made:
        timings = Timings()
        started = timings.mark()
        overrides = self.plan.for_newsletter(newsletter.slug)
        selection = self.selections.get(newsletter.slug)
        if selection is None:
            selection = self.select_for(newsletter, overrides)
        timings.add("curate", started)
        if not selection.picks and not self.quiet_week:
            return _Made(NewsletterResult(newsletter.slug, newsletter.title, "empty",
                                          warnings=["nothing in the window: not built"]),
                         {}, "", timings)
        settings = self.settings
        correction = revision_of(self.record["id"]) > 1
        view_url = f"{settings.base_url.rstrip('/')}/archive/{self.record['id']}/{newsletter.slug}"
        fitted, warnings = _render(selection, overrides, view_url, settings, self.env,
                                   self.summaries, timings, correction=correction)
        cut = None
        if newsletter.topics:

            def render_for(cut_selection: Selection, cut_overrides: Overrides, key: str,
                           topics: list[str]) -> tuple[dict[str, bytes], int, int, list[str]]:
                own_url = f"{view_url}/{key}"  # the variant's own web version
                cut_fitted, cut_warnings = _render(
                    cut_selection, cut_overrides, own_url, settings, self.env, self.summaries,
                    timings, correction=correction, topics=topics)
                files, _ = _files(cut_fitted, cut_selection, cut_warnings, own_url, settings,
                                  self.record, timings)
                return files, len(cut_fitted.entries), cut_fitted.email.html_bytes, cut_warnings

            started = timings.mark()
            cut = cut_to_topics(newsletter, selection, overrides,
                                topic_groups(self.engine, newsletter.slug),
                                _names(self.taxonomy), quiet=settings.variant_quiet,
                                select_for=self.select_for, render_for=render_for,
                                tags_of=self.tags_of)
            timings.add("variants", started)
        files, checks = _files(fitted, selection, warnings, view_url, settings, self.record,
                               timings, cut, self.taxonomy)
        email = fitted.email
        result = _result(newsletter, fitted, warnings, "built" if selection.picks else "quiet",
                         checks)
        if cut is not None:
            files.update(cut.files)
            result.variants, result.variant_lines = cut.variants, cut.summary()
        return _Made(result, files,
                     content_hash(email.subject, email.preheader, email.html, email.text),
                     timings, self.summaries.take_new())


def _render(selection: Selection, overrides: Overrides, view_url: str, settings: Settings,
            env: Environment, summaries: _Summaries, timings: Timings, *, correction: bool,
            topics: Sequence[str] = ()) -> tuple[Fitted, list[str]]:
    """One newsletter's email (cut to `topics`, their names, when given), summarised and
    fitted to the size budget. A correction's subject says so, unless the editor wrote one."""
    newsletter = selection.newsletter
    subject = overrides.subject or (
        CORRECTION_PREFIX + newsletter.subject if correction else newsletter.subject)
    words = newsletter.summary_words or settings.summary_words

    def summary_of(pick: Pick, budget: int) -> Entry:
        return Entry(pick, summaries.get(pick.article, budget, overrides.summaries, timings))

    def build(shown: Sequence[Entry], more: Sequence[Entry]) -> RenderedEmail:
        context = email_context(selection=selection, entries=shown, more=more,
                                settings=settings, subject=subject,
                                preheader=overrides.preheader, view_url=view_url,
                                quiet=not selection.picks, topics=list(topics))
        return render_email(env, context, fonts=settings.email_fonts, timings=timings)

    summaries.read_stored([p.article for p in selection.picks
                           if p.article.id not in overrides.summaries], words, timings)
    fitted = fit_to_budget(
        [summary_of(p, words) for p in selection.picks], words=words,
        limit_kb=settings.size_limit_kb, warn_kb=settings.size_warn_kb, build=build,
        shorten=lambda entry, budget: summary_of(entry.pick, budget),
    )
    warnings = [*selection.warnings, *fitted.warnings]
    warnings += _set_aside(fitted.entries)
    if not selection.picks:
        warnings.insert(0, "nothing in the window: quiet-week email")
    return fitted, warnings


class _Summaries:
    """Summaries by (article, budget), shared across newsletters; editors' own win. The backend
    is opened once per build (the model one holds a connection pool and counts its cost)."""

    def __init__(self, settings: Settings, engine: Engine, refresh: bool) -> None:
        self._backend = get_summariser(settings.summariser, settings=settings, engine=engine,
                                       refresh=refresh)
        self._cache: dict[tuple[str, int], Summary] = {}
        self.usage: Usage | None = getattr(self._backend, "usage", None)

    def __enter__(self) -> _Summaries:
        return self

    def __exit__(self, *exc: object) -> None:
        close = getattr(self._backend, "close", None)
        if close is not None:
            close()

    def prefetch(self, wanted: Iterable[tuple[Article, int]], timings: Timings) -> None:
        """Hand a backend that works in bulk (the model's) everything it will be asked for."""
        prefetch = getattr(self._backend, "prefetch", None)
        if prefetch is None:
            return
        started = timings.mark()
        prefetch([(a, w) for a, w in wanted if standfirst_summary(a, w) is None])
        timings.add("summarise", started)

    @property
    def _store(self) -> SentenceStore | None:
        store = getattr(self._backend, "store", None)  # the extractive backend's
        return store if isinstance(store, SentenceStore) else None

    def read_stored(self, articles: Sequence[Article], words: int, timings: Timings) -> None:
        """Read, in one query, the stored sentences of the bodies the extractive backend will be
        asked to summarise (those whose standfirst does not fit `words`)."""
        if self._store is None:
            return
        started = timings.mark()
        self._store.load(tuple(a.paragraphs) for a in articles
                         if standfirst_summary(a, words) is None)
        timings.add("summarise", started)

    def take_new(self) -> dict[str, str]:
        """The bodies' sentences the backend worked out since the last call (forked processes
        hand them back to the one that stores them)."""
        return self._store.take_new() if self._store else {}

    def keep(self, sentences: dict[str, str]) -> None:
        if self._store and sentences:
            self._store.keep(sentences)

    def save(self) -> None:
        """Store what this build worked out, for the next one."""
        if self._store:
            self._store.save()

    def get(self, article: Article, words: int, written: dict[str, str],
            timings: Timings) -> Summary:
        if article.id in written:
            text = written[article.id]
            return Summary(text=text, method="editor", sentences=len(split_sentences(text)),
                           words=len(text.split()))
        key = (article.id, words)
        if key not in self._cache:
            started = timings.mark()
            self._cache[key] = summarise(article, max_words=words, backend=self._backend)
            timings.add("summarise", started)
        return self._cache[key]


def _set_aside(entries: Sequence[Entry]) -> list[str]:
    """A warning per model summary the guard (or the budget) turned down."""
    warnings = []
    for entry in entries:
        verdict = getattr(entry.summary, "model", None)
        if verdict is not None and not verdict.accepted:
            warnings.append(f"{entry.pick.article.id}: the model's summary was set aside "
                            f"({verdict.detail}); the {entry.summary.method} one is used")
    return warnings


def _week_from_plan(plan: EditionPlan, week: str | None, since: object,
                    until: object) -> str | None:
    if not plan.week:
        return week
    if week and week.strip().lower() != "latest" and week.strip().upper() != plan.week.upper():
        raise DigestError(f"--week {week} differs from week = {plan.week!r} in {plan.source}",
                          hint="Build the week the edition file was written for, or edit it.")
    if since or until:
        raise DigestError(f"{plan.source} is for week {plan.week}; drop --since/--until")
    return week or plan.week


def _check_latest(plan: EditionPlan, week: str | None, window: Window) -> None:
    """`--week latest` with a file written for a week: fine only when they are the same week
    (the file's pins, drops and summaries were chosen for that week and no other)."""
    if plan.week and (window.week or "").upper() != plan.week.strip().upper():
        raise DigestError(
            f"--week {week} is {window.id} (the newest article's week), but {plan.source} "
            f"is for week = {plan.week!r}",
            hint=f"Build --week {plan.week} (or leave --week out), or edit the edition file.",
        )


def _named_articles(engine: Engine, plan: EditionPlan, loaded: set[str]) -> dict[str, Article]:
    """Articles an override names that are not near the window; unknown ids are errors."""
    wanted = plan.article_ids() - loaded
    if not wanted:
        return {}
    found = {article.id: article for article in load_articles(engine, ids=wanted)}
    missing = sorted(wanted - set(found))
    if missing:
        raise DigestError(
            f"{plan.source}: no article with id {', '.join(map(repr, missing))} in the archive",
            hint="Check the id in the manifest.json of a previous build, or `digest ingest` it.",
        )
    return found


def _files(fitted: Fitted, selection: Selection, warnings: list[str], view_url: str,
           settings: Settings, record: dict[str, Any], timings: Timings,
           cut: Cut | None = None,
           taxonomy: Taxonomy | None = None) -> tuple[dict[str, bytes], dict[str, int]]:
    """The newsletter's four files (or a variant's), its static checks' findings recorded in
    the manifest; the full edition of a newsletter with topics lists its variants too."""
    started = timings.mark()
    email = fitted.email
    extra = None
    if cut is not None and taxonomy is not None:
        extra = {"topics": [{"slug": t, "name": taxonomy.name_of(t)}
                            for t in selection.newsletter.topics],
                 "readers": cut.readers_full,
                 "variants": [v.to_dict() for v in cut.variants]}
    data = manifest_data(selection, fitted, warnings, view_url,
                         lambda p: article_url(p, settings), edition=record, extra=extra)
    edition, slug = record["id"], selection.newsletter.slug
    folder = newsletter_folder(Path(settings.out_dir), edition, slug)
    built = BuiltEdition(edition, slug, folder, email.html, email.text, data)
    started = timings.add("write", started)
    report = static_report(settings, built)
    data["checks"] = report.to_dict()
    started = timings.add("checks", started)
    files = {
        "email.html": email.html.encode(),
        "email.txt": email.text.encode(),
        "email.mjml": email.mjml.encode(),
        "manifest.json": dumps(data),
    }
    timings.add("write", started)
    return files, report.counts()


def _names(taxonomy: Taxonomy) -> dict[str, str]:
    return {slug: tag.name for slug, tag in taxonomy.tags.items()}


def _tags_of(article_id: str, in_window: Sequence[Article], extra: dict[str, Article],
             cache: TagCache) -> frozenset[str]:
    """The tag slugs of a pinned article (a pin stays in a variant only when on its topics)."""
    article = extra.get(article_id) or next((a for a in in_window if a.id == article_id), None)
    return cache.get(article).slugs if article is not None else frozenset()


def _result(newsletter: Newsletter, fitted: Fitted, warnings: list[str],
            status: str, checks: dict[str, int]) -> NewsletterResult:
    return NewsletterResult(
        slug=newsletter.slug, title=newsletter.title, status=status,
        subject=fitted.email.subject, articles=len(fitted.entries), more=len(fitted.more),
        html_bytes=fitted.email.html_bytes, warnings=warnings, checks=checks,
    )
