"""The full list of recipients in doubt, as a CSV next to the edition: the terminal shows only
counts and the first few (a lost answer can put thousands in doubt)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from digest.send.ledger import Ledger

COLUMNS = ("email", "batch", "since", "why")


def write_in_doubt_csv(ledger: Ledger, path: Path) -> Path | None:
    """Write everyone in doubt to `path` (replacing it); None, and no file, when nobody is."""
    rows = ledger.doubtful()
    if not rows:
        path.unlink(missing_ok=True)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".csv.part")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            since = row.since.isoformat(timespec="seconds") if row.since else ""
            writer.writerow((row.email, row.batch or "", since, row.reason))
    os.replace(partial, path)
    return path
