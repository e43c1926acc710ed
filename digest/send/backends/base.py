"""What every delivery backend is: a name, a batch limit, `prepare(batch)` and `deliver(prepared)`.

`prepare` builds what goes out (a request body, MIME messages) without any I/O. `deliver` hands
it over and says what became of each recipient; it never retries by itself. A provider call has
three outcomes, not two: taken, refused, or unknown (the answer was lost after the request went
out: *in doubt*). `deliver` returns the provider's id(s) when everyone was taken, or a
`Delivery` when recipients of one batch fared differently; it raises one of the errors below
when the whole batch fared the same. The runner owns retries, backoff, the ledger and the rate
limit, so every backend gets the same guarantees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from digest.registry import Registry
from digest.send.message import EditionMail, Recipient
from digest.settings import Settings


class ProviderError(Exception):
    """The provider did not (provably) take the batch."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Retry(ProviderError):
    """The provider provably did not take the batch; it may be tried again: a 429, a 5xx with
    a response, a connection refused, a failure while connecting or writing the request.

    `wait` is how long the provider asked us to wait (429 with X-RateLimit-Reset), None for the
    usual backoff.
    """

    def __init__(self, message: str, *, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class Rejected(ProviderError):
    """The provider refused this batch for good (a 4xx): mark it failed and go on."""


class Stop(ProviderError):
    """Nothing will get through (401/403, a refused login): stop the whole send at once."""


class InDoubt(ProviderError):
    """The request went out and its answer never came (connection dropped while reading it,
    read timeout): the provider may have taken it. Never retried on its own."""


@dataclass
class Delivery:
    """What became of each recipient of one batch, by their index in it."""

    sent: dict[int, str] = field(default_factory=dict)  # index -> the provider's id
    refused: dict[int, str] = field(default_factory=dict)  # index -> the provider's reason
    in_doubt: dict[int, str] = field(default_factory=dict)  # index -> why nobody can know
    retry: dict[int, Retry] = field(default_factory=dict)  # provably not taken
    stop: str | None = None  # the server will take nothing more (a refused login on reconnecting)

    @classmethod
    def of(cls, size: int, result: Delivered | ProviderError) -> Delivery:
        """The per-recipient view of whatever one deliver() call returned or raised."""
        if isinstance(result, Delivery):
            return result
        every = range(size)
        if isinstance(result, str):
            return cls(sent=dict.fromkeys(every, result))
        if isinstance(result, list):
            if len(result) != size:
                raise ValueError(f"deliver() returned {len(result)} ids for {size} recipients")
            return cls(sent=dict(enumerate(result)))
        if isinstance(result, Retry):
            return cls(retry=dict.fromkeys(every, result))
        if isinstance(result, InDoubt):
            return cls(in_doubt=dict.fromkeys(every, result.message))
        return cls(refused=dict.fromkeys(every, result.message))  # Rejected, Stop


# One id for the whole batch (SendGrid's X-Message-Id), one per recipient in order, or a
# Delivery when they fared differently.
Delivered = str | list[str] | Delivery


class Backend(Protocol):
    name: ClassVar[str]
    batch_limit: ClassVar[int]  # most recipients one deliver() call may carry

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...

    def prepare(self, batch: Sequence[Recipient]) -> Any: ...

    def deliver(self, prepared: Any) -> Delivered: ...


BackendFactory = Callable[[Settings, EditionMail], Backend]


def _not_a_backend(item: object) -> str | None:
    if callable(item) and isinstance(getattr(item, "name", None), str):
        return None
    return f"{item!r} is not a backend class (one with a `name`, built from settings and mail)"


SENDERS: Registry[BackendFactory] = Registry(
    "sender", "digest.senders", check=_not_a_backend, setting="DIGEST_SENDER"
)


def register(name: str) -> Callable[[BackendFactory], BackendFactory]:
    """Class decorator: make a backend available as DIGEST_SENDER=name."""

    def add(factory: BackendFactory) -> BackendFactory:
        return SENDERS.add(name, factory)

    return add


def backend_names() -> list[str]:
    return SENDERS.names()


def open_backend(settings: Settings, mail: EditionMail) -> Backend:
    return SENDERS.get(settings.sender)(settings, mail)
