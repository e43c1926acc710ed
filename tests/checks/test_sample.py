"""The bundled sample passes every check with no errors, through `digest check` as an editor
runs it; its spam score stays below 2.5. The test prints the scores and warning counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from digest.editions import load_built
from digest.settings import Settings
from tests.support.settings import settings_env

from .conftest import WEEK

SLUGS = ["ai-policy", "competition", "regulatory-roundup"]


def digest(settings: Settings, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "digest", *args],
                          env={**settings_env(settings), **extra}, capture_output=True, text=True,
                          timeout=300, cwd=Path(settings.out_dir).parent)


def test_the_sample_has_no_errors_and_a_low_spam_score(sample_site: Settings, tools: None) -> None:
    done = digest(sample_site, "check", WEEK, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert [n["slug"] for n in data["newsletters"]] == SLUGS
    assert data["errors"] == 0
    for newsletter in data["newsletters"]:
        warnings = [f["check"] for f in newsletter["findings"] if f["severity"] == "warning"]
        print(f"{newsletter['slug']}: spam score {newsletter['spam_score']}, "
              f"{len(warnings)} warning(s) {warnings}")
        assert newsletter["ran"] == ["static", "browser", "spam"]
        assert newsletter["spam_score"] < 2.5
        assert newsletter["counts"]["error"] == 0
        # Default settings: the local base URL is the one thing to fix before going live.
        assert "links.base-url" in warnings
        recorded = load_built(sample_site.out_dir, WEEK, newsletter["slug"]).manifest["checks"]
        assert recorded["ran"] == newsletter["ran"] and recorded["content"] == newsletter["content"]
