"""Parsed stylesheets kept between processes (digest.render.kept): the same bytes out whether a
sheet is parsed or read back, and a missing, unreadable or out-of-date one is parsed again."""

from __future__ import annotations

from pathlib import Path

import mjml
import premailer
import pytest

import digest.render.inline as inline
import digest.render.kept as kept
from digest.build import build_editions
from tests.build.conftest import WEEK

EMAIL = """<mjml><mj-head><mj-style>.pad { padding: 4px 8px; } a:hover { color: #b00; }
@media (prefers-color-scheme: dark) { .pad { color: #eee !important; } }</mj-style>
<mj-style inline="inline">.lead { font-weight: bold; }</mj-style></mj-head>
<mj-body><mj-section><mj-column><mj-text css-class="pad"><p class="lead">Hello</p>
<a href="https://example.org">a link</a></mj-text></mj-column></mj-section></mj-body></mjml>"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A kept folder of this test's own, and no sheet known to this process yet."""
    monkeypatch.setattr(kept, "kept_folder", lambda: tmp_path)
    monkeypatch.setattr(inline._SharedSheets, "_cache", {})
    return tmp_path


def _as_a_new_process(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Forget this process's sheets; count the ones premailer has to parse from now on."""
    parsed: list[str] = []
    original = premailer.Premailer._parse_style_rules

    def counting(self, css_body, ruleset_index):
        parsed.append(css_body)
        return original(self, css_body, ruleset_index)

    monkeypatch.setattr(inline._SharedSheets, "_cache", {})
    monkeypatch.setattr(premailer.Premailer, "_parse_style_rules", counting)
    return parsed


def test_a_sheet_read_back_inlines_to_the_same_bytes(folder, monkeypatch):
    html = mjml.mjml2html(EMAIL)
    first = inline.inline_css(html)
    assert len(list(folder.glob("digest-sheet-*.json"))) >= 1
    parsed = _as_a_new_process(monkeypatch)
    assert inline.inline_css(html) == first
    assert parsed == []  # every sheet came back from the folder
    assert "font-weight:bold" in first.replace(" ", "") and "prefers-color-scheme" in first


def test_a_build_with_the_sheets_read_back_writes_the_same_edition(folder, monkeypatch,
                                                                   build_settings, archive,
                                                                   tmp_path):
    """The packaged email's own sheets: MJML's, the template's, its @media rules."""
    first = build_editions(build_settings, week=WEEK, engine=archive, out_dir=tmp_path / "a")
    parsed = _as_a_new_process(monkeypatch)
    second = build_editions(build_settings, week=WEEK, engine=archive, out_dir=tmp_path / "b")
    assert parsed == []
    assert _tree(second.edition_dir) == _tree(first.edition_dir)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_an_unreadable_kept_sheet_is_parsed_again(folder, monkeypatch):
    html = mjml.mjml2html(EMAIL)
    first = inline.inline_css(html)
    for path in folder.glob("digest-sheet-*.json"):
        path.write_text('{"rules": [[1, 2]]')  # cut short
    parsed = _as_a_new_process(monkeypatch)
    assert inline.inline_css(html) == first
    assert parsed  # worked out again, not taken from the broken file


def test_another_premailer_or_a_changed_inliner_makes_a_new_name(folder, monkeypatch):
    name = inline._sheet_name(".a { color: red; }", 0)
    assert inline._sheet_name(".a { color: red; }", 1) != name
    assert inline._sheet_name(".a { color: blue; }", 0) != name
    monkeypatch.setattr(inline, "_code_version", lambda: "another premailer")
    assert inline._sheet_name(".a { color: red; }", 0) != name


def test_without_a_private_folder_nothing_is_kept_and_inlining_works(tmp_path, monkeypatch):
    monkeypatch.setattr(kept, "kept_folder", lambda: None)
    monkeypatch.setattr(inline._SharedSheets, "_cache", {})
    kept.write_kept("x.json", b"{}")  # no error
    assert kept.read_kept("x.json") is None
    assert "font-weight" in inline.inline_css(mjml.mjml2html(EMAIL))
