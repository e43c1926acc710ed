"""Every benchmark still runs: each `bench/*.py` once at its tiny size (`--tiny`), in a process
of its own, must exit 0 and print its figures. No timing is asserted: the figures are for
people to read (the shared CI machine makes any threshold flaky)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHES = sorted((ROOT / "bench").glob("*.py"))
# Any bench prints figures with units; the known ones must print these lines too.
FIGURE = re.compile(r"\d[\d,.]*\s*(?:s|ms|MB|KB|/s)\b")
EXPECTED = {
    "build.py": ["whole process (start-up, imports, build)", "build_editions()", "peak memory",
                 "imported alone", "as the preview rebuilds it", "with `digest warm` running"],
    "ingest.py": ["articles/s", "peak RSS"],
    "send.py": ["recipients/s", "peak RSS"],
    "smtp.py": ["messages/s", "aiosmtpd"],
    "startup.py": ["python -c pass", "digest --help", "digest build --help"],
    "summaries.py": ["ours-60w"],
    "unsubscribe.py": ["requests/s", "verdict      OK"],
}


def test_every_bench_is_covered() -> None:
    assert {b.stem for b in BENCHES} >= {"build", "ingest", "send", "smtp", "startup",
                                         "unsubscribe"}


@pytest.mark.parametrize("bench", BENCHES, ids=lambda p: p.name)
def test_bench_runs_at_its_tiny_size(bench: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env.update(TMPDIR=str(tmp_path), PYTHONPATH=str(ROOT))
    if os.environ.get("DIGEST_MJML_VALIDATOR"):  # the npm mjml that bench/build.py compares with
        env["DIGEST_MJML_VALIDATOR"] = os.environ["DIGEST_MJML_VALIDATOR"]
    done = subprocess.run([sys.executable, str(bench), "--tiny"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    if "nothing to measure" in out:  # an optional input (a data set) is missing here
        return
    assert FIGURE.search(out), out
    for line in EXPECTED.get(bench.name, []):
        assert line in out, out
