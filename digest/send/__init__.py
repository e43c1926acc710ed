"""Sending built editions: tokens, messages, the ledger, backends and the runner.

For the web app and the preview:
    verify_token(key, token) -> (email, newsletter)     digest.send.tokens; InvalidToken if bad
    make_token(key, email, newsletter) -> str
    send_test(settings, edition, slug, addresses) -> [(address, provider id)]
    preview_headers(settings, edition, slug, email, name) -> [(header, value)]
For the CLI: plan_send(...) -> SendPlan, run_send(...) -> SendReport (digest.send.runner),
edition_status(...) -> [NewsletterStatus] (digest.send.status).

Heavier modules (the backends, the SendGrid client) load only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from digest.send.tokens import InvalidToken, make_token, unsubscribe_url, verify_token

if TYPE_CHECKING:
    from digest.settings import Settings

_LAZY = {
    "send_test": "digest.send.testsend",
    "run_send": "digest.send.runner",
    "plan_send": "digest.send.runner",
    "SendPlan": "digest.send.runner",
    "SendReport": "digest.send.runner",
}

__all__ = [
    "InvalidToken",
    "make_token",
    "preview_headers",
    "unsubscribe_url",
    "verify_token",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'digest.send' has no attribute {name!r}")


def preview_headers(
    settings: Settings, edition: str, slug: str, email: str, name: str = ""
) -> list[tuple[str, str]]:
    """The headers `email`'s copy of the edition carries, readable, in sending order."""
    from digest.editions import load_built
    from digest.send.message import EditionMail, Recipient

    mail = EditionMail(settings, load_built(settings.out_dir, edition, slug))
    return mail.headers(Recipient(email, name))
