"""Sending an edition of a newsletter to its subscribers, batch by batch, through the ledger.

A send holds the edition's send lease (in the database) throughout. The first real send
freezes the copy readers get (digest.editions.frozen); every run sends that copy. For every
batch: claim it in the ledger as in flight (committed), hand it to the backend (retrying what
provably did not arrive), then record what became of each recipient: sent with the provider's
id, failed with the provider's reason, or in doubt when the answer was lost. A 401/403 or a
refused login stops the whole send at once; so do several batches in doubt in a row.

A newsletter that offers topics sends each reader the copy for their topics (routing.py): its
variants go in batches of their own, each through a backend of its own, and the ledger records
which copy each recipient got; readers left with nothing this week are recorded as skipped.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from digest.archive import connect
from digest.checks.gate import gate_send
from digest.editions import BuiltEdition, check_names
from digest.editions.frozen import edition_for_sending, finish, freeze, variants_for_sending
from digest.editions.layout import IN_DOUBT_CSV
from digest.editions.lease import Lease, holding, live_holders
from digest.editions.states import DRAFT, state_of
from digest.errors import DigestError
from digest.send.backends import Backend, Retry, open_backend
from digest.send.forced import record_forced
from digest.send.ledger import Ledger, Page, Settled
from digest.send.message import EditionMail, HeaderError, Recipient
from digest.send.processes import processes_for, send_in_processes
from digest.send.report import write_in_doubt_csv
from digest.send.retry import Pacer, deliver_with_retries
from digest.send.routing import FULL, SKIP, Routing, Tally
from digest.send.runs import check_same_sender, finish_run, start_run
from digest.settings import Settings
from digest.subscribers import count_subscribers
from digest.subscribers.erasure import Hasher, erased_hashes
from digest.subscribers.links import revoked_versions

Progress = Callable[[int], None]
PAGE = 1000  # recipients read from the database at a time
SAMPLE = 5  # addresses shown on the terminal; the rest are in the CSV
IN_DOUBT_IN_A_ROW = 5  # batches whose answer was lost, one after another, before giving up


@dataclass
class SendPlan:
    """What a send would do now: shown before asking, and by --dry-run."""

    edition: str
    newsletter: str
    title: str
    subject: str
    backend: str
    state: str  # draft | sending | sent
    frozen: bool  # sending the copy frozen at the first send (not the folder's files)
    to_send: int  # subscribers not yet sent to (suppressed ones excluded)
    already_sent: int
    suppressed: int
    failed_before: int  # refused last time; tried again
    in_doubt: int  # in doubt from earlier runs
    in_doubt_sample: list[str]  # the first few of them
    resend_in_doubt: bool
    in_doubt_csv: Path
    note: str | None = None
    copies: dict[str, int] = field(default_factory=dict)  # to send, by variant ("": full)
    skipped: int = 0  # no story on their topics this week: recorded, not sent
    unforeseen: int = 0  # chose topics after the build: they get the full edition

    @property
    def recipients(self) -> int:
        return self.to_send + (self.in_doubt if self.resend_in_doubt else 0)


@dataclass
class SendReport:
    plan: SendPlan
    sent: int = 0
    failed: int = 0
    retries: int = 0
    in_doubt: int = 0  # in doubt after this run, earlier runs' included
    in_doubt_sample: list[str] = field(default_factory=list)
    in_doubt_csv: Path | None = None  # the full list, when anyone is in doubt
    failures: list[tuple[str, str]] = field(default_factory=list)  # (address, why), a sample
    stopped: str | None = None  # why the send stopped early
    seconds: float = 0.0
    skipped: int = 0  # recorded as skipped by this run (no story on their topics)
    copies: dict[str, int] = field(default_factory=dict)  # sent by this run, by variant

    @property
    def ok(self) -> bool:
        return not self.failed and not self.in_doubt and self.stopped is None


class SendStopped(Exception):
    pass


def plan_send(
    settings: Settings, edition: str, slug: str, *, resend_in_doubt: bool = False,
    switch_sender: bool = False,
) -> SendPlan:
    """Check the edition and the settings and count who would get it. Sends nothing."""
    engine = connect(settings.database)
    check_same_sender(engine, edition, slug, settings.sender, switch=switch_sender)
    built, frozen, note = edition_for_sending(engine, settings.out_dir, edition, slug)
    variants = variants_for_sending(engine, settings.out_dir, built, frozen)
    for copy in (built, *variants.values()):
        mail = EditionMail(settings, copy)  # refuses bad header values now, not mid-send
        mail.mime(Recipient("check@example.com", "Check"))
        open_backend(settings, mail)  # an unknown backend or a missing key fails here
    return _plan(settings, built, frozen, note, Ledger(engine, edition, slug), resend_in_doubt,
                 Routing(built, variants))


def _plan(settings: Settings, built: BuiltEdition, frozen: bool, note: str | None,
          ledger: Ledger, resend: bool, routing: Routing) -> SendPlan:
    states = ledger.states()
    counts = count_subscribers(ledger.engine, built.slug)[0]
    known = state_of(ledger.engine, built.edition, built.slug)
    tally: Tally = routing.tally(ledger.to_send_by_topics())
    return SendPlan(
        edition=built.edition,
        newsletter=built.slug,
        title=built.title,
        subject=built.subject,
        backend=settings.sender,
        state=known.state if known else DRAFT,
        frozen=frozen,
        to_send=sum(tally.copies.values()),
        already_sent=states.get("sent", 0),
        suppressed=counts.suppressed,
        failed_before=states.get("failed", 0),
        in_doubt=states.get("in_doubt", 0) + states.get("in_flight", 0),
        in_doubt_sample=ledger.in_doubt(SAMPLE),
        resend_in_doubt=resend,
        in_doubt_csv=built.folder / IN_DOUBT_CSV,
        note=note,
        copies=tally.copies,
        skipped=tally.skipped,
        unforeseen=tally.unforeseen,
    )


def settle_left_behind(settings: Settings, edition: str, slug: str) -> None:
    """When there is nothing new to send: what a run that died left in flight is in doubt now,
    and the in-doubt list beside the edition says so. (A run killed after claiming its last
    batch, or after its last batch settled but before it wrote the list, leaves either behind;
    a send that has nothing to send never starts a run to put them right.)"""
    engine = connect(settings.database)
    with holding(engine, edition, slug, "send", ttl=settings.send_lease_seconds):
        ledger = Ledger(engine, edition, slug)
        ledger.settle_dead_runs()
        built, _, _ = edition_for_sending(engine, settings.out_dir, edition, slug)
        write_in_doubt_csv(ledger, built.folder / IN_DOUBT_CSV)


def run_send(
    settings: Settings,
    edition: str,
    slug: str,
    *,
    resend_in_doubt: bool = False,
    progress: Progress | None = None,
    on_retry: Callable[[Retry, float], None] | None = None,
    force: bool = False,
    switch_sender: bool = False,
) -> SendReport:
    """Send the edition to everyone on the list not yet sent to. Safe to run again.

    Before the first real send the pre-send checks must find no error in exactly what is
    about to be frozen and sent (digest.checks.gate): ChecksFailed otherwise, unless `force`,
    and then the forced send is recorded with its run. Once frozen, the copy is what it was.
    A send begun through one backend goes on through it unless `switch_sender`."""
    check_names(edition, slug)
    engine = connect(settings.database)
    ttl = settings.send_lease_seconds
    with holding(engine, edition, slug, "send", ttl=ttl) as lease:
        check_same_sender(engine, edition, slug, settings.sender, switch=switch_sender)
        _wait_for_builds(engine, edition, ttl)
        built, frozen, note = edition_for_sending(engine, settings.out_dir, edition, slug)
        verdict = None if frozen else gate_send(settings, built, force=force)
        variants = variants_for_sending(engine, settings.out_dir, built, frozen)
        routing = Routing(built, variants)
        ledger = Ledger(engine, edition, slug)
        ledger.settle_dead_runs()
        report = SendReport(_plan(settings, built, frozen, note, ledger, resend_in_doubt,
                                  routing))
        ledger.clear_failed()
        versions = revoked_versions(engine)  # manage links revoked by their readers
        backends = {key: open_backend(settings, EditionMail(settings, copy,
                                                            manage_versions=versions))
                    for key, copy in {FULL: built, **variants}.items()}
        run_id = start_run(engine, edition, slug, settings.sender)
        if verdict is not None and verdict.forced_by:
            record_forced(engine, run_id, built, verdict)
        run = _Run(settings, ledger, backends, routing, report, lease, run_id, built,
                   list(variants.values()), frozen, progress, on_retry)
        started = time.monotonic()
        try:
            with contextlib.ExitStack() as open_backends:
                for backend in backends.values():
                    open_backends.enter_context(backend)
                fetch = _without_erased(engine, settings)
                if resend_in_doubt:
                    run.all(fetch(ledger.doubtful_page), resend=True)
                processes = processes_for(settings, report.plan.to_send)
                if processes > 1:
                    send_in_processes(run, fetch, processes)
                else:
                    run.all(fetch(ledger.page), resend=False)
        except SendStopped as exc:
            report.stopped = str(exc)
        except BaseException as exc:  # Ctrl+C, or a database gone away: say so if we can
            with contextlib.suppress(Exception):
                finish_run(engine, run_id, "stopped", f"interrupted ({type(exc).__name__})")
            raise
        finish_run(engine, run_id, "stopped" if report.stopped else "finished", report.stopped)
        if run.frozen and not report.stopped:
            finish(engine, edition, slug)
        report.seconds = time.monotonic() - started
        _close(report, ledger, built)
    return report


def _wait_for_builds(engine: Engine, edition: str, ttl: float) -> None:
    """A build swapping the edition folder in right now ends within seconds: wait for it."""
    deadline = time.monotonic() + min(ttl, 60.0)
    while builds := live_holders(engine, edition, purpose="build"):
        if time.monotonic() > deadline:
            raise DigestError(f"{builds[0].describe()} is writing edition {edition}",
                              hint="Let it finish, then send again.")
        time.sleep(0.2)


def _close(report: SendReport, ledger: Ledger, built: BuiltEdition) -> None:
    report.in_doubt = ledger.states().get("in_doubt", 0)
    report.in_doubt_sample = ledger.in_doubt(SAMPLE)
    report.in_doubt_csv = write_in_doubt_csv(ledger, built.folder / IN_DOUBT_CSV)
    report.failures = ledger.failures()


class _Run:
    """One run of a send: batches through claim -> deliver (with retries) -> settle."""

    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        backends: dict[str, Backend],
        routing: Routing,
        report: SendReport,
        lease: Lease,
        run_id: int,
        built: BuiltEdition,
        variants: list[BuiltEdition],
        frozen: bool,
        progress: Progress | None,
        on_retry: Callable[[Retry, float], None] | None,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.backends = backends  # one per copy: FULL and each variant's key
        self.routing = routing
        self.report = report
        self.lease = lease
        self.run_id = run_id
        self.built = built
        self.variants = variants
        self.frozen = frozen
        self.progress = progress
        self.on_retry = on_retry
        limit = min(b.batch_limit for b in backends.values())
        self.size = max(1, min(settings.send_batch_size, limit))
        self.pacer = Pacer(settings.send_rate)
        self.doubtful_in_a_row = 0

    def all(self, fetch: Callable[[int, int], Page], *, resend: bool) -> None:
        # One thread: building the next batch in another while this one is with the provider
        # was measured slower (bench/send.py), the two threads fighting over the GIL.
        batches = _routed(fetch, self.size, self.routing, self.skip)
        for copy, recipients, prepared, bad in _prepared(self.backends, batches):
            self.one(copy, recipients, prepared, bad, resend=resend)

    def freeze(self) -> None:
        if not self.frozen:  # the first real send: what readers get is frozen from now on
            freeze(self.ledger.engine, self.built, self.variants)
            self.frozen = True

    def skip(self, recipients: list[Recipient]) -> None:
        """Readers left with nothing this week: recorded, so nobody is left out silently."""
        self.freeze()
        self.ledger.skip(recipients)
        self.report.skipped += len(recipients)

    def one(self, copy: str, recipients: list[Recipient], prepared: Any, bad: dict[int, str],
            *, resend: bool) -> None:
        ledger, report, n = self.ledger, self.report, len(recipients)
        if self.lease.lost:
            raise SendStopped(f"lost the send lease: {self.lease.lost}")
        self.freeze()
        batch = ledger.next_batch()
        self.pacer.wait(n)
        if resend:
            ledger.reclaim(batch, recipients, self.run_id)
        else:
            ledger.claim(batch, recipients, self.run_id, copy)
        # From here until settle() the batch is in flight: a crash leaves it in doubt, never
        # silently sent again.
        good = [i for i in range(n) if i not in bad]
        outcome = deliver_with_retries(
            self.backends[copy],
            [recipients[i] for i in good],
            prepared,
            retries=self.settings.send_retries,
            backoff=self.settings.send_backoff,
            on_retry=self._retried,
        ) if good else None
        settled = Settled(sent={}, failed=dict(bad), in_doubt={})
        if outcome is not None:
            for mine, theirs in ((settled.sent, outcome.sent), (settled.failed, outcome.failed),
                                 (settled.in_doubt, outcome.in_doubt)):
                mine.update((good[i], value) for i, value in theirs.items())
        ledger.settle(batch, recipients, settled)
        report.sent += len(settled.sent)
        report.copies[copy] = report.copies.get(copy, 0) + len(settled.sent)
        report.failed += len(settled.failed)
        if self.progress is not None:
            self.progress(n)
        self._stop_if_hopeless(outcome, settled, n)

    def _stop_if_hopeless(self, outcome: Any, settled: Settled, n: int) -> None:
        if outcome is None:
            return
        if outcome.stop:
            raise SendStopped(outcome.stop)
        if outcome.gave_up:
            raise SendStopped(next(iter(outcome.gave_up.values())))
        if settled.in_doubt and len(settled.in_doubt) == n:
            self.doubtful_in_a_row += 1
            if self.doubtful_in_a_row >= IN_DOUBT_IN_A_ROW:
                raise SendStopped(
                    f"the provider's answer was lost for {IN_DOUBT_IN_A_ROW} batches in a row "
                    f"(last: {next(iter(settled.in_doubt.values()))}); stopping before "
                    "everyone is in doubt"
                )
        else:
            self.doubtful_in_a_row = 0

    def _retried(self, exc: Retry, delay: float) -> None:
        self.report.retries += 1
        if self.on_retry is not None:
            self.on_retry(exc, delay)


def _prepared(
    backends: dict[str, Backend], batches: Iterable[tuple[str, list[Recipient]]]
) -> Iterator[tuple[str, list[Recipient], Any, dict[int, str]]]:
    """Each batch with what its copy's backend sends for its good recipients, and the bad
    ones (a value that cannot go in a header): those fail alone, the rest of their batch goes."""
    for copy, batch in batches:
        backend = backends[copy]
        try:
            prepared = backend.prepare(batch)
        except HeaderError:
            yield (copy, *_without_the_bad(backend, batch))
        else:
            yield copy, batch, prepared, {}


def _without_the_bad(backend: Backend,
                     batch: list[Recipient]) -> tuple[list[Recipient], Any, dict[int, str]]:
    """A batch some of whose recipients cannot be prepared: find them, prepare the rest."""
    bad: dict[int, str] = {}
    for i, who in enumerate(batch):
        try:
            backend.prepare([who])
        except HeaderError as exc:
            bad[i] = exc.message
    good = [who for i, who in enumerate(batch) if i not in bad]
    return batch, backend.prepare(good) if good else None, bad


def _routed(fetch: Callable[[int, int], Page], size: int, routing: Routing,
            skip: Callable[[list[Recipient]], None]) -> Iterator[tuple[str, list[Recipient]]]:
    """(copy, batch): recipients read page by page (never the whole list at once), each put
    in a batch of the copy they get; a batch goes when it is full, the rest at the end. Those
    who get nothing are handed to `skip` a page at a time."""
    after = 0
    waiting: dict[str, list[Recipient]] = {}
    while True:
        last, found = fetch(after, max(PAGE, size))
        nothing = []
        for who in found:
            copy = routing(who)
            if copy is SKIP:
                nothing.append(who)
                continue
            group = waiting.setdefault(copy, [])
            group.append(who)
            if len(group) == size:
                yield copy, group
                waiting[copy] = []
        if nothing:
            skip(nothing)
        if last == after:  # no subscriber left to read
            for copy, group in waiting.items():
                if group:
                    yield copy, group
            return
        after = last


def _without_erased(engine: Engine, settings: Settings
                    ) -> Callable[[Callable[[int, int], Page]], Callable[[int, int], Page]]:
    """Pages without the addresses erased at their owners' request. A list row for one cannot
    normally exist (no sync imports it); this holds even for one added by hand."""
    with engine.connect() as conn:
        hashes = erased_hashes(conn)
    if not hashes:
        return lambda fetch: fetch
    hasher = Hasher(settings)

    def keep(fetch: Callable[[int, int], Page]) -> Callable[[int, int], Page]:
        def page(after: int, limit: int) -> Page:
            last, found = fetch(after, limit)
            return last, [who for who in found if hasher(who.email) not in hashes]

        return page

    return keep
