"""An edition's results, counted from the stored events: each figure a number of recipients.

Every count is of distinct deliveries (ledger rows, so recipients), never of events, unless it
says "events". Only events linked to the ledger count: test sends and other mail do not.

    sent        the provider took it: ledger state sent, or in doubt (the answer was lost) with
                an event that shows SendGrid had it; in doubt: the rest of those, still unknown
    delivered   a delivered event, or an open or a click (they prove it arrived)
    opened      by people: an open not flagged sg_machine_open, or any click (a person clicked)
    clicked     any link but unsubscribe and manage
    machine     opened only by machines (Apple Mail privacy, security scanners): counted apart
    bounced     hard bounces; blocked: soft ones; deferred: still being retried, no outcome yet
    dropped     SendGrid did not send it, by its reason
    complaints  spam reports; unsubscribes: SendGrid's events plus our own one-click and page
                unsubscribes made after this edition went out and before the next one did

Rates: delivered of sent; bounces and drops of sent; the rest of delivered (as mailbox
providers measure complaints).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, union

from digest.archive.schema import deliveries, email_events, suppressions
from digest.events.links import MANAGE, UNSUBSCRIBE, VIEW, Story, StoryLinks, stories_of
from digest.report.sent import MAYBE, SENT, SentNewsletter, next_send
from digest.report.thresholds import Level, spam_level
from digest.report.timeline import Timeline, timeline

EVERY = "*"  # the newsletter of a suppression that covers every list (digest.subscribers)
OTHER = "other"
_CHUNK = 500

# What each figure counts, as SQL on email_events (the index of the preview uses them too).
_e = email_events.c
DELIVERED = _e.event.in_(("delivered", "open", "click"))
PERSON = or_(and_(_e.event == "open", _e.machine.is_(False)), _e.event == "click")
CLICKED = and_(_e.event == "click", or_(_e.link.is_(None), _e.link == VIEW))
MACHINE = and_(_e.event == "open", _e.machine.is_(True))
OUTCOME = _e.event.in_(("delivered", "open", "click", "bounce", "dropped"))


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class StoryClicks:
    story: Story
    unique: int = 0
    clicks: int = 0


@dataclass
class LinkClicks:
    kind: str  # view | unsubscribe | manage | other
    unique: int = 0
    clicks: int = 0


@dataclass
class Results:
    send: SentNewsletter
    has_events: bool  # any event linked to this send
    taken_in_doubt: int = 0  # in doubt in the ledger, but SendGrid's events show it had them
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    machine_opened: int = 0  # recipients with a machine open
    machine_only: int = 0  # ... and no sign of a person
    open_events: int = 0  # by people
    machine_open_events: int = 0
    click_events: int = 0
    reported: int = 0  # recipients with an outcome: delivered, bounced or dropped
    bounced: int = 0
    blocked: int = 0
    deferred: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> recipients
    complaints: int = 0
    unsubscribes: int = 0
    stories: list[StoryClicks] = field(default_factory=list)  # by unique clicks, then position
    links: list[LinkClicks] = field(default_factory=list)
    timeline: Timeline | None = None

    @property
    def sent(self) -> int:
        return self.send.sent + self.taken_in_doubt

    @property
    def in_doubt(self) -> int:
        """Recipients whose batch's answer was lost and of whom nothing is known since."""
        return self.send.in_doubt - self.taken_in_doubt

    @property
    def tracked(self) -> bool:
        """Whether this edition has figures beyond the ledger's."""
        return self.send.has_events and self.has_events

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    @property
    def awaiting(self) -> int:
        """Sent, with no outcome reported yet (deferred ones among them)."""
        return max(self.sent - self.reported, 0)

    @property
    def spam(self) -> Level:
        return spam_level(self.complaints, self.delivered)

    @property
    def note(self) -> str | None:
        """Why there are no figures beyond the ledger's, when there are none."""
        if not self.send.has_events:
            return ("sent through a backend that reports no events (outbox or SMTP): only the "
                    "send ledger's figures are known")
        if not self.has_events:
            return ("no events received for this edition yet: check that SendGrid's event "
                    "webhook posts to /webhooks/sendgrid of `digest serve`")
        return None


def results(conn: Connection, send: SentNewsletter, *, detail: bool = True) -> Results:
    """The figures of one sent newsletter; `detail` adds the stories, links and timeline."""
    e = email_events.c
    this = and_(e.edition == send.edition, e.newsletter == send.newsletter,
                e.delivery_id.is_not(None))
    found = Results(send, has_events=conn.scalar(select(e.event_id).where(this).limit(1))
                    is not None)
    if not found.tracked:
        return found

    def recipients(*where: ColumnElement[bool]) -> int:
        query = select(func.count(func.distinct(e.delivery_id))).where(this, *where)
        return int(conn.scalar(query) or 0)

    if send.in_doubt:
        with_row = email_events.join(deliveries, deliveries.c.id == e.delivery_id)
        found.taken_in_doubt = int(conn.scalar(
            select(func.count(func.distinct(e.delivery_id))).select_from(with_row)
            .where(this, deliveries.c.state.in_(MAYBE))) or 0)
    found.delivered = recipients(DELIVERED)
    found.opened = recipients(PERSON)
    found.clicked = recipients(CLICKED)
    found.machine_opened = recipients(MACHINE)
    people = select(e.delivery_id).where(this, PERSON)
    found.machine_only = recipients(MACHINE, e.delivery_id.not_in(people))
    found.bounced = recipients(e.event == "bounce", e.bounce_type == "bounce")
    found.blocked = recipients(e.event == "bounce", e.bounce_type == "blocked")
    found.reported = recipients(OUTCOME)
    finished = select(e.delivery_id).where(this, OUTCOME)
    found.deferred = recipients(e.event == "deferred", e.delivery_id.not_in(finished))
    found.complaints = recipients(e.event == "spamreport")
    dropped = (select(e.reason, func.count(func.distinct(e.delivery_id)))
               .where(this, e.event == "dropped").group_by(e.reason))
    found.dropped = {reason or "(no reason given)": int(n) for reason, n in conn.execute(dropped)}
    counts = select(func.count()).where(this)
    found.open_events = int(conn.scalar(counts.where(e.event == "open", e.machine.is_(False))))
    found.machine_open_events = int(conn.scalar(counts.where(MACHINE)))
    found.click_events = int(conn.scalar(counts.where(CLICKED)))
    found.unsubscribes = _unsubscribes(conn, send)
    if detail:
        found.stories, found.links = _clicks(conn, send, this)
        found.timeline = timeline(conn, send, this, PERSON, CLICKED)
    return found


def _unsubscribes(conn: Connection, send: SentNewsletter) -> int:
    """Recipients who unsubscribed after this edition: through SendGrid (events) or through our
    own links (suppressions made between this edition's send and the next one's)."""
    e, d, s = email_events.c, deliveries.c, suppressions.c
    by_event = select(e.delivery_id).where(
        e.edition == send.edition, e.newsletter == send.newsletter, e.delivery_id.is_not(None),
        e.event.in_(("unsubscribe", "group_unsubscribe")),
    )
    window = [s.created_at >= send.started_at] if send.started_at else []
    if (until := next_send(conn, send)) is not None:
        window.append(s.created_at < until)
    ours = (
        select(d.id)
        .join(suppressions, s.email == d.email)
        .where(
            d.edition == send.edition, d.newsletter == send.newsletter,
            d.state.in_((SENT, *MAYBE)),
            s.newsletter.in_((send.newsletter, EVERY)), s.reason == "unsubscribed",
            s.source != "webhook",  # those came from SendGrid's events, counted above
            *window,
        )
    )
    both = union(by_event, ours).subquery()
    return int(conn.scalar(select(func.count()).select_from(both)) or 0)


def _clicks(conn: Connection, send: SentNewsletter,
            this: ColumnElement[bool]) -> tuple[list[StoryClicks], list[LinkClicks]]:
    e = email_events.c
    click = and_(this, e.event == "click")
    own = {kind: LinkClicks(kind) for kind in (VIEW, UNSUBSCRIBE, MANAGE)}
    query = (select(e.link, func.count(), func.count(func.distinct(e.delivery_id)))
             .where(click, e.link.is_not(None)).group_by(e.link))
    for kind, clicks, unique in conn.execute(query):
        if kind in own:
            own[kind].clicks, own[kind].unique = int(clicks), int(unique)
    # Other links, by URL, each mapped to the story it leads to (None: to none of them).
    mapping = StoryLinks(stories_of(send.manifest))
    ranked = {story.id: StoryClicks(story) for story in mapping.stories}
    url = func.coalesce(e.url, "")
    urls: dict[str | None, list[str]] = defaultdict(list)
    totals: dict[str | None, tuple[int, int]] = {}
    query = (select(url, func.count(), func.count(func.distinct(e.delivery_id)))
             .where(click, e.link.is_(None)).group_by(url))
    for clicked, clicks, unique in conn.execute(query):
        story = mapping.story(clicked)
        key = story.id if story else None
        urls[key].append(clicked)
        done, seen = totals.get(key, (0, 0))
        totals[key] = (done + int(clicks), seen + int(unique))
    other = LinkClicks(OTHER)
    for key, (clicks, unique) in totals.items():
        if len(urls[key]) > 1:  # one person may have clicked two of its URLs
            unique = _unique_over(conn, and_(click, e.link.is_(None)), url, urls[key])
        target: StoryClicks | LinkClicks = ranked[key] if key is not None else other
        target.clicks, target.unique = clicks, unique
    order = {story.id: n for n, story in enumerate(mapping.stories)}
    stories = sorted(ranked.values(), key=lambda s: (-s.unique, -s.clicks, order[s.story.id]))
    return stories, [*own.values(), other]


def _unique_over(conn: Connection, clicks: ColumnElement[bool], url: ColumnElement[str],
                 urls: list[str]) -> int:
    """Recipients who clicked any of `urls`."""
    e = email_events.c
    people: set[int] = set()
    for start in range(0, len(urls), _CHUNK):
        query = select(e.delivery_id).distinct().where(clicks, url.in_(urls[start:start + _CHUNK]))
        people.update(conn.scalars(query))
    return len(people)
