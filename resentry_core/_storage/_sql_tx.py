"""Dialect-aware helpers for statements inside one ``SqlStorage`` transaction."""

import operator
import sqlite3
import string
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import BindParameter, ColumnElement, Connection, Dialect, Select, Table, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import visitors
from sqlalchemy.sql.dml import Insert, ReturningUpdate
from sqlalchemy.types import TypeEngine

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql

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


class DriverSql:
    """A hot statement written as plain SQL, to run on the driver (:meth:`Tx.execute_many`).

    ``sql`` names each parameter ``{name}`` (double-quoted identifiers, standard SQL that
    SQLite and PostgreSQL both read); ``types`` gives each parameter's SQLAlchemy type and
    ``results`` each selected column's, whose processors convert values exactly as
    SQLAlchemy's own execution would.
    """

    __slots__ = ("results", "sql", "types")

    def __init__(
        self,
        sql: str,
        types: Mapping[str, TypeEngine[Any]],
        results: Sequence[TypeEngine[Any]] = (),
    ) -> None:
        self.sql = sql
        self.types = types
        self.results = results


def insert_sql(table: Table, columns: Sequence[str]) -> DriverSql:
    """``INSERT INTO table (columns) VALUES (…)``, one parameter per column, named after it.

    Raises KeyError for a column the table does not have: only the table's own names reach
    the SQL text.
    """
    types = {column: table.c[column].type for column in columns}
    names = ", ".join(f'"{column}"' for column in columns)
    slots = ", ".join(f"{{{column}}}" for column in columns)
    return DriverSql(f'INSERT INTO "{table.name}" ({names}) VALUES ({slots})', types)  # noqa: S608


class _Plan:
    """A :class:`DriverSql` made ready for one dialect's driver (:meth:`Tx._run`).

    SQLAlchemy's own execution costs 25-85 µs per statement (compiled-cache lookup, an
    expanding ``IN`` rendered anew every time, parameter dicts, result set-up), against a few
    µs for SQLite's driver: most of an ingest batch's time when batches are small. A plan
    keeps the SQL with the driver's placeholders (``?`` for sqlite3, ``$1`` for asyncpg), the
    order of its parameters, and the bind and result processors of their types, taken from
    SQLAlchemy's public type API (``TypeEngine.dialect_impl``, ``bind_processor``,
    ``result_processor``).
    """

    __slots__ = ("_processed", "_results", "_values", "sql")

    def __init__(self, dialect: Dialect, statement: DriverSql) -> None:
        order: list[str] = []
        parts: list[str] = []
        for literal, name, _, _ in string.Formatter().parse(statement.sql):
            parts.append(literal)
            if name is not None:
                order.append(name)
                parts.append("?" if dialect.name == "sqlite" else f"${len(order)}")
        self.sql = "".join(parts)
        get = operator.itemgetter(*order)  # a tuple in one C call, for two keys or more
        self._values: Callable[[Mapping[str, Any]], Any] = (
            get if len(order) > 1 else lambda row: (get(row),)
        )
        self._processed: Processors = [
            (index, process)
            for index, name in enumerate(order)
            if (process := statement.types[name].dialect_impl(dialect).bind_processor(dialect))
        ]
        self._results: Processors = [
            (index, process)
            for index, type_ in enumerate(statement.results)
            if (process := type_.dialect_impl(dialect).result_processor(dialect, None))
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


def _plan(dialect: Dialect, key: object, build: Callable[[], DriverSql]) -> _Plan:
    """The plan cached for ``dialect`` under ``key``, built once."""
    cache_key = (dialect.name, dialect.driver, key)
    plan = _PLANS.get(cache_key)
    if plan is None:
        plan = _PLANS[cache_key] = _Plan(dialect, build())
    return plan


class InLookup:
    """A ``SELECT`` whose ``{in_list}`` is one ``IN`` list of values of type ``in_type``.

    Made ready once per dialect and list length (a power of two, see :meth:`Tx.select_in`),
    so that no execution renders an expanding ``IN``.
    """

    __slots__ = ("_in_type", "_statement")

    def __init__(self, statement: DriverSql, in_type: TypeEngine[Any]) -> None:
        self._statement = statement
        self._in_type = in_type

    def statement(self, count: int, *, lock: bool) -> DriverSql:
        """The statement for an ``IN`` list of ``count`` values named ``in_0``, ``in_1``, …,
        with ``FOR UPDATE`` when ``lock``."""
        names = [f"in_{index}" for index in range(count)]
        slots = ", ".join(f"{{{name}}}" for name in names)
        sql = self._statement.sql.replace("{in_list}", slots) + (" FOR UPDATE" if lock else "")
        types = {**self._statement.types, **dict.fromkeys(names, self._in_type)}
        return DriverSql(sql, types, self._statement.results)


class Query:
    """A read (or ``UPDATE … RETURNING``) statement built once, its parameters named
    :func:`~sqlalchemy.bindparam` s, run by :meth:`Tx.rows`.

    SQLAlchemy's execution of a statement costs 30-40 µs (cache key, execution context,
    result set-up), building it as much again, against a few µs for SQLite's driver: most of
    a short read on SQLite. On SQLite the statement's SQL is compiled once (with named
    parameters, which ``sqlite3`` takes as a dict) and runs on the driver, each parameter and
    column converted by its type's bind and result processor (SQLAlchemy's public type API,
    as :class:`DriverSql` does); its rows are named tuples. On PostgreSQL SQLAlchemy executes
    the statement as usual.
    """

    __slots__ = ("_sqlite", "statement")

    def __init__(self, statement: Select[Any] | ReturningUpdate[Any]) -> None:
        self.statement = statement
        self._sqlite: _SqlitePlan | None = None

    def sqlite_plan(self, dialect: Dialect) -> "_SqlitePlan":
        """The plan for SQLite's driver, made on first use."""
        if self._sqlite is None:
            self._sqlite = _SqlitePlan(self.statement, dialect)
        return self._sqlite


class _SqlitePlan:
    __slots__ = ("_binds", "_defaults", "_make", "_results", "sql")

    def __init__(self, statement: Select[Any] | ReturningUpdate[Any], dialect: Dialect) -> None:
        named: Dialect = cast(Any, type(dialect))(paramstyle="named")
        compiled = statement.compile(dialect=named)
        self.sql = str(compiled)
        # The values of anonymous parameters (such as the OFFSET 0 SQLite adds to a LIMIT).
        self._defaults = dict(compiled.params)
        binds = {
            element.key: element.type
            for element in visitors.iterate(statement)
            if isinstance(element, BindParameter)
        }
        for name, value in self._defaults.items():
            if name not in binds and not isinstance(value, int):
                raise TypeError(f"unnamed parameter {name}={value!r}: use a bindparam")
        self._binds = [
            (name, process)
            for name, type_ in binds.items()
            if (process := type_.dialect_impl(dialect).bind_processor(dialect))
        ]
        columns = list(statement.exported_columns)
        self._results: Processors = [
            (index, process)
            for index, column in enumerate(columns)
            if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
        ]
        names = tuple(str(column.key) for column in columns)
        row_type: Any = cast(Any, namedtuple)("Row", names)
        self._make: Callable[[Iterable[Any]], Any] = row_type._make

    def parameters(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        bound = {**self._defaults, **parameters}
        for name, process in self._binds:
            if name in bound:
                bound[name] = process(bound[name])
        return bound

    def rows(self, found: Iterable[Sequence[Any]]) -> list[Any]:
        return [self._make(_converted(values, self._results)) for values in found]


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

    def rows(self, statement: Query | Select[Any], parameters: Mapping[str, Any]) -> list[Any]:
        """The rows of ``statement`` for ``parameters`` (by bind parameter name); each row's
        columns are attributes. A :class:`Query` runs on SQLite's driver; a statement built
        for this call only goes through SQLAlchemy."""
        if isinstance(statement, Query):
            if self.sqlite:
                plan = statement.sqlite_plan(self.conn.dialect)
                return plan.rows(self._run(plan.sql, plan.parameters(parameters)))
            return list(self.conn.execute(statement.statement, parameters).all())
        return list(self.conn.execute(statement, parameters).all())

    def first(self, statement: Query | Select[Any], parameters: Mapping[str, Any]) -> Any:
        """The first row of ``statement`` (see :meth:`rows`), or None."""
        found = self.rows(statement, parameters)
        return found[0] if found else None

    def _run(
        self, sql: str, parameters: Sequence[Any] | Mapping[str, Any], *, many: bool = False
    ) -> list[Any]:
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

    def execute_many(self, statement: DriverSql, rows: Sequence[Row]) -> None:
        """Run ``statement`` (built once at import) once per row, in one executemany."""
        if rows:
            plan = _plan(self.conn.dialect, statement, lambda: statement)
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
        lock = lock and not self.sqlite
        plan = _plan(
            self.conn.dialect, (lookup, size, lock), lambda: lookup.statement(size, lock=lock)
        )
        padded = [*values, *[values[-1]] * (size - len(values))]
        bound = {**parameters, **{f"in_{index}": value for index, value in enumerate(padded)}}
        return [plan.row(row) for row in self._run(plan.sql, plan.parameters(bound))]

    def insert(self, table: Table, rows: Sequence[Row]) -> None:
        """Insert rows (all with the same keys) in one executemany.

        This is the hot path of ``record``: the statement is written once per table and
        column set (:func:`insert_sql`), and each value goes through its column's own bind
        processor here, which skips SQLAlchemy's per-row parameter construction (most of the
        Python time of a large executemany) while converting exactly as SQLAlchemy would.
        """
        if rows:
            columns = tuple(rows[0])
            plan = _plan(self.conn.dialect, (table, columns), lambda: insert_sql(table, columns))
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

    def _dialect_insert(self, table: Table) -> "postgresql.Insert | sqlite.Insert":
        if self.sqlite:
            return sqlite.insert(table)
        from sqlalchemy.dialects.postgresql import insert  # PostgreSQL only

        return insert(table)

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


def pair_filters(
    first: ColumnElement[Any], second: ColumnElement[Any], keys: Iterable[tuple[Any, Any]]
) -> Iterator[ColumnElement[bool]]:
    """Filters that together select the rows whose ``(first, second)`` is one of ``keys``, in
    the keys' order: ``first = a AND second IN (...)`` per value of ``first``, in bounded chunks.

    SQLite answers a row value ``(first, second) IN (...)`` by scanning the whole table; this
    form uses the index on the pair.
    """
    by_first: dict[Any, list[Any]] = {}
    for a, b in sorted(keys):
        by_first.setdefault(a, []).append(b)
    for a, seconds in by_first.items():
        for chunk in chunks(seconds):
            yield (first == a) & second.in_(chunk)
