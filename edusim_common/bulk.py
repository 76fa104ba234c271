"""Bulk writes straight to the driver: one ``executemany`` of plain tuples, for big batches.

SQLAlchemy's ``session.execute(insert(table), list_of_dicts)`` handles every parameter of every
row in Python (compiled parameter dicts, type processors, bind names), which costs more than
SQLite's own work on a batch of thousands of rows. :func:`executemany` compiles the statement
once, applies each column type's bind processor itself (converting each distinct value once:
a batch writes the same timestamp and booleans over and over) and hands the driver one list of
tuples (or dicts for named paramstyles, e.g. psycopg). The rows stored are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Select,
    Table,
    Text,
    any_,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import NullType, TypeEngine


def executemany(
    target: Session | Connection,
    table: Table,
    statement: UpdateBase,
    binds: Mapping[str, str],
    rows: Iterable[Mapping[str, Any]],
) -> int:
    """Run ``statement`` once per row; ``binds`` maps each bind name to the column it fills.

    Each row is a mapping from column name to value (a missing key is NULL). Returns the count.
    """
    connection = _connection(target)
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect)
    order = list(compiled.positiontup or binds)
    columns = [binds[name] for name in order]
    processors: list[tuple[int, Callable[[Any], Any], dict[tuple[type, Any], Any]]] = []
    for index, name in enumerate(columns):
        found = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if found is not None:
            processors.append((index, found, {}))
    positional = compiled.positional
    params: list[Any] = []
    for row in rows:
        values = list(map(row.get, columns))
        for index, processor, memo in processors:
            value = values[index]
            key = (type(value), value)
            try:
                values[index] = memo[key]
            except KeyError:
                values[index] = memo[key] = processor(value)
            except TypeError:  # unhashable (a JSON value…): converted every time
                values[index] = processor(value)
        params.append(tuple(values) if positional else dict(zip(order, values, strict=True)))
    if params:
        connection.exec_driver_sql(compiled.string, params)
    return len(params)


def insert_rows(
    target: Session | Connection,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    columns: Iterable[str] | None = None,
) -> int:
    """INSERT every row into ``table`` (``columns``: those to write, default all)."""
    names = list(columns) if columns is not None else [c.name for c in table.columns]
    statement = insert(table).values({name: bindparam(name) for name in names})
    return executemany(target, table, statement, {name: name for name in names}, rows)


def fetch_dicts(target: Session | Connection, query: Select[Any]) -> list[dict[str, Any]]:
    """The rows of ``query`` as plain dicts, read straight from the driver's cursor.

    SQLAlchemy still compiles and binds the query; only the rows skip its ``Row`` objects: each
    column's result processor (dates read from SQLite text…) is applied here, once per distinct
    value. Three times sooner than ``[dict(row) for row in result.mappings()]`` on a batch.
    """
    connection = _connection(target)
    dialect = connection.dialect
    result = connection.execute(query)
    try:
        cursor = result.cursor
        names = [column.name for column in query.selected_columns]
        processors: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = []
        for index, column in enumerate(query.selected_columns):
            coltype = cursor.description[index][1]
            found = column.type.dialect_impl(dialect).result_processor(dialect, coltype)
            if found is not None:
                processors.append((index, found, {}))
        rows = cursor.fetchall()
    finally:
        result.close()
    if not processors:
        return [dict(zip(names, row, strict=True)) for row in rows]
    out = []
    for row in rows:
        values = list(row)
        for index, processor, memo in processors:
            value = values[index]
            try:
                values[index] = memo[value]
            except KeyError:
                values[index] = memo[value] = processor(value)
            except TypeError:  # unhashable: converted every time
                values[index] = processor(value)
        out.append(dict(zip(names, values, strict=True)))
    return out


def one_of(
    target: Session | Connection, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column IN values`` as one bound parameter, however many values there are.

    SQLAlchemy's ``in_`` expands a list into one placeholder per value on every execution, which
    costs more in Python than the lookups themselves on a batch of thousands. Here SQLite gets the
    values as one JSON array (``IN (SELECT value FROM json_each(?))``, still searched through
    the column's index) and PostgreSQL as one array (``= ANY(?)``). Values: ``str`` or ``int``.
    """
    connection = _connection(target)
    name = connection.dialect.name
    if name == "sqlite":
        array = bindparam(None, orjson.dumps(list(values)).decode(), type_=Text)
        return column.in_(select(literal_column("value")).select_from(func.json_each(array)))
    if name == "postgresql":
        array_type = ARRAY(_element_type(column))
        return column == any_(bindparam(None, list(values), type_=array_type))
    return column.in_(list(values))


def pairs_in(
    target: Session | Connection,
    columns: tuple[ColumnElement[Any], ColumnElement[Any]],
    pairs: Sequence[tuple[Any, Any]],
) -> ColumnElement[bool]:
    """``(a, b) IN pairs`` as one bound parameter: each pair found through an index on (a, b).

    (Two ``one_of`` would also match every key with every value: 2,000 × 2,000 look-ups.)
    """
    connection = _connection(target)
    name = connection.dialect.name
    first, second = columns
    if name == "sqlite":
        array = bindparam(None, orjson.dumps([list(pair) for pair in pairs]).decode(), type_=Text)
        value: ColumnElement[Any] = literal_column("value")
        rows = select(func.json_extract(value, "$[0]"), func.json_extract(value, "$[1]"))
        return tuple_(first, second).in_(rows.select_from(func.json_each(array)))
    if name == "postgresql":
        lefts = bindparam(None, [pair[0] for pair in pairs], type_=ARRAY(_element_type(first)))
        rights = bindparam(None, [pair[1] for pair in pairs], type_=ARRAY(_element_type(second)))
        return tuple_(first, second).in_(select(func.unnest(lefts), func.unnest(rights)))
    return tuple_(first, second).in_(list(pairs))


def _element_type(column: ColumnElement[Any]) -> TypeEngine[Any]:
    """The type of an array of ``column``'s values (text for an untyped ``lower(x)``)."""
    return Text() if isinstance(column.type, NullType) else column.type


def _connection(target: Session | Connection) -> Connection:
    """The connection a session writes through (or the connection itself)."""
    return target.connection() if isinstance(target, Session) else target
