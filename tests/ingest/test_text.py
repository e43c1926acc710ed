"""Shared text helpers: HTML to blocks, dates, window bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from digest.ingest.dates import parse_bound, parse_date
from digest.ingest.html import html_blocks, html_text
from digest.models import Block


def test_html_blocks() -> None:
    markup = (
        "<div><h1>Top</h1>Loose text &amp; <a href='x'>a link</a>"
        "<p>Para&nbsp;one<br>continues</p><style>p {color: red}</style>"
        "<blockquote><p>Quoted</p></blockquote><!-- a comment --><h4>Small <i>head</i></h4>"
        "<table><tr><td>Cell</td></tr></table></div>"
    )
    assert html_blocks(markup) == [
        Block("subhead", "Top"),
        Block("paragraph", "Loose text & a link"),
        Block("paragraph", "Para one continues"),
        Block("paragraph", "Quoted"),
        Block("subhead", "Small head"),
        Block("paragraph", "Cell"),
    ]
    assert html_text("A &lt;b&gt; <b>bold</b> move") == "A <b> bold move"
    assert html_blocks("Plain text,\nno markup.\n\nSecond &amp; last.") == [
        Block("paragraph", "Plain text, no markup."), Block("paragraph", "Second & last."),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-03T09:30:00Z", datetime(2026, 11, 3, 9, 30, tzinfo=UTC)),
        ("2026-11-03T10:30:00+01:00", datetime(2026, 11, 3, 9, 30, tzinfo=UTC)),
        ("2026-11-03 09:30", datetime(2026, 11, 3, 9, 30, tzinfo=UTC)),
        ("2026-11-03", datetime(2026, 11, 3, tzinfo=UTC)),
        (date(2026, 11, 3), datetime(2026, 11, 3, tzinfo=UTC)),
        ("Tue, 03 Nov 2026 04:30:00 -0500", datetime(2026, 11, 3, 9, 30, tzinfo=UTC)),
        ("November 3, 2026, 09:30 GMT", datetime(2026, 11, 3, 9, 30, tzinfo=UTC)),
        ("Nov 3, 2026", datetime(2026, 11, 3, tzinfo=UTC)),
        ("Sept. 3, 2026, 9:30 UTC", datetime(2026, 9, 3, 9, 30, tzinfo=UTC)),
    ],
)
def test_parse_date(value: object, expected: datetime) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["", "soon", "Smarch 3, 2026", "2026-02-30", 20261103, None])
def test_parse_date_refuses(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


def test_parse_bound() -> None:
    assert parse_bound("2026-11-02", end=False) == datetime(2026, 11, 2, tzinfo=UTC)
    assert parse_bound("2026-11-02", end=True) == datetime(2026, 11, 2, 23, 59, 59, 999999, UTC)
    assert parse_bound("2026-W45", end=False) == datetime(2026, 11, 2, tzinfo=UTC)
    assert parse_bound("2026-W45", end=True) == datetime(2026, 11, 8, 23, 59, 59, 999999, UTC)
    assert parse_bound("2026-11-02T10:00+02:00", end=True) == datetime(2026, 11, 2, 8, tzinfo=UTC)
