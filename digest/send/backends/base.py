"""What every delivery backend is: a name, a batch limit, `prepare(batch)` and `deliver(prepared)`.

`prepare` builds what goes out (a request body, MIME messages) without any I/O, once per batch
however many times it is retried. `deliver` hands it over
and returns the provider's id(s), or raises one of the errors below; it never retries by itself.
The runner owns retries, backoff, the ledger and the rate limit, so every backend gets the same
guarantees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol

from digest.errors import DigestError
from digest.send.message import EditionMail, Recipient
from digest.settings import Settings

# One id for the whole batch (SendGrid's X-Message-Id), or one per recipient, in order.
Delivered = str | list[str]


class ProviderError(Exception):
    """The provider did not take the batch."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Retry(ProviderError):
    """Try the same batch again later: 429, 5xx, a timeout, a dropped connection.

    `wait` is how long the provider asked us to wait (429 with X-RateLimit-Reset), None for the
    usual backoff. `uncertain` is True when the provider may have taken the batch before the
    trouble (a timeout or a connection lost after the request went out).
    """

    def __init__(self, message: str, *, wait: float | None = None, uncertain: bool = False) -> None:
        super().__init__(message)
        self.wait = wait
        self.uncertain = uncertain


class Rejected(ProviderError):
    """The provider refused this batch for good (a 4xx): mark it failed and go on."""


class Stop(ProviderError):
    """Nothing will get through (401/403, a refused login): stop the whole send at once."""


class Backend(Protocol):
    name: ClassVar[str]
    batch_limit: ClassVar[int]  # most recipients one deliver() call may carry

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...

    def prepare(self, batch: Sequence[Recipient]) -> Any: ...

    def deliver(self, prepared: Any) -> Delivered: ...


BackendFactory = Callable[[Settings, EditionMail], Backend]
_registry: dict[str, BackendFactory] = {}


def register(name: str) -> Callable[[BackendFactory], BackendFactory]:
    """Class decorator: make a backend available as DIGEST_SENDER=name."""

    def add(factory: BackendFactory) -> BackendFactory:
        _registry[name] = factory
        return factory

    return add


def backend_names() -> list[str]:
    return sorted(_registry)


def open_backend(settings: Settings, mail: EditionMail) -> Backend:
    try:
        factory = _registry[settings.sender]
    except KeyError:
        raise DigestError(
            f"unknown sender {settings.sender!r}",
            hint=f"Set DIGEST_SENDER to one of: {', '.join(backend_names())}.",
        ) from None
    return factory(settings, mail)
