"""Dialect-aware helpers for statements inside one ``SqlStorage`` transaction."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.expression import ColumnClause

Row = dict[str, Any]
# Builds the SET clause of an upsert from the ``excluded`` pseudo-table's columns.
SetClause = Callable[[Any], Mapping[str, ColumnElement[Any]]]

_SQLITE_NEXT_ID = text("SELECT seq FROM sqlite_sequence WHERE name = :name")


class Tx:
    """One transaction's connection, plus the few statements that differ by dialect."""

    __slots__ = ("conn", "sqlite")

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"

    async def insert(self, table: Table, rows: Sequence[Row]) -> None:
        """Insert rows (one executemany)."""
        if rows:
            await self.conn.execute(insert(table), list(rows))

    async def insert_ids(self, table: Table, rows: list[Row]) -> list[int]:
        """Insert rows and return their new ids, in the order of ``rows``.

        PostgreSQL: one ``INSERT … RETURNING`` per page of rows, ordered by SQLAlchemy's
        insertmanyvalues sentinel. SQLite cannot order ``RETURNING`` rows, so the ids are
        allocated here from ``sqlite_sequence`` (safe: write transactions begin with
        ``BEGIN IMMEDIATE``, so no other writer allocates ids meanwhile) and the rows go
        through one executemany.
        """
        if not rows:
            return []
        if not self.sqlite:
            returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            return list((await self.conn.execute(returning, rows)).scalars())
        last = (await self.conn.execute(_SQLITE_NEXT_ID, {"name": table.name})).scalar()
        first = int(last or 0) + 1
        ids = list(range(first, first + len(rows)))
        for row, row_id in zip(rows, ids, strict=True):
            row["id"] = row_id
        await self.conn.execute(insert(table), rows)
        return ids

    def _dialect_insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        return sqlite.insert(table) if self.sqlite else postgresql.insert(table)

    def insert_missing(
        self, table: Table, keys: Sequence[str], *, where: ColumnElement[bool] | None = None
    ) -> Insert:
        """``INSERT … ON CONFLICT (keys) DO NOTHING`` (``where``: a partial index's predicate)."""
        return self._dialect_insert(table).on_conflict_do_nothing(
            index_elements=list(keys), index_where=where
        )

    def upsert(self, table: Table, keys: Sequence[str], set_: SetClause) -> Insert:
        """``INSERT … ON CONFLICT (keys) DO UPDATE SET …``, the SET built from ``excluded``."""
        statement = self._dialect_insert(table)
        return statement.on_conflict_do_update(
            index_elements=list(keys), set_=dict(set_(statement.excluded))
        )

    def locking(self, statement: Select[Any]) -> Select[Any]:
        """``statement … FOR UPDATE`` on PostgreSQL; SQLite's writer lock already serializes."""
        return statement if self.sqlite else statement.with_for_update()


def chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    """``values`` in slices of at most ``size`` (bounded ``IN`` lists)."""
    return (values[start : start + size] for start in range(0, len(values), size))


def column_names(columns: Iterable[ColumnClause[Any]]) -> list[str]:
    """The names of ``columns``."""
    return [column.name for column in columns]
