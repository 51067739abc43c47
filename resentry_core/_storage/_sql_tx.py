"""Dialect-aware helpers for statements inside one ``SqlStorage`` transaction."""

import operator
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ClauseElement,
    ColumnElement,
    Connection,
    Dialect,
    Select,
    Table,
    bindparam,
    insert,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert

Row = dict[str, Any]
# Builds the SET clause of an upsert from the ``excluded`` pseudo-table's columns.
SetClause = Callable[[Any], Mapping[str, ColumnElement[Any]]]

_SQLITE_SEQUENCES = "SELECT name, seq FROM sqlite_sequence"
_SQLITE_LAST_ID = text("SELECT seq FROM sqlite_sequence WHERE name = :name")
_PLAN_CACHE_MODE = text("SELECT set_config('plan_cache_mode', :mode, true)")
_POSTGRES_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence(:name, 'id')) FROM generate_series(1, :count)"
)


# (position, converter) of the values a plan converts, in a parameter tuple or a result row.
Processors = list[tuple[int, Callable[[Any], Any]]]


class _Plan:
    """A statement compiled once for a dialect, for the driver to run (:meth:`Tx._run`).

    SQLAlchemy's own execution costs 25-85 µs per statement (compiled-cache lookup, an
    expanding ``IN`` rendered anew every time, parameter dicts, result set-up), against a few
    µs for SQLite's driver: most of an ingest batch's time when batches are small. A plan
    keeps the SQL text, the order of its positional parameters with each one's bind
    processor, and, for a ``SELECT``, each column's result processor, so values are converted
    exactly as SQLAlchemy would.
    """

    __slots__ = ("_processed", "_results", "_values", "sql")

    def __init__(
        self, dialect: Dialect, statement: ClauseElement, columns: Sequence[str] | None = None
    ) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=columns))
        order = list(compiled.positiontup or ())
        self.sql = str(compiled)
        get = operator.itemgetter(*order)  # a tuple in one C call, for two keys or more
        self._values: Callable[[Mapping[str, Any]], Any] = (
            get if len(order) > 1 else lambda row: (get(row),)
        )
        self._processed: Processors = [
            (index, process)
            for index, name in enumerate(order)
            if (process := compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        ]
        selected = statement.selected_columns if isinstance(statement, Select) else ()
        self._results: Processors = [
            (index, process)
            for index, column in enumerate(selected)
            if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
        ]

    def parameters(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """``row``'s values in the statement's order, converted for the driver."""
        return _converted(self._values(row), self._processed)

    def row(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """A row from the driver, converted as SQLAlchemy would."""
        return _converted(values, self._results)


def _converted(values: Sequence[Any], processors: Processors) -> tuple[Any, ...]:
    if not processors:
        return tuple(values)
    converted = list(values)
    for index, process in processors:
        converted[index] = process(converted[index])
    return tuple(converted)


_PLANS: dict[tuple[str, str, object], _Plan] = {}


def _plan(dialect: Dialect, key: object, build: Callable[[], _Plan]) -> _Plan:
    """The plan cached for ``dialect`` under ``key``, built once."""
    cache_key = (dialect.name, dialect.driver, key)
    plan = _PLANS.get(cache_key)
    if plan is None:
        plan = _PLANS[cache_key] = build()
    return plan


class InLookup:
    """A ``SELECT`` with one ``IN`` list, built by ``build`` from that list's bind parameters.

    Compiled once per dialect and list length (a power of two, see :meth:`Tx.select_in`), so
    that no execution renders an expanding ``IN``.
    """

    __slots__ = ("_build",)

    def __init__(self, build: Callable[[list[BindParameter[Any]]], Select[Any]]) -> None:
        self._build = build

    def statement(self, count: int) -> Select[Any]:
        """The statement for an ``IN`` list of ``count`` values named ``in_0``, ``in_1``, …"""
        return self._build([bindparam(f"in_{index}") for index in range(count)])


class Tx:
    """One transaction's connection, plus the few statements that differ by dialect."""

    __slots__ = ("_cursor", "_last_ids", "conn", "sqlite")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        # SQLite: the last id of each table, read from sqlite_sequence once per transaction
        # and then kept up to date by insert_ids (tables missing from it: read when needed).
        self._last_ids: dict[str, int] | None = None
        self._cursor: Any = None  # SQLite: the driver's cursor, made on first use

    def _run(self, sql: str, parameters: Sequence[Any], *, many: bool = False) -> list[Any]:
        """Run ``sql`` on the driver with positional ``parameters`` (a list of them when
        ``many``); return the rows it selected.

        SQLite runs it on the driver's own cursor; the driver's errors become SQLAlchemy's, as
        from any other statement, so that ``Database`` translates them alike. PostgreSQL goes
        through ``exec_driver_sql``: asyncpg's adapter is driven through SQLAlchemy anyway.
        """
        if not self.sqlite:
            if many:
                self.conn.exec_driver_sql(sql, list(parameters))
                return []
            return list(self.conn.exec_driver_sql(sql, tuple(parameters)).all())
        if self._cursor is None:
            driver_connection: Any = self.conn.connection.dbapi_connection
            self._cursor = driver_connection.cursor()
        try:
            if many:
                self._cursor.executemany(sql, parameters)
                return []
            return list(self._cursor.execute(sql, parameters).fetchall())
        except sqlite3.Error as exc:
            raise DBAPIError.instance(
                sql, None, exc, sqlite3.Error, hide_parameters=True, dialect=self.conn.dialect
            ) from exc

    def execute_many(self, statement: ClauseElement, rows: Sequence[Row]) -> None:
        """Run ``statement`` (built once at import) once per row, in one executemany."""
        if rows:
            dialect = self.conn.dialect
            plan = _plan(dialect, statement, lambda: _Plan(dialect, statement))
            self._run(plan.sql, [plan.parameters(row) for row in rows], many=True)

    def select_in(
        self, lookup: InLookup, parameters: Row, values: Sequence[Any], *, lock: bool = True
    ) -> list[tuple[Any, ...]]:
        """The rows of ``lookup`` for ``parameters`` and the ``IN`` list ``values`` (at most a
        chunk), locked on PostgreSQL (see :meth:`locking`) unless ``lock`` is false.

        The list is padded to a power of two by repeating its last value (which selects
        nothing more), so a lookup has a handful of plans and prepared statements, not one
        per length.
        """
        if not values:
            return []
        size = 1 << (len(values) - 1).bit_length()
        dialect = self.conn.dialect
        plan = _plan(
            dialect,
            (lookup, size, lock),
            lambda: _Plan(
                dialect,
                self.locking(lookup.statement(size)) if lock else lookup.statement(size),
            ),
        )
        padded = [*values, *[values[-1]] * (size - len(values))]
        bound = {**parameters, **{f"in_{index}": value for index, value in enumerate(padded)}}
        return [plan.row(row) for row in self._run(plan.sql, plan.parameters(bound))]

    def insert(self, table: Table, rows: Sequence[Row]) -> None:
        """Insert rows (all with the same keys) in one executemany.

        This is the hot path of ``record``: the statement is compiled once per table and
        column set, and each value goes through its column's own bind processor here, which
        skips SQLAlchemy's per-row parameter construction (most of the Python time of a large
        executemany) while converting exactly as SQLAlchemy would.
        """
        if rows:
            dialect, columns = self.conn.dialect, tuple(rows[0])
            plan = _plan(dialect, (table, columns), lambda: _Plan(dialect, insert(table), columns))
            self._run(plan.sql, [plan.parameters(row) for row in rows], many=True)
            if self._last_ids is not None and "id" not in rows[0]:
                self._last_ids.pop(table.name, None)  # SQLite allocated ids on its own

    def insert_ids(self, table: Table, rows: list[Row]) -> list[int]:
        """Insert rows and return their new ids, in the order of ``rows``.

        The ids are allocated first, then the rows go through one executemany (:meth:`insert`):
        on PostgreSQL from the table's sequence (one round trip for any number of rows); on
        SQLite from ``sqlite_sequence`` (read once per transaction), which is safe because
        write transactions begin with ``BEGIN IMMEDIATE``: no other writer can allocate ids
        meanwhile.
        """
        if not rows:
            return []
        if self.sqlite:
            ids = self._reserve_sqlite_ids(table, len(rows))
        else:
            found = self.conn.execute(_POSTGRES_NEXT_IDS, {"name": table.name, "count": len(rows)})
            ids = sorted(found.scalars())
        for row, row_id in zip(rows, ids, strict=True):
            row["id"] = row_id
        self.insert(table, rows)
        return ids

    def _reserve_sqlite_ids(self, table: Table, count: int) -> list[int]:
        last_ids = self._last_ids
        if last_ids is None:
            found = self._run(_SQLITE_SEQUENCES, ())
            last_ids = self._last_ids = {str(name): int(seq) for name, seq in found}
            last_ids.setdefault(table.name, 0)  # not in sqlite_sequence: never had a row
        elif table.name not in last_ids:
            last = (self.conn.execute(_SQLITE_LAST_ID, {"name": table.name})).scalar()
            last_ids[table.name] = int(last or 0)
        first = last_ids[table.name] + 1
        last_ids[table.name] = first + count - 1
        return list(range(first, first + count))

    def _dialect_insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        return sqlite.insert(table) if self.sqlite else postgresql.insert(table)

    def insert_missing(self, table: Table, keys: Sequence[str]) -> Insert:
        """``INSERT … ON CONFLICT (keys) DO NOTHING``."""
        return self._dialect_insert(table).on_conflict_do_nothing(index_elements=list(keys))

    def upsert(self, table: Table, keys: Sequence[str], set_: SetClause) -> Insert:
        """``INSERT … ON CONFLICT (keys) DO UPDATE SET …``, the SET built from ``excluded``."""
        statement = self._dialect_insert(table)
        return statement.on_conflict_do_update(
            index_elements=list(keys), set_=dict(set_(statement.excluded))
        )

    @contextmanager
    def custom_plans(self) -> Iterator[None]:
        """Within the block, PostgreSQL plans each statement for its actual parameters.

        For lookups whose best plan depends on the table's size: a prepared statement's
        generic plan, chosen while a table was nearly empty, stays a sequential scan until
        the next ``ANALYZE``, so a fresh database would slow down with every batch for its
        first minute. Not for inserts, which a custom plan only makes dearer.
        """
        if self.sqlite:
            yield
            return
        self.conn.execute(_PLAN_CACHE_MODE, {"mode": "force_custom_plan"})
        yield
        self.conn.execute(_PLAN_CACHE_MODE, {"mode": "auto"})

    def locking(self, statement: Select[Any]) -> Select[Any]:
        """``statement … FOR UPDATE`` on PostgreSQL; SQLite's writer lock already serializes."""
        return statement if self.sqlite else statement.with_for_update()


def chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    """``values`` in slices of at most ``size`` (bounded ``IN`` lists)."""
    return (values[start : start + size] for start in range(0, len(values), size))
