"""Delivery backends, looked up by name (DIGEST_SENDER): outbox, smtp, sendgrid.

A new backend is a class with `name`, `batch_limit`, `prepare(batch)` and `deliver(prepared)`,
registered with `@register("name")` the way the built-in ones are, or by an installed package
through the `digest.senders` entry-point group (digest/registry.py: a name is taken once).
"""

from digest.send.backends import outbox, sendgrid, smtp  # noqa: F401  (importing registers them)
from digest.send.backends.base import (
    Backend,
    Delivered,
    Delivery,
    InDoubt,
    ProviderError,
    Rejected,
    Retry,
    Stop,
    backend_names,
    open_backend,
    register,
)

__all__ = [
    "Backend",
    "Delivered",
    "Delivery",
    "InDoubt",
    "ProviderError",
    "Rejected",
    "Retry",
    "Stop",
    "backend_names",
    "open_backend",
    "register",
]
