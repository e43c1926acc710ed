"""insert_ignore says whether it inserted, on every database (PostgreSQL's rowcount is -1 here)."""

from __future__ import annotations

from datetime import UTC, datetime

from digest.archive.schema import manage_links
from digest.archive.upsert import insert_ignore


def test_insert_ignore_is_true_only_for_the_call_that_inserted(engine):
    row = {"email": "jo@example.com", "version": 1, "updated_at": datetime.now(UTC)}
    with engine.begin() as conn:
        assert insert_ignore(conn, manage_links, row) is True
        assert insert_ignore(conn, manage_links, {**row, "version": 2}) is False
