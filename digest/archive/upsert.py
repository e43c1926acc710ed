"""Inserting rows that another process may insert at the same moment, without failing on the key."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import IntegrityError


def upsert_insert(conn: Connection) -> Callable[[Table], Any] | None:
    """The dialect's own `insert` (it has ON CONFLICT) on PostgreSQL and SQLite, else None.
    Imported when first used: a command on SQLite never pays the PostgreSQL dialect's import."""
    if conn.dialect.name not in ("postgresql", "sqlite"):
        return None
    return importlib.import_module(f"sqlalchemy.dialects.{conn.dialect.name}").insert


def insert_ignore(conn: Connection, table: Table, row: dict[str, Any]) -> bool:
    """Insert unless the key exists (race-safe); True when this call inserted the row."""
    dialect_insert = upsert_insert(conn)
    if dialect_insert is not None:
        # A key back only when this call inserted the row (psycopg's rowcount says -1 here).
        statement = (dialect_insert(table).values(row).on_conflict_do_nothing()
                     .returning(*table.primary_key.columns))
        return conn.execute(statement).first() is not None
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(row))
    except IntegrityError:
        return False
    return True
