"""Inserting rows that another process may insert at the same moment, without failing on the key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError


def insert_ignore(conn: Connection, table: Table, row: dict[str, Any]) -> bool:
    """Insert unless the key exists (race-safe); True when this call inserted the row."""
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        # A key back only when this call inserted the row (psycopg's rowcount says -1 here).
        statement = (module.insert(table).values(row).on_conflict_do_nothing()
                     .returning(*table.primary_key.columns))
        return conn.execute(statement).first() is not None
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(row))
    except IntegrityError:
        return False
    return True
