"""What an ingest run did, per source: the counts the CLI prints and the rejections it lists."""

from __future__ import annotations

from dataclasses import dataclass, field

from digest.errors import InputError
from digest.ingest.sources import Skipped


@dataclass(slots=True)
class SourceReport:
    """Counts for one file or URL.

    `stale` counts versions older than the one already archived (a story's first version ingested
    after its correction): the archive keeps the newer one, so they are also counted as
    `unchanged`, and `stale` is the part of `unchanged` that differed from what is stored.
    """

    source: str
    reader: str | None = None
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0

    @property
    def articles(self) -> int:
        """Articles parsed (saved or not); rejected records are not articles."""
        return self.new + self.updated + self.unchanged

    def count(self, outcome: str) -> None:
        if outcome == "stale":
            self.stale += 1
            self.unchanged += 1
        else:
            setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(slots=True)
class IngestReport:
    dry_run: bool = False
    sources: list[SourceReport] = field(default_factory=list)
    rejections: list[InputError] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was rejected."""
        return not self.rejections

    def total(self) -> SourceReport:
        total = SourceReport("total")
        for row in self.sources:
            total.new += row.new
            total.updated += row.updated
            total.unchanged += row.unchanged
            total.stale += row.stale
            total.rejected += row.rejected
        return total

    def row(self, source: str, reader: str | None = None) -> SourceReport:
        """A new row for a source (one per file or URL, in the order they were read)."""
        row = SourceReport(source, reader)
        self.sources.append(row)
        return row

    def reject(self, row: SourceReport, error: InputError) -> None:
        row.rejected += 1
        self.rejections.append(error)
