"""Bring a database made by an earlier digest up to this one's schema.

`metadata.create_all` makes missing tables but leaves existing ones alone, so a database from
an earlier version lacks the columns added since (the readers' topics, the variant a delivery
got, ...) and the first query that names one fails. Every column added to an existing table is
nullable or has a default, so it can be added in place, on SQLite and PostgreSQL alike, with
the rows that are there keeping their data. A column this cannot add is reported by name.
"""

from __future__ import annotations

from sqlalchemy import Column, Engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import ColumnDefault

from digest.archive.schema import metadata
from digest.errors import DigestError


def missing_columns(engine: Engine) -> list[Column]:
    """The columns of this schema's tables that the database does not have yet."""
    inspector = inspect(engine)
    present = set(inspector.get_table_names())
    tables = [t for t in metadata.sorted_tables if t.name in present]
    found = inspector.get_multi_columns(filter_names=[t.name for t in tables])
    have = {table: {c["name"] for c in columns} for (_, table), columns in found.items()}
    return [c for t in tables for c in t.columns if c.name not in have.get(t.name, set())]


def upgrade(engine: Engine) -> list[str]:
    """Add the missing columns; returns them as "table.column" (empty when up to date)."""
    columns = missing_columns(engine)
    if not columns:
        return []
    try:
        _add(engine, columns)
    except DBAPIError:
        if missing_columns(engine):
            raise
        # Another process starting at the same moment added them first.
    return [f"{c.table.name}.{c.name}" for c in columns]


def _add(engine: Engine, columns: list[Column]) -> None:
    preparer = engine.dialect.identifier_preparer
    with engine.begin() as conn:
        for column in columns:
            kind = column.type.compile(dialect=engine.dialect)
            clause = f"ALTER TABLE {preparer.quote(column.table.name)} ADD COLUMN " \
                     f"{preparer.quote(column.name)} {kind}"
            default = column.default
            if isinstance(default, ColumnDefault) and default.is_scalar:
                # The value the rows already there get; new rows get it from the schema.
                literal = column.type.literal_processor(engine.dialect)
                value = literal(default.arg) if literal else repr(default.arg)
                clause += f" DEFAULT {value}"
            elif not column.nullable:
                raise DigestError(
                    f"the database lacks {column.table.name}.{column.name}, which this version "
                    "of digest needs and cannot add to the rows already there",
                    hint=f"Back the database up, then run `{clause} DEFAULT <value> NOT NULL` "
                    "with the value the rows already there should have, or start from a new "
                    "database.",
                )
            if not column.nullable:
                clause += " NOT NULL"
            conn.execute(text(clause))
