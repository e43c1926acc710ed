"""Every generated email.mjml passes the reference MJML validator (npm `mjml`, `mjml -v`).

mjml-python does not validate, so this is the check that our templates are real MJML. The
binary is found through DIGEST_MJML_VALIDATOR (set by .ci/run), .ci/node, or PATH; the test
is skipped only when none is installed:
    npm install --prefix .ci/node mjml@4
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from digest.build import build_editions

ROOT = Path(__file__).resolve().parents[2]
# Read at import: the autouse fixture clears DIGEST_* variables before each test.
CANDIDATES = [os.environ.get("DIGEST_MJML_VALIDATOR", ""),
              str(ROOT / ".ci" / "node" / "node_modules" / ".bin" / "mjml"),
              shutil.which("mjml") or ""]
VALIDATOR = next((c for c in CANDIDATES if c and os.access(c, os.X_OK)), None)

pytestmark = pytest.mark.skipif(VALIDATOR is None, reason="the npm `mjml` validator is not "
                                "installed (npm install --prefix .ci/node mjml@4)")


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VALIDATOR, "-v", str(path)], capture_output=True, text=True,
                          timeout=120, check=False)


def assert_valid(path: Path) -> None:
    run = validate(path)
    report = (run.stdout + run.stderr).strip()
    assert run.returncode == 0 and "Line " not in report, f"{path}:\n{report}"


def test_every_fixture_newsletter_is_valid_mjml(build_settings, archive):
    result = build_editions(build_settings, week="2026-W10", engine=archive)
    files = sorted(result.edition_dir.glob("*/email.mjml"))
    assert len(files) == 3
    for path in files:
        assert_valid(path)


def test_quiet_week_and_more_this_week_variants_are_valid(build_settings, archive):
    quiet = build_editions(build_settings, week="2026-W20", quiet_week=True, engine=archive)
    assert_valid(quiet.edition_dir / "tech-brief" / "email.mjml")
    small = build_settings.model_copy(update={"size_limit_kb": 25.0})
    shrunk = build_editions(small, week="2026-W10", newsletters=["everything"], engine=archive)
    assert shrunk.newsletters[0].more > 0
    assert_valid(shrunk.edition_dir / "everything" / "email.mjml")


def test_the_validator_does_reject_bad_mjml(tmp_path):
    bad = tmp_path / "bad.mjml"
    bad.write_text('<mjml><mj-body><mj-section><mj-column><mj-text colour="red">x</mj-text>'
                   "</mj-column></mj-section></mj-body></mjml>")
    assert validate(bad).returncode != 0
