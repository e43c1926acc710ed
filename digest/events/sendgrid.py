"""SendGrid's events as we store them: one webhook event (a JSON object) -> an `Event`, or None.

What comes in is trusted only as far as the signature goes: every field is checked for its
type and cut to its column's width, and anything else is dropped. Events of a kind we do not
know, or without an address, are not stored.

custom_args sent with the message come back as top-level fields of every event (a nested
"custom_args" object is accepted too): `edition` and `newsletter` name the send, `test` marks a
test send, which the send ledger does not know.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from digest.editions.ids import is_edition_id, is_slug
from digest.events.links import MAX_URL, OwnLinks
from digest.subscribers.addresses import lenient_email

KINDS = frozenset({
    "processed", "deferred", "delivered", "bounce", "dropped", "open", "click", "spamreport",
    "unsubscribe", "group_unsubscribe",
})
HARD, BLOCKED = "bounce", "blocked"  # SendGrid's bounce "type"
_MAX_ID, _MAX_EMAIL, _MAX_REASON = 200, 320, 500
_TRUE = (True, 1, "1", "true", "True")
# Event times outside these years are someone's mistake, not an event.
_EARLIEST, _LATEST = datetime(2000, 1, 1, tzinfo=UTC).timestamp(), 4102444800.0  # 2100


@dataclass(slots=True)
class Event:
    event_id: str
    kind: str
    email: str
    occurred_at: datetime | None
    message_id: str | None
    edition: str | None  # from custom_args, then from the ledger row it is linked to
    newsletter: str | None
    test: bool
    machine: bool | None = None
    url: str | None = None
    link: str | None = None
    bounce_type: str | None = None
    reason: str | None = None
    delivery_id: int | None = None

    def row(self, received_at: datetime) -> dict[str, Any]:
        return {
            "event_id": self.event_id, "event": self.kind, "email": self.email,
            "occurred_at": self.occurred_at, "received_at": received_at,
            "message_id": self.message_id, "delivery_id": self.delivery_id,
            "edition": self.edition, "newsletter": self.newsletter, "machine": self.machine,
            "url": self.url, "link": self.link, "bounce_type": self.bounce_type,
            "reason": self.reason,
        }

    @property
    def soft_bounce(self) -> bool:
        """A temporary failure: deferred, or a bounce SendGrid calls "blocked"."""
        return self.kind == "deferred" or (self.kind == "bounce" and self.bounce_type == BLOCKED)


def parse_event(raw: Any, links: OwnLinks) -> Event | None:
    """The event to store, or None when it is not one we keep."""
    if not isinstance(raw, dict):
        return None
    kind, email = raw.get("event"), raw.get("email")
    if not (isinstance(kind, str) and kind in KINDS and isinstance(email, str) and email.strip()):
        return None
    args = raw.get("custom_args")
    args = args if isinstance(args, dict) else {}
    edition, newsletter = _arg(raw, args, "edition"), _arg(raw, args, "newsletter")
    event = Event(
        event_id=_event_id(raw),
        kind=kind,
        email=_address(_clean(email[:_MAX_EMAIL])),
        occurred_at=_time(raw.get("timestamp")),
        message_id=_text(raw.get("sg_message_id"), _MAX_ID),
        edition=edition if isinstance(edition, str) and is_edition_id(edition) else None,
        newsletter=newsletter if isinstance(newsletter, str) and is_slug(newsletter) else None,
        test=_arg(raw, args, "test") in _TRUE,
    )
    if kind == "open":
        event.machine = raw.get("sg_machine_open") in _TRUE
    elif kind == "click":
        url = _text(raw.get("url"), MAX_URL)
        if url:
            event.link, event.url = links.classify(url)
    elif kind == "bounce":
        event.bounce_type = BLOCKED if raw.get("type") == BLOCKED else HARD
        event.reason = _text(raw.get("reason"), _MAX_REASON)
    elif kind == "dropped":
        event.reason = _text(raw.get("reason"), _MAX_REASON)
    elif kind == "deferred":
        event.reason = _text(raw.get("response") or raw.get("reason"), _MAX_REASON)
    return event


def _event_id(raw: dict[str, Any]) -> str:
    given = raw.get("sg_event_id")
    if isinstance(given, str) and 0 < len(given) <= _MAX_ID and _clean(given) == given:
        return given
    # No usable id: the event's own content names it, so a retried copy is still a duplicate.
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _arg(raw: dict[str, Any], nested: dict[str, Any], name: str) -> Any:
    return raw[name] if name in raw else nested.get(name)


def _time(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not _EARLIEST <= value <= _LATEST:  # also refuses NaN
        return None
    return datetime.fromtimestamp(value, UTC)


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    return _clean(value[:limit]) or None


def _clean(text: str) -> str:
    """Text a database takes: no NUL (PostgreSQL refuses it), no lone surrogate (not UTF-8)."""
    if text.isascii():
        return text.replace("\0", "")
    return text.encode("utf-8", "replace").decode("utf-8").replace("\0", "")


@lru_cache(maxsize=65536)
def _address(email: str) -> str:
    # The same address comes back in every event of a message; validating it once is enough.
    return lenient_email(email)
