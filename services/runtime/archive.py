"""Reading a school's rows out of a service's tables and writing them back, for the year-end archive.

Each service's ``store/archive.py`` says which rows belong to a school year; these helpers do the generic part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, Select, Table, func, insert, null, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

Rows = list[dict[str, Any]]


def fetch(session: Session, stmt: Select[Any], table: Table) -> Rows:
    """Every column of the selected rows, in primary-key order so two exports of the same data are identical."""
    ordered = stmt.order_by(*table.primary_key.columns)
    return [dict(row) for row in session.execute(ordered).mappings()]


def _values(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    # A JSON column's None would be stored as JSON 'null'; the row said SQL NULL.
    return {
        key: null() if value is None and isinstance(table.c[key].type, JSON) else value
        for key, value in row.items()
    }


def insert_rows(
    session: Session, table: Table, rows: Iterable[dict[str, Any]], *, if_absent: bool = False
) -> int:
    """Insert rows as they were exported. ``if_absent`` keeps a row already there (master data shared by years)."""
    count = 0
    for row in rows:
        values = _values(table, row)
        if if_absent:
            session.execute(pg_insert(table).values(values).on_conflict_do_nothing())
        else:
            session.execute(insert(table).values(values))
        count += 1
    return count


def restorer(tables: Sequence[tuple[Table, bool]]) -> Callable[[Session, dict[str, Rows]], dict[str, int]]:
    """The ``restore`` of a store whose year is plain rows: ``tables`` in foreign-key order, each with True when its
    rows are shared by school years (master data, content-addressed documents) and so kept when already there.
    The caller owns the transaction."""

    def restore(session: Session, rows: dict[str, Rows]) -> dict[str, int]:
        return {
            table.name: insert_rows(session, table, rows.get(table.name, []), if_absent=shared)
            for table, shared in tables
        }

    return restore


def follow_sequence(session: Session, table: Table, column: str) -> None:
    """Move a serial column's sequence past the rows written with explicit values, so new rows do not collide."""
    session.execute(
        text(
            f"select setval(pg_get_serial_sequence('{table.name}', '{column}'), "
            f"greatest((select max({column}) from {table.name}), 1))"
        )
    )


def any_row(session: Session, table: Table, *where: Any) -> bool:
    return bool(session.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def values_of(rows: Sequence[dict[str, Any]], key: str) -> list[Any]:
    """The distinct non-null values of one column, sorted (the ids a dependent table is selected by)."""
    return sorted({row[key] for row in rows if row.get(key) is not None})
