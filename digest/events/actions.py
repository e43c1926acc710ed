"""What new events mean for the list: who must not be mailed again.

    bounce (hard), spamreport         suppressed at once, for every newsletter
    unsubscribe                       suppressed for the newsletter the message was from
    group_unsubscribe                 suppressed for every newsletter (the account's one group)
    dropped                           SendGrid refused to send because the address is on one of
                                      its own lists: the same suppression here ("reconciled");
                                      a drop for any other reason (spam content, a bad header)
                                      is about the message, not the address, and changes nothing
    deferred, bounce "blocked"        soft bounces: suppressed once they happened on N editions
                                      in a row with no delivery since (DIGEST_SOFT_BOUNCE_LIMIT)

The soft-bounce count is read from the stored events, not kept in a counter: a delivery resets
it by being there (so does an open or a click: they prove the message arrived), and events
arriving late or out of order cannot make it wrong. Editions are ordered by their ledger rows
(deliveries.id grows with each send).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, and_, func, or_, select

from digest.archive.chunks import in_slices
from digest.archive.schema import email_events
from digest.events.sendgrid import BLOCKED, HARD, Event
from digest.subscribers import EVERY, add_suppressions

SOURCE = "webhook"
REACHED = ("delivered", "open", "click")  # events that prove the message arrived
SOFT_BOUNCED = "soft-bounced"
# SendGrid's reasons for dropping a message to an address on one of its suppression lists.
DROPPED_FOR = {
    "bounced address": "bounced",
    "spam reporting address": "complained",
    "unsubscribed address": "unsubscribed",
    "invalid": "invalid",
    "invalid address": "invalid",
    "invalid email": "invalid",
}


def act(conn: Connection, events: Sequence[Event], soft_bounce_limit: int) -> int:
    """Suppress what the new `events` call for, in the caller's transaction (after the events
    are stored); returns how many suppressions are new."""
    wanted: list[tuple[str, str, str]] = []
    soft: set[str] = set()
    for event in events:
        reason = suppression_for(event)
        if reason is not None:
            wanted.append((_scope(event, reason), event.email, reason))
        elif event.soft_bounce and event.delivery_id is not None:
            soft.add(event.email)
    for email, editions in sorted(soft_bounced_editions(conn, soft).items()):
        if editions >= soft_bounce_limit:
            wanted.append((EVERY, email, SOFT_BOUNCED))
    return add_suppressions(conn, wanted, SOURCE) if wanted else 0


def suppression_for(event: Event) -> str | None:
    """The suppression reason this one event calls for, if any."""
    if event.kind == "bounce":
        return "bounced" if event.bounce_type == HARD else None
    if event.kind == "spamreport":
        return "complained"
    if event.kind in ("unsubscribe", "group_unsubscribe"):
        return "unsubscribed"
    if event.kind == "dropped":
        return DROPPED_FOR.get((event.reason or "").strip().lower())
    return None


def _scope(event: Event, reason: str) -> str:
    """An unsubscribe from one message is about its newsletter; the rest about the address."""
    if reason == "unsubscribed" and event.kind != "group_unsubscribe":
        return event.newsletter or EVERY
    return EVERY


def soft_bounced_editions(conn: Connection, emails: set[str]) -> dict[str, int]:
    """For each address, the editions (ledger rows) in a row that soft-bounced since its last
    delivery."""
    e, reached = email_events.c, email_events.alias("reached").c
    delivered = (
        select(func.max(reached.delivery_id))
        .where(reached.email == e.email, reached.event.in_(REACHED))
        .scalar_subquery()
    )
    soft = or_(e.event == "deferred", and_(e.event == "bounce", e.bounce_type == BLOCKED))
    found: dict[str, int] = {}
    for chunk in in_slices(sorted(emails)):
        query = (
            select(e.email, func.count(func.distinct(e.delivery_id)))
            .where(e.email.in_(chunk), soft, e.delivery_id.is_not(None),
                   e.delivery_id > func.coalesce(delivered, 0))
            .group_by(e.email)
        )
        found.update((email, int(n)) for email, n in conn.execute(query))
    return found
