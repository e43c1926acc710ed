"""Curation: which articles each newsletter carries for one window, and why."""

from digest.curate.overrides import EditionPlan, Overrides, edition_plan, load_edition_file
from digest.curate.select import LeftOut, Pick, Section, Selection, select
from digest.curate.similar import DuplicateIndex
from digest.curate.window import Window, latest_week, range_window, resolve_window, week_window

__all__ = [
    "DuplicateIndex",
    "EditionPlan",
    "LeftOut",
    "Overrides",
    "Pick",
    "Section",
    "Selection",
    "Window",
    "edition_plan",
    "latest_week",
    "load_edition_file",
    "range_window",
    "resolve_window",
    "select",
    "week_window",
]
