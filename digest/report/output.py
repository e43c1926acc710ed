"""The figures as data: a dict for JSON, rows for CSV. Rates are fractions (0.25 is 25%), or
None where the figure is not known (nothing delivered, or no events at all)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from digest.report.figures import Results, rate
from digest.report.thresholds import LIMIT, NEAR, TARGET

TREND_COLUMNS = [
    "edition", "newsletter", "started_at", "tracked", "sent", "in_doubt", "delivered",
    "delivered_rate",
    "opened", "open_rate", "clicked", "click_rate", "click_to_open", "machine_only",
    "bounced", "blocked", "dropped", "bounce_rate", "complaints", "complaint_rate",
    "unsubscribes", "unsubscribe_rate",
]


def _count(n: int | None, whole: int | None = None) -> dict[str, Any]:
    return {"count": n, "rate": rate(n, whole) if n is not None and whole is not None else None}


def as_dict(r: Results) -> dict[str, Any]:
    """The whole report of one edition."""
    send = r.send
    out: dict[str, Any] = {
        "edition": send.edition,
        "newsletter": send.newsletter,
        "title": send.title,
        "subject": send.subject,
        "started_at": _iso(send.started_at),
        "events": {"tracked": r.tracked, "note": r.note},
        "funnel": {"sent": _count(r.sent)},
        "in_doubt": {"unknown": r.in_doubt, "taken": r.taken_in_doubt},
    }
    if not r.tracked:
        return out
    out["funnel"].update(
        delivered=_count(r.delivered, r.sent),
        opened=_count(r.opened, r.delivered),
        clicked={**_count(r.clicked, r.delivered), "of_opened": rate(r.clicked, r.opened)},
    )
    out["awaiting"] = r.awaiting
    out["machine_opens"] = {"recipients": r.machine_opened, "only_machines": r.machine_only,
                            "events": r.machine_open_events}
    out["events_counted"] = {"opens_by_people": r.open_events, "clicks": r.click_events}
    out["bounces"] = {
        "hard": _count(r.bounced, r.sent),
        "blocked": _count(r.blocked, r.sent),
        "deferred": _count(r.deferred, r.sent),
        "dropped": {**_count(r.dropped_total, r.sent), "reasons": dict(sorted(r.dropped.items()))},
    }
    spam = r.spam
    out["complaints"] = {**_count(r.complaints, r.delivered), "level": spam.name,
                         "message": spam.message,
                         "thresholds": {"warn": NEAR, "target": TARGET, "limit": LIMIT}}
    out["unsubscribes"] = _count(r.unsubscribes, r.delivered)
    out["stories"] = [
        {"position": n, "id": s.story.id, "title": s.story.title, "url": s.story.url,
         "section": s.story.section, "more_this_week": s.story.more, "unique_clicks": s.unique,
         "clicks": s.clicks, "rate": rate(s.unique, r.delivered)}
        for n, s in enumerate(r.stories, start=1)
    ]
    out["links"] = {link.kind: {"unique_clicks": link.unique, "clicks": link.clicks}
                    for link in r.links}
    if r.timeline is not None:
        t = r.timeline
        out["timeline"] = {
            "start": _iso(t.start),
            "hours": [{"hour": h, "opened": o, "clicked": c}
                      for h, (o, c) in enumerate(zip(t.opened, t.clicked, strict=True))],
            "later": {"opened": t.later_opened, "clicked": t.later_clicked},
        }
    return out


def csv_rows(r: Results) -> Iterator[list[Any]]:
    """One edition as rows of (section, key, label, count, rate)."""
    yield ["section", "key", "label", "count", "rate"]
    yield ["funnel", "sent", "Sent", r.sent, ""]
    if r.in_doubt:
        yield ["in_doubt", "unknown", "In doubt (the provider's answer was lost)", r.in_doubt, ""]
    if not r.tracked:
        yield ["note", "events", r.note, "", ""]
        return
    funnel = [("delivered", "Delivered", r.delivered, r.sent),
              ("opened", "Opened by people", r.opened, r.delivered),
              ("clicked", "Clicked", r.clicked, r.delivered)]
    for key, label, n, whole in funnel:
        yield ["funnel", key, label, n, _rate(n, whole)]
    yield ["funnel", "awaiting", "No outcome reported yet", r.awaiting, _rate(r.awaiting, r.sent)]
    yield ["machine", "machine_opened", "Opened by machines", r.machine_opened,
           _rate(r.machine_opened, r.delivered)]
    yield ["machine", "only_machines", "Opened only by machines", r.machine_only,
           _rate(r.machine_only, r.delivered)]
    for key, label, n in (("hard", "Hard bounces", r.bounced), ("blocked", "Blocked", r.blocked),
                          ("deferred", "Deferred, still retried", r.deferred)):
        yield ["bounces", key, label, n, _rate(n, r.sent)]
    for reason, n in sorted(r.dropped.items()):
        yield ["dropped", reason, f"Dropped: {reason}", n, _rate(n, r.sent)]
    yield ["complaints", r.spam.name, "Spam complaints", r.complaints,
           _rate(r.complaints, r.delivered)]
    yield ["unsubscribes", "unsubscribes", "Unsubscribes", r.unsubscribes,
           _rate(r.unsubscribes, r.delivered)]
    for s in r.stories:
        yield ["story", s.story.id, s.story.title, s.unique, _rate(s.unique, r.delivered)]
    for link in r.links:
        yield ["link", link.kind, f"{link.kind} link", link.unique, _rate(link.unique, r.delivered)]


def trend_rows(found: Sequence[Results]) -> list[dict[str, Any]]:
    """The same rates, edition by edition (oldest first)."""
    return [_trend_row(r) for r in found]


def _trend_row(r: Results) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(TREND_COLUMNS)
    row.update(edition=r.send.edition, newsletter=r.send.newsletter,
               started_at=_iso(r.send.started_at), tracked=r.tracked, sent=r.sent,
               in_doubt=r.in_doubt)
    if not r.tracked:
        return row
    bounced = r.bounced + r.blocked
    row.update(
        delivered=r.delivered, delivered_rate=rate(r.delivered, r.sent),
        opened=r.opened, open_rate=rate(r.opened, r.delivered),
        clicked=r.clicked, click_rate=rate(r.clicked, r.delivered),
        click_to_open=rate(r.clicked, r.opened), machine_only=r.machine_only,
        bounced=r.bounced, blocked=r.blocked, dropped=r.dropped_total,
        bounce_rate=rate(bounced, r.sent),
        complaints=r.complaints, complaint_rate=rate(r.complaints, r.delivered),
        unsubscribes=r.unsubscribes, unsubscribe_rate=rate(r.unsubscribes, r.delivered),
    )
    return row


def _rate(part: int, whole: int) -> str:
    found = rate(part, whole)
    return "" if found is None else f"{found:.6f}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
