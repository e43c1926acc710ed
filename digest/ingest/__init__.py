"""Ingest: sources (files, folders, feed URLs) in, normalised articles in the archive out.

    from digest.ingest import ingest
    report = ingest(["articles/"], engine, settings)

Readers are looked up in a registry (see registry.py); add one with `@register`.
"""

from digest.ingest.pipeline import ingest
from digest.ingest.registry import Reader, ReadResult, Source, choose, readers, register, unregister
from digest.ingest.report import IngestReport, SourceReport
from digest.ingest.sources import Skipped, sample_corpus

__all__ = [
    "IngestReport",
    "ReadResult",
    "Reader",
    "Skipped",
    "Source",
    "SourceReport",
    "choose",
    "ingest",
    "readers",
    "register",
    "sample_corpus",
    "unregister",
]
