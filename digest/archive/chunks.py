"""Long `IN (...)` lists go to the database in slices: every driver limits the parameters one
statement may bind (SQLite's older builds to 999), and 500 is well under all of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
SLICE = 500


def in_slices(items: Iterable[T], size: int = SLICE) -> Iterator[list[T]]:
    """`items` in lists of at most `size`, in order."""
    pending = list(items)
    for start in range(0, len(pending), size):
        yield pending[start:start + size]
