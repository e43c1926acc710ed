"""Chromium and SpamAssassin: a clear finding, never a traceback, when one is missing or has
no rules; and proof that this machine's SpamAssassin has its rules without sa-update."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.checks.edition import load_newsletters
from digest.checks.message import Message
from digest.checks.run import check_messages
from digest.checks.spam import SpamRun
from digest.settings import Settings

from .conftest import FAULTY, SPAMASSASSIN, WEEK
from .test_sample import digest


def messages(settings: Settings) -> list[Message]:
    return [Message(settings, b) for b in load_newsletters(settings, WEEK, [FAULTY])]


def test_a_wrong_chromium_path_says_what_to_install(faulty_site: Settings, tmp_path: Path):
    settings = faulty_site.model_copy(update={"chromium_path": tmp_path / "no-chromium"})
    [report] = check_messages(settings, messages(settings), groups=("browser",))
    [finding] = report.findings
    assert finding.check == "browser.unavailable" and finding.severity == "warning"
    assert f"no Chromium at {tmp_path / 'no-chromium'}" in finding.problem
    assert "apt-get install chromium" in finding.fix and "DIGEST_CHROMIUM_PATH" in finding.fix
    assert "browser" not in report.ran  # so the next run (or digest send) tries again


def test_a_wrong_spamassassin_path_says_what_to_install(faulty_site: Settings, tmp_path: Path):
    settings = faulty_site.model_copy(update={"spamassassin_path": tmp_path / "no-sa"})
    [report] = check_messages(settings, messages(settings), groups=("spam",))
    [finding] = report.findings
    assert finding.check == "spam.unavailable" and finding.severity == "warning"
    assert "apt-get install spamassassin" in finding.fix
    assert report.spam_score is None and "spam" not in report.ran


def test_spamassassin_without_rules_is_reported(faulty_site: Settings, tmp_path: Path):
    if not SPAMASSASSIN.exists():
        pytest.skip("needs /usr/bin/spamassassin (apt-get install spamassassin)")
    empty = tmp_path / "rules"
    empty.mkdir()
    [(score, [finding])] = SpamRun(faulty_site, messages(faulty_site), rules_dir=empty).results()
    assert score is None and finding.check == "spam.unavailable"
    assert "found no rules" in finding.problem and "/usr/share/spamassassin" in finding.problem


def test_debian_ships_the_rules_so_no_network_is_needed() -> None:
    if not SPAMASSASSIN.exists():
        pytest.skip("needs /usr/bin/spamassassin (apt-get install spamassassin)")
    shipped = sorted(Path("/usr/share/spamassassin").glob("*.cf"))
    assert len(shipped) > 20, "Debian's spamassassin package should install its rules"


def test_digest_check_without_the_tools_says_so_in_its_table(faulty_site: Settings,
                                                             tmp_path: Path) -> None:
    done = digest(faulty_site, "check", WEEK, "-n", FAULTY, COLUMNS="200",
                  DIGEST_CHROMIUM_PATH=str(tmp_path / "chromium"),
                  DIGEST_SPAMASSASSIN_PATH=str(tmp_path / "spamassassin"))
    out = " ".join(done.stdout.split())
    assert "Traceback" not in done.stderr
    assert done.returncode == 1  # the seeded faults are errors; the missing tools are not
    assert "browser.unavailable" in out and "spam.unavailable" in out
    assert "apt-get install chromium" in out and "links.https" in out
    assert "refuses these newsletters" in out


def test_forced_dark_mode_judges_colours_the_email_set_not_the_browser_defaults(
        settings: Settings, tools: None) -> None:
    from digest.editions import load_built
    from tests.support.data import EDITION, SLUG, make_edition

    settings = settings.model_copy(update={"chromium_path": Path("/usr/bin/chromium")})
    set_dark = '<p style="color:#222222">Dark grey set by the email itself.</p></body>'
    for html, expected in [
        ("<html><body><p>Plain text, <a href='https://x.example/'>a link</a>.</p></body></html>",
         []),  # a client painting the canvas dark recolours default text too
        (f"<html><body><p>Plain.</p>{set_dark}</html>", ["dark.contrast"]),
    ]:
        make_edition(settings.out_dir, html=html)
        message = Message(settings, load_built(settings.out_dir, EDITION, SLUG))
        [report] = check_messages(settings, [message], groups=("browser",))
        assert [f.check for f in report.findings if f.check.endswith("contrast")] == expected
