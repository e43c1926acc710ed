"""The Results tab and the index's rates: a sent edition's figures (digest/report/) as charts.

The charts are inline SVG laid out here (what is drawn where) and written by the templates
(templates/results.html); nothing is fetched from anywhere else, no script draws them.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, case, func, select, tuple_
from sqlalchemy.exc import SQLAlchemyError

from digest.archive import connect
from digest.archive.schema import deliveries, email_events, send_runs
from digest.errors import DigestError
from digest.report import Results, rate
from digest.report.figures import CLICKED, DELIVERED, PERSON, results
from digest.report.sent import MAYBE, SENT, reports_events, sent_newsletter
from digest.report.timeline import Timeline
from digest.settings import Settings

log = logging.getLogger("digest.preview")


@dataclass
class ResultsView:
    """What the Results tab shows."""

    results: Results
    funnel: FunnelChart | None
    hours: HourChart | None
    most_clicks: int  # of a story, for the length of the bars


def results_view(settings: Settings, edition: str, slug: str) -> ResultsView | None:
    """The Results tab of a sent newsletter; None when it was not sent (or the database cannot
    say: the preview of the email itself must not depend on it)."""
    try:
        with connect(settings.database).connect() as conn:
            send = sent_newsletter(conn, edition, slug)
            found = results(conn, send) if send is not None else None
    except (DigestError, SQLAlchemyError) as exc:
        log.warning("no results for %s/%s: %s", edition, slug, exc)
        return None
    if found is None:
        return None
    if not found.tracked:
        return ResultsView(found, None, None, 0)
    hours = hour_chart(found.timeline) if found.timeline else None
    most = max((s.unique for s in found.stories), default=0)
    return ResultsView(found, funnel_chart(found), hours, most)


@dataclass(frozen=True)
class Rates:
    """The index's line for a sent newsletter."""

    sent: int
    tracked: bool
    delivered: float | None = None
    opened: float | None = None
    clicked: float | None = None


def index_rates(settings: Settings, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str],
                                                                            Rates]:
    """Delivered / opened / clicked rates of every sent (edition, newsletter) among `pairs`, in
    two queries whatever their number (the figures' own definitions: digest/report/figures.py)."""
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    d, e, r = deliveries.c, email_events.c, send_runs.c
    sent_query = (
        select(d.edition, d.newsletter, func.count())
        .where(tuple_(d.edition, d.newsletter).in_(wanted), d.state == SENT)
        .group_by(d.edition, d.newsletter)
    )
    runs_query = (select(r.edition, r.newsletter, r.backend).distinct()
                  .where(tuple_(r.edition, r.newsletter).in_(wanted)))

    def recipients(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.count(func.distinct(case((condition, e.delivery_id))))

    events_query = (
        select(e.edition, e.newsletter, recipients(d.state.in_(MAYBE)), recipients(DELIVERED),
               recipients(PERSON), recipients(CLICKED))
        .select_from(email_events.join(deliveries, d.id == e.delivery_id))
        .where(tuple_(e.edition, e.newsletter).in_(wanted))
        .group_by(e.edition, e.newsletter)
    )
    backends: dict[tuple[str, str], set[str]] = defaultdict(set)
    try:
        with connect(settings.database).connect() as conn:
            sent = {(row[0], row[1]): int(row[2]) for row in conn.execute(sent_query)}
            for edition, newsletter, backend in conn.execute(runs_query):
                backends[edition, newsletter].add(backend)
            engaged = {(row[0], row[1]): row[2:] for row in conn.execute(events_query)}
    except (DigestError, SQLAlchemyError) as exc:
        log.warning("no results for the index: %s", exc)
        return {}
    found = {}
    for key, count in sent.items():
        if key not in engaged or not reports_events(backends[key]):
            found[key] = Rates(count, tracked=False)
            continue
        taken_in_doubt, delivered, opened, clicked = (int(n) for n in engaged[key])
        count += taken_in_doubt  # as the report counts them (digest/report/figures.py)
        found[key] = Rates(count, True, rate(delivered, count), rate(opened, delivered),
                           rate(clicked, delivered))
    return found


# -- Charts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelRow:
    label: str
    count: int
    note: str  # the rate, and of what
    width: float  # of the bar, in the chart's units
    y: float


@dataclass(frozen=True)
class FunnelChart:
    rows: list[FunnelRow]
    label_width: float = 150
    bar_width: float = 470
    row_height: float = 34
    width: float = 760

    @property
    def height(self) -> float:
        return self.row_height * len(self.rows)


def funnel_chart(r: Results) -> FunnelChart:
    steps = [("Sent", r.sent, "", r.sent),
             ("Delivered", r.delivered, "of sent", r.sent),
             ("Opened by people", r.opened, "of delivered", r.delivered),
             ("Clicked", r.clicked, "of delivered", r.delivered)]
    chart = FunnelChart([])
    for n, (label, count, of, whole) in enumerate(steps):
        share = rate(count, whole)
        note = f"{share:.1%} {of}" if of and share is not None else ""
        width = chart.bar_width * (count / r.sent if r.sent else 0)
        chart.rows.append(FunnelRow(label, count, note, max(width, 1.5 if count else 0),
                                    n * chart.row_height))
    return chart


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    hour: int


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass
class HourChart:
    """Recipients by the hour of their first open (wide bars) and first click (narrow ones)."""

    timeline: Timeline
    width: float = 760
    height: float = 240
    left: float = 48
    right: float = 12
    top: float = 14
    bottom: float = 30
    opened: list[Bar] = field(default_factory=list)
    clicked: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)

    @property
    def plot_bottom(self) -> float:
        return self.height - self.bottom

    @property
    def plot_right(self) -> float:
        return self.width - self.right

    @property
    def summary(self) -> str:
        t = self.timeline
        peak = max(range(t.hours), key=lambda h: t.opened[h]) if any(t.opened) else None
        busiest = f"; most first opens in hour {peak}" if peak is not None else ""
        return (f"First opens and clicks by the hour after sending, over {t.hours} hours: "
                f"{sum(t.opened):,} opened, {sum(t.clicked):,} clicked{busiest}.")


def hour_chart(timeline: Timeline) -> HourChart:
    chart = HourChart(timeline)
    plot_width = chart.plot_right - chart.left
    plot_height = chart.plot_bottom - chart.top
    top = _nice(max([*timeline.opened, *timeline.clicked, 1]))
    slot = plot_width / max(timeline.hours, 1)

    def bar(hour: int, value: int, inset: float) -> Bar:
        height = plot_height * value / top
        return Bar(chart.left + hour * slot + slot * inset, chart.plot_bottom - height,
                   slot * (1 - 2 * inset), height, value, hour)

    chart.opened = [bar(h, v, 0.08) for h, v in enumerate(timeline.opened) if v]
    chart.clicked = [bar(h, v, 0.3) for h, v in enumerate(timeline.clicked) if v]
    step = top / 4
    chart.y_ticks = [Tick(chart.plot_bottom - plot_height * n / 4, f"{step * n:,.0f}")
                     for n in range(5)]
    every = 6 if timeline.hours <= 48 else 12
    chart.x_ticks = [Tick(chart.left + h * slot, f"{h}h")
                     for h in range(0, timeline.hours + 1, every)]
    return chart


def _nice(value: int) -> int:
    """The chart's top: the first of 4, 8, 12, 20, 40, 60... at least `value`, so that its four
    ticks are round numbers."""
    magnitude = 10 ** max(int(math.log10(max(value, 1))) - 1, 0)
    return next(f * magnitude for f in (4, 8, 12, 20, 40, 60, 80, 120, 200) if f * magnitude
                >= value)
