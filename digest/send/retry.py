"""Delivering a batch: retrying what provably did not arrive, with backoff; keeping to a rate.

Only a `Retry` (429, 5xx with a response, a connection refused, a failure while connecting or
writing the request) is tried again. In doubt (the answer was lost) is final for this run:
sending it again could mail those readers twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from digest.send.backends import Backend, Delivery, ProviderError, Retry, Stop
from digest.send.message import Recipient

MAX_BACKOFF = 60.0


@dataclass
class Outcome:
    """What became of every recipient of a batch, by their index in it, after the retries."""

    sent: dict[int, str] = field(default_factory=dict)  # -> the provider's id
    refused: dict[int, str] = field(default_factory=dict)  # -> the provider's reason
    in_doubt: dict[int, str] = field(default_factory=dict)  # -> why nobody can know
    gave_up: dict[int, str] = field(default_factory=dict)  # retried until the limit
    stop: str | None = None  # nothing will get through (401/403, a refused login)
    retries: int = 0

    @property
    def failed(self) -> dict[int, str]:
        return {**self.refused, **self.gave_up}


def backoff_delay(base: float, attempt: int) -> float:
    """Exponential backoff with jitter: between half and all of base * 2**attempt (capped)."""
    ceiling = min(MAX_BACKOFF, base * 2**attempt)
    return ceiling * random.uniform(0.5, 1.0)


def deliver_with_retries(
    backend: Backend,
    batch: Sequence[Recipient],
    prepared: Any,
    *,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[Retry, float], None] | None = None,
) -> Outcome:
    """backend.deliver(prepared); what provably did not arrive is delivered again (prepared
    anew when only part of the batch is left), at most `retries` more times. A 429 waits
    until the provider's reset time; anything else backs off."""
    outcome = Outcome()
    pending = list(range(len(batch)))  # indexes into `batch` that this attempt carries
    attempt = 0
    while True:
        try:
            result: Any = backend.deliver(prepared)
        except Stop as exc:
            outcome.stop, result = exc.message, exc
        except ProviderError as exc:
            result = exc
        delivery = Delivery.of(len(pending), result)
        outcome.stop = outcome.stop or delivery.stop
        for mine, theirs in ((outcome.sent, delivery.sent), (outcome.refused, delivery.refused),
                             (outcome.in_doubt, delivery.in_doubt)):
            mine.update((pending[i], value) for i, value in theirs.items())
        again = [(pending[i], exc) for i, exc in sorted(delivery.retry.items())]
        if not again:
            return outcome
        last = again[-1][1]
        if attempt >= retries or outcome.stop:
            why = f"{last.message} (gave up after {attempt + 1} attempts)"
            outcome.gave_up.update((i, why) for i, _ in again)
            return outcome
        waits = [exc.wait for _, exc in again if exc.wait is not None]
        delay = max(waits) if waits else backoff_delay(backoff, attempt)
        attempt += 1
        outcome.retries += 1
        if on_retry is not None:
            on_retry(last, delay)
        sleep(delay)
        if len(again) != len(pending):
            prepared = backend.prepare([batch[i] for i, _ in again])
        pending = [i for i, _ in again]


class Pacer:
    """At most `rate` messages a second on average over the run (0: no limit)."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self.started: float | None = None
        self.count = 0

    def wait(self, n: int) -> None:
        """Call before handing over `n` messages: sleeps until they are due."""
        if self.rate <= 0:
            return
        now = self.clock()
        if self.started is None:
            self.started = now
        due = self.started + self.count / self.rate
        if due > now:
            self.sleep(due - now)
        self.count += n
