"""bench/webhook.py still runs: a few small signed posts to a real `digest serve` on SQLite,
every event stored once. The figures come from the full run (PostgreSQL with --pg)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "webhook.py"


@pytest.mark.timeout(180)
def test_the_webhook_benchmark_runs_tiny(tmp_path: Path) -> None:
    command = [sys.executable, str(BENCH), "--tiny"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=170)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdict      OK: 0 lost, 0 stored twice" in done.stdout
