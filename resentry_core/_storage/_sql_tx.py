"""Dialect-aware helpers for statements inside one ``SqlStorage`` transaction."""

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, Dialect, Select, Table, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

Row = dict[str, Any]
# Builds the SET clause of an upsert from the ``excluded`` pseudo-table's columns.
SetClause = Callable[[Any], Mapping[str, ColumnElement[Any]]]

_SQLITE_SEQUENCES = text("SELECT name, seq FROM sqlite_sequence")
_SQLITE_LAST_ID = text("SELECT seq FROM sqlite_sequence WHERE name = :name")
_PLAN_CACHE_MODE = text("SELECT set_config('plan_cache_mode', :mode, true)")
_POSTGRES_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence(:name, 'id')) FROM generate_series(1, :count)"
)


class _InsertPlan:
    """A compiled ``INSERT`` and how to turn a row dict into its positional parameters."""

    __slots__ = ("_processed", "_values", "sql")

    def __init__(self, dialect: Dialect, table: Table, columns: tuple[str, ...]) -> None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
        order = list(compiled.positiontup or ())
        self.sql = str(compiled)
        get = operator.itemgetter(*order)  # a tuple in one C call, for two keys or more
        self._values: Callable[[Row], Any] = get if len(order) > 1 else lambda row: (get(row),)
        self._processed = [
            (index, process)
            for index, name in enumerate(order)
            if (process := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        ]

    def parameters(self, row: Row) -> tuple[Any, ...]:
        values = self._values(row)
        if not self._processed:
            return tuple(values)
        converted = list(values)
        for index, process in self._processed:
            converted[index] = process(converted[index])
        return tuple(converted)


_PLANS: dict[tuple[str, str, str, tuple[str, ...]], _InsertPlan] = {}


def _insert_plan(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _InsertPlan:
    key = (dialect.name, dialect.driver, table.name, columns)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _InsertPlan(dialect, table, columns)
    return plan


class Lookup:
    """A ``SELECT`` built once, with its ``FOR UPDATE`` twin (see :meth:`Tx.lookup`)."""

    __slots__ = ("locking", "plain")

    def __init__(self, statement: Select[Any]) -> None:
        self.plain = statement
        self.locking = statement.with_for_update()


class Tx:
    """One transaction's connection, plus the few statements that differ by dialect."""

    __slots__ = ("_last_ids", "conn", "sqlite")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        # SQLite: the last id of each table, read from sqlite_sequence once per transaction
        # and then kept up to date by insert_ids (tables missing from it: read when needed).
        self._last_ids: dict[str, int] | None = None

    def insert(self, table: Table, rows: Sequence[Row]) -> None:
        """Insert rows (all with the same keys) in one executemany.

        This is the hot path of ``record``: the statement is compiled once per table and
        column set, and each value goes through its column's own bind processor here, which
        skips SQLAlchemy's per-row parameter construction (most of the Python time of a large
        executemany) while converting exactly as SQLAlchemy would.
        """
        if rows:
            plan = _insert_plan(self.conn.dialect, table, tuple(rows[0]))
            self.conn.exec_driver_sql(plan.sql, [plan.parameters(row) for row in rows])
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
            found = (self.conn.execute(_SQLITE_SEQUENCES)).all()
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

    def lookup(self, lookup: Lookup) -> Select[Any]:
        """:meth:`locking` for a statement built once at import."""
        return lookup.plain if self.sqlite else lookup.locking

    def locking(self, statement: Select[Any]) -> Select[Any]:
        """``statement … FOR UPDATE`` on PostgreSQL; SQLite's writer lock already serializes."""
        return statement if self.sqlite else statement.with_for_update()


def chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    """``values`` in slices of at most ``size`` (bounded ``IN`` lists)."""
    return (values[start : start + size] for start in range(0, len(values), size))
