"""A template seeded with one fault per check produces exactly the expected finding for each,
where the fault is (the fixture is in conftest.py)."""

from __future__ import annotations

import pytest

from digest.checks import check_edition
from digest.settings import Settings

from .conftest import WEEK

# (check, severity, where the finding points); nothing else may be an error or a warning.
EXPECTED = {
    ("a11y.alt", "error", "<img> near 'This note is printed in a grey too light to read…'"),
    ("a11y.contrast", "error", "td.pad > div > p.faint"),
    ("dark.contrast", "error", "td.pad > div > p.night"),
    ("links.https", "error", "<a> 'Archive'"),
    ("links.empty", "error", "<a> 'Top'"),
    ("links.article-unique", "error", "articles 'AI Office hires its first enforcement "
     "director', 'UK government delays its artificial intelligence bill'"),
    ("deliverability.postal-address", "error", "HTML body"),
    ("deliverability.postal-address", "error", "text part"),
    ("deliverability.text-part", "error", "text part"),
    ("deliverability.subject-caps", "warning", "header Subject"),
    ("spam.score", "error", "the whole message (.eml)"),
    ("support.css-display-grid", "warning", "<div> 'Left Right'"),
    ("a11y.text-size", "warning", "td.pad > div > p.tiny"),
    ("a11y.layout-table", "warning", "<table> 'A layout cell'"),
    ("a11y.link-text", "warning", "<a> 'Read the full story →'"),
    ("a11y.axe.list", "warning", "ul"),
    ("dark.color-scheme", "warning", "<head>"),
}


@pytest.fixture(scope="module")
def findings(faulty_site: Settings, tools: None) -> list:
    [checked] = check_edition(faulty_site, WEEK)
    return checked.report.findings


def test_each_seeded_fault_gives_exactly_its_finding(findings: list) -> None:
    got = {(f.check, f.severity, f.where) for f in findings if f.severity != "info"}
    assert got - EXPECTED == set(), "unexpected findings"
    assert EXPECTED - got == set(), "faults not found"
    counted = [(f.check, f.where) for f in findings if f.severity != "info"]
    assert len(counted) == len(EXPECTED), "a fault was reported twice"


def test_the_findings_say_what_and_what_to_do(findings: list) -> None:
    by_check = {f.check: f for f in findings}
    assert "2.17:1" in by_check["a11y.contrast"].problem
    assert "#b0b0b0 on #ffffff" in by_check["a11y.contrast"].problem
    assert "dark on dark" in by_check["dark.contrast"].problem
    assert "http://regwire.example/archive" in by_check["links.https"].problem
    assert "Outlook for Windows" in by_check["support.css-display-grid"].problem
    assert "11 px" in by_check["a11y.text-size"].problem
    spam = by_check["spam.score"]
    assert "SUBJ_ALL_CAPS" in spam.problem and "above 5" in spam.problem
    assert all(f.fix for f in findings)
    assert 'src="https://regwire.example/chart.png"' in by_check["a11y.alt"].snippet
