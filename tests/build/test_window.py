"""The edition window: ISO weeks, date ranges, 'latest', and the edges of a week."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from digest.build import build_editions
from digest.cli import app
from digest.curate import range_window, resolve_window, week_window
from digest.curate.window import date_label
from digest.errors import DigestError


def test_an_iso_week_runs_monday_midnight_to_the_last_microsecond_of_sunday():
    window = week_window("2026-W47")
    assert window.id == "2026-W47"
    assert window.since == datetime(2026, 11, 16, tzinfo=UTC)
    assert window.until == datetime(2026, 11, 22, 23, 59, 59, 999999, tzinfo=UTC)
    assert datetime(2026, 11, 22, 23, 59, 59, tzinfo=UTC) in window
    assert datetime(2026, 11, 23, 0, 0, 0, tzinfo=UTC) not in window
    assert window.label == "16–22 November 2026"


def test_week_one_can_start_in_the_previous_year():
    window = week_window("2026-W01")
    assert window.since == datetime(2025, 12, 29, tzinfo=UTC)
    assert window.label == "29 December 2025 – 4 January 2026"
    assert week_window("2020w53").id == "2020-W53"  # 2020 has 53 ISO weeks


@pytest.mark.parametrize("spec", ["2026-47", "W47", "2026-W", "2026-W54", "2026-W00", "26-W10",
                                  "2026-W47-1", "next week"])
def test_a_malformed_week_is_a_clear_error(spec):
    with pytest.raises(DigestError, match="malformed --week") as caught:
        week_window(spec)
    assert "2026-W47" in str(caught.value)  # says what a good one looks like


def test_dates_in_a_range_mean_whole_days():
    window = range_window("2026-11-02", "2026-11-10")
    assert window.id == "2026-11-02_2026-11-10"
    assert window.since == datetime(2026, 11, 2, tzinfo=UTC)
    assert window.until == datetime(2026, 11, 10, 23, 59, 59, 999999, tzinfo=UTC)
    assert window.label == "2–10 November 2026"


def test_a_range_that_is_exactly_an_iso_week_is_that_week():
    # The preview rebuilds an edition from the since/until in its index.
    window = range_window("2026-11-16T00:00:00Z", "2026-11-22T23:59:59.999999Z")
    assert window.id == "2026-W47"


def test_the_default_window_is_the_seven_days_up_to_now(engine):
    now = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    window = resolve_window(engine, now=now)
    assert window.until == now
    assert (window.until - window.since).days == 7
    assert window.id == "2026-11-21_2026-11-28"


def test_bad_ranges_are_refused(engine):
    with pytest.raises(DigestError, match="after --until"):
        range_window("2026-11-10", "2026-11-02")
    with pytest.raises(DigestError, match="malformed --since"):
        range_window("yesterday", None)
    with pytest.raises(DigestError, match="either --week or --since"):
        resolve_window(engine, week="2026-W47", since="2026-11-01")


def test_latest_is_the_week_of_the_newest_article(archive):
    # The newest fixture article is published at the first second of 2026-W11.
    assert resolve_window(archive, week="latest").id == "2026-W11"


def test_latest_on_an_empty_archive_says_to_ingest(engine):
    with pytest.raises(DigestError, match="archive is empty"):
        resolve_window(engine, week="latest")


def test_the_last_second_of_the_week_is_in_and_the_next_monday_is_out(build_settings, archive):
    result = build_editions(build_settings, week="2026-W10", newsletters=["tech-brief"],
                            engine=archive)
    manifest = json.loads((result.edition_dir / "tech-brief" / "manifest.json").read_text())
    picked = {a["id"] for a in manifest["articles"]}
    left = {a["id"]: a for a in manifest["left_out"]}
    assert "fx-last-second" in picked  # 2026-03-08T23:59:59Z, Sunday
    assert left["fx-next-week"]["code"] == "outside_window"  # 2026-03-09T00:00:00Z, Monday
    assert "after 2–8 March 2026" in left["fx-next-week"]["reason"]
    assert manifest["edition"] == {"id": "2026-W10", "label": "2–8 March 2026",
                                   "since": "2026-03-02T00:00:00Z",
                                   "until": "2026-03-08T23:59:59.999999Z"}


def test_malformed_week_on_the_command_line_exits_non_zero(build_settings, archive):
    result = CliRunner().invoke(app, ["build", "--week", "2026-W99"])
    assert result.exit_code == 1
    assert "malformed --week '2026-W99'" in result.output
    assert "Traceback" not in result.output


def test_date_label_forms():
    day = datetime(2026, 11, 30, tzinfo=UTC)
    assert date_label(day, datetime(2026, 12, 6, tzinfo=UTC)) == "30 November – 6 December 2026"
    assert date_label(day, day) == "30 November 2026"
