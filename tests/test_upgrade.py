"""A database made by an earlier digest is brought up to date when opened, its rows kept."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import MetaData, Table, create_engine, insert, select

from digest.archive import connect
from digest.archive.db import dispose_all
from digest.archive.schema import deliveries, subscribers
from digest.archive.upgrade import missing_columns, upgrade
from digest.subscribers import count_subscribers

# Columns added to existing tables since the first release (readers' topics, variants).
ADDED = {"subscribers": {"origin", "topics", "topics_by", "paused_until"},
         "deliveries": {"variant"}}


def earlier_schema() -> MetaData:
    """subscribers and deliveries as the first release made them: without the added columns."""
    old = MetaData()
    for table in (subscribers, deliveries):
        Table(table.name, old, *[c._copy() for c in table.columns
                                 if c.name not in ADDED[table.name]])
    return old


def test_an_earlier_database_gets_the_new_columns_and_keeps_its_rows(database_url: str) -> None:
    url = database_url.replace("postgresql://", "postgresql+psycopg://")
    earlier = create_engine(url)
    old = earlier_schema()
    old.create_all(earlier)
    now = datetime.now(UTC)
    with earlier.begin() as conn:
        conn.execute(insert(old.tables["subscribers"]).values(
            newsletter="ai-policy", email="jo@example.com", name="Jo", status="active",
            created_at=now, updated_at=now))
    earlier.dispose()

    engine = connect(database_url)  # upgrades on the way in

    assert missing_columns(engine) == []
    with engine.connect() as conn:
        row = conn.execute(select(subscribers)).one()
    assert (row.email, row.name, row.origin, row.topics, row.paused_until) == \
        ("jo@example.com", "Jo", "csv", None, None)
    assert [c.receiving for c in count_subscribers(engine, "ai-policy")] == [1]
    with engine.begin() as conn:  # new rows get the schema's own default
        conn.execute(insert(subscribers).values(
            newsletter="ai-policy", email="al@example.com", status="active", created_at=now,
            updated_at=now, origin="form"))
    assert upgrade(engine) == []  # nothing left to do the next time
    dispose_all()
    assert missing_columns(connect(database_url)) == []
