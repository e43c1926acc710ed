"""Subscribers: each newsletter's CSV list synced into the database, and suppressions that win.

Public API (the web app and the sender use these):
    suppress(engine, email, newsletter, reason, source) -> bool   idempotent; newsletter "*" = all
    add_suppressions(conn, [(newsletter, email, reason)], source) -> int   the same, in one
                                                                   transaction
    resubscribe(engine, email, newsletter) -> Resubscribed         the only way to lift one
    unsubscribe(engine, email, newsletter=None, source="cli") -> bool
    sync_subscribers(engine, folder, slug=None) -> [SyncReport]
    list_subscribers(engine, slug=None), count_subscribers(engine, slug=None)
    normalise_email(raw) -> str (BadAddress when invalid)
"""

from digest.subscribers.addresses import BadAddress, clean_name, lenient_email, normalise_email
from digest.subscribers.csvsync import SyncReport, sync_subscribers
from digest.subscribers.lists import (
    Counts,
    Subscriber,
    count_subscribers,
    list_subscribers,
    no_jit,
    receiving,
    whole_list_joins,
)
from digest.subscribers.suppressions import (
    EVERY,
    Resubscribed,
    add_suppressions,
    resubscribe,
    suppress,
    suppressions_of,
    unsubscribe,
)

__all__ = [
    "EVERY",
    "BadAddress",
    "Counts",
    "Resubscribed",
    "Subscriber",
    "SyncReport",
    "add_suppressions",
    "clean_name",
    "count_subscribers",
    "lenient_email",
    "list_subscribers",
    "no_jit",
    "normalise_email",
    "receiving",
    "resubscribe",
    "suppress",
    "suppressions_of",
    "sync_subscribers",
    "unsubscribe",
    "whole_list_joins",
]
