"""Delivery backends, looked up by name (DIGEST_SENDER): outbox, smtp, sendgrid.

A new backend is a class with `name`, `batch_limit` and `deliver(batch)`, registered with
`@register("name")` the way the built-in ones are.
"""

from digest.send.backends import outbox, sendgrid, smtp  # noqa: F401  (importing registers them)
from digest.send.backends.base import (
    Backend,
    Delivered,
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
    "ProviderError",
    "Rejected",
    "Retry",
    "Stop",
    "backend_names",
    "open_backend",
    "register",
]
