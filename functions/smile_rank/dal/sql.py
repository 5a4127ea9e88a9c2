"""Statements written once for PostgreSQL and SQLite (dialect insert, one-statement bulk insert)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session | Connection, table: Any) -> Any:
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    name = dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def bulk_insert(
    session: Session, table: Any, rows: list[dict[str, Any]], *, skip_conflicts: bool = False
) -> None:
    """Insert many rows in ONE statement on PostgreSQL (``unnest`` of one array per column), or executemany.

    One statement per call matters twice: statement-level triggers see the
    whole set at once, and the SQL is compiled once, whatever the row count.
    """
    if not rows:
        return
    table = getattr(table, "__table__", table)
    columns = list(rows[0])
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        arrays = ", ".join(
            f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns
        )
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
        if skip_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        session.execute(text(sql), {c: [row[c] for row in rows] for c in columns})
        return
    stmt = sqlite.insert(table)
    session.execute(stmt.on_conflict_do_nothing() if skip_conflicts else stmt, rows)
