"""Retrying a batch with exponential backoff and jitter, and keeping to a rate limit."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from digest.send.backends import Backend, Delivered, Retry

MAX_BACKOFF = 60.0


class GaveUp(Exception):
    """Every attempt hit trouble worth retrying; `uncertain` if any may have got through."""

    def __init__(self, last: Retry, attempts: int, uncertain: bool) -> None:
        super().__init__(last.message)
        self.last = last
        self.attempts = attempts
        self.uncertain = uncertain


def backoff_delay(base: float, attempt: int) -> float:
    """Exponential backoff with jitter: between half and all of base * 2**attempt (capped)."""
    ceiling = min(MAX_BACKOFF, base * 2**attempt)
    return ceiling * random.uniform(0.5, 1.0)


def deliver_with_retries(
    backend: Backend,
    prepared: Any,
    *,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[Retry, float], None] | None = None,
) -> Delivered:
    """backend.deliver(prepared), again after each Retry, at most `retries` more times.

    A 429 waits until the provider's reset time; anything else backs off. Rejected and Stop
    pass straight through: retrying them cannot help.
    """
    uncertain = False
    attempt = 0
    while True:
        try:
            return backend.deliver(prepared)
        except Retry as exc:
            uncertain = uncertain or exc.uncertain
            if attempt >= retries:
                raise GaveUp(exc, attempt + 1, uncertain) from None
            delay = exc.wait if exc.wait is not None else backoff_delay(backoff, attempt)
            attempt += 1
            if on_retry is not None:
                on_retry(exc, delay)
            sleep(delay)


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
