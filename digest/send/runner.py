"""Sending an edition of a newsletter to its subscribers, batch by batch, through the ledger.

For every batch: claim it in the ledger as in flight (committed), hand it to the backend
(retrying 429/5xx/timeouts with backoff), then mark it sent with the provider's id, or failed
with the provider's message. A 401/403 or a refused login stops the whole send at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from digest.archive import connect
from digest.editions import BuiltEdition, load_built
from digest.send.backends import Backend, Rejected, Retry, Stop, open_backend
from digest.send.ledger import Ledger, Page
from digest.send.lock import send_lock
from digest.send.message import EditionMail, HeaderError, Recipient
from digest.send.retry import GaveUp, Pacer, deliver_with_retries
from digest.settings import Settings
from digest.subscribers import count_subscribers

Progress = Callable[[int], None]
PAGE = 1000  # recipients read from the database at a time


@dataclass
class SendPlan:
    """What a send would do now: shown before asking, and by --dry-run."""

    edition: str
    newsletter: str
    title: str
    subject: str
    backend: str
    to_send: int  # subscribers not yet sent to (suppressed ones excluded)
    already_sent: int
    suppressed: int
    failed_before: int  # refused last time; tried again
    in_doubt: list[str]  # in flight when an earlier run died
    resend_in_doubt: bool

    @property
    def recipients(self) -> int:
        return self.to_send + (len(self.in_doubt) if self.resend_in_doubt else 0)


@dataclass
class SendReport:
    plan: SendPlan
    sent: int = 0
    failed: int = 0
    retries: int = 0
    in_doubt: list[str] = field(default_factory=list)  # still in doubt after this run
    failures: list[tuple[str, str]] = field(default_factory=list)  # (address, why), a sample
    stopped: str | None = None  # why the send stopped early
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.in_doubt and self.stopped is None


class SendStopped(Exception):
    pass


def plan_send(
    settings: Settings, edition: str, slug: str, *, resend_in_doubt: bool = False
) -> SendPlan:
    """Check the edition and the settings and count who would get it. Sends nothing."""
    built = load_built(settings.out_dir, edition, slug)
    mail = EditionMail(settings, built)  # refuses bad header values now, not mid-send
    mail.mime(Recipient("check@example.com", "Check"))
    open_backend(settings, mail)  # an unknown backend or a missing key fails here
    return _plan(
        settings, built, Ledger(connect(settings.database), edition, slug), resend_in_doubt
    )


def _plan(settings: Settings, built: BuiltEdition, ledger: Ledger, resend: bool) -> SendPlan:
    states = ledger.states()
    counts = count_subscribers(ledger.engine, built.slug)[0]
    return SendPlan(
        edition=built.edition,
        newsletter=built.slug,
        title=built.title,
        subject=built.subject,
        backend=settings.sender,
        to_send=ledger.to_send(),
        already_sent=states.get("sent", 0),
        suppressed=counts.suppressed,
        failed_before=states.get("failed", 0),
        in_doubt=ledger.in_doubt(),
        resend_in_doubt=resend,
    )


def run_send(
    settings: Settings,
    edition: str,
    slug: str,
    *,
    resend_in_doubt: bool = False,
    progress: Progress | None = None,
    on_retry: Callable[[Retry, float], None] | None = None,
) -> SendReport:
    """Send the built edition to everyone on the list not yet sent to. Safe to run again."""
    built = load_built(settings.out_dir, edition, slug)
    engine = connect(settings.database)
    ledger = Ledger(engine, edition, slug)
    with send_lock(engine, built.folder, edition, slug):
        report = SendReport(_plan(settings, built, ledger, resend_in_doubt))
        ledger.clear_failed()
        backend = open_backend(settings, EditionMail(settings, built))
        run = _Run(settings, ledger, backend, report, progress, on_retry)
        started = time.monotonic()
        with backend:
            try:
                if resend_in_doubt:
                    run.all(run.in_doubt_page, resend=True)
                run.all(ledger.page, resend=False)
            except SendStopped as exc:
                report.stopped = str(exc)
        report.seconds = time.monotonic() - started
        report.in_doubt = ledger.in_doubt()
        report.failures = ledger.failures()
    return report


class _Run:
    """One run of a send: batches through claim -> deliver (with retries) -> mark."""

    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        backend: Backend,
        report: SendReport,
        progress: Progress | None,
        on_retry: Callable[[Retry, float], None] | None,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.backend = backend
        self.report = report
        self.progress = progress
        self.on_retry = on_retry
        self.size = max(1, min(settings.send_batch_size, backend.batch_limit))
        self.pacer = Pacer(settings.send_rate)
        self.first = ledger.next_batch()  # rows in flight from batches before it are in doubt

    def in_doubt_page(self, after: int, limit: int) -> Page:
        return self.ledger.doubtful_page(after, limit, self.first)

    def all(self, fetch: Callable[[int, int], Page], *, resend: bool) -> None:
        # One thread: building the next batch in another while this one is with the provider
        # was measured slower (bench/send.py), the two threads fighting over the GIL.
        for recipients, prepared in _prepared(self.backend, _batches(fetch, self.size)):
            self.one(recipients, prepared, resend=resend)

    def one(self, recipients: list[Recipient], prepared: Any, *, resend: bool) -> None:
        ledger, report, n = self.ledger, self.report, len(recipients)
        batch = ledger.next_batch()
        self.pacer.wait(n)
        if resend:
            ledger.reclaim(batch, recipients)
        else:
            ledger.claim(batch, recipients)
        # From here until mark_sent/mark_failed the batch is in flight: a crash leaves it in
        # doubt, never silently sent again.
        try:
            if isinstance(prepared, Rejected):
                raise prepared
            ids = deliver_with_retries(
                self.backend,
                prepared,
                retries=self.settings.send_retries,
                backoff=self.settings.send_backoff,
                on_retry=self._retried,
            )
        except (Rejected, Stop) as exc:
            ledger.mark_failed(batch, exc.message)
            report.failed += n
            if isinstance(exc, Stop):
                raise SendStopped(exc.message) from None
        except GaveUp as exc:
            tries = f"gave up after {exc.attempts} attempts"
            if exc.uncertain:  # it may have got through: leave it in doubt
                raise SendStopped(f"{exc.last.message} ({tries}; that batch is in doubt)") from None
            ledger.mark_failed(batch, f"{exc.last.message} ({tries})")
            report.failed += n
            raise SendStopped(f"{exc.last.message} ({tries})") from None
        else:
            ledger.mark_sent(batch, recipients, ids)
            report.sent += n
        if self.progress is not None:
            self.progress(n)

    def _retried(self, exc: Retry, delay: float) -> None:
        self.report.retries += 1
        if self.on_retry is not None:
            self.on_retry(exc, delay)


def _prepared(
    backend: Backend, batches: Iterable[list[Recipient]]
) -> Iterator[tuple[list[Recipient], Any]]:
    """Each batch with what the backend sends for it; a header problem fails just that batch."""
    for batch in batches:
        try:
            yield batch, backend.prepare(batch)
        except HeaderError as exc:
            yield batch, Rejected(str(exc))


def _batches(fetch: Callable[[int, int], Page], size: int) -> Iterator[list[Recipient]]:
    """Recipients in batches of `size`, read page by page (never the whole list at once)."""
    after, waiting = 0, []
    while True:
        last, found = fetch(after, max(PAGE, size))
        waiting += found
        while len(waiting) >= size or (waiting and last == after):
            yield waiting[:size]
            waiting = waiting[size:]
        if last == after:  # no subscriber left to read
            return
        after = last
