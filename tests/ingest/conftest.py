"""Helpers for the ingest tests: the fixture folder and a one-file parse through the registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import digest.ingest  # noqa: F401  (registers the built-in readers)
from digest.errors import InputError
from digest.ingest.registry import Source, choose
from digest.models import Article

FIXTURES = Path(__file__).resolve().parent / "fixtures"

Parse = Callable[[Path], list[Article | InputError]]


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def parse_file(path: Path, name: str | None = None) -> list[Article | InputError]:
    """Everything the chosen reader makes of one file, in order."""
    source = Source(name or str(path), path.read_bytes(), path)
    return list(choose(source).read(source))


@pytest.fixture
def parse() -> Parse:
    return parse_file


@pytest.fixture
def parse_one() -> Callable[[Path], Article]:
    def one(path: Path) -> Article:
        results = parse_file(path)
        assert len(results) == 1, results
        assert isinstance(results[0], Article), results[0]
        return results[0]

    return one
