"""Rows loaded once, changed in memory, written back set-based: the import's storage.

A :class:`RowStore` holds plain dict rows of one table for one batch. New rows get their ids from
the table's current maximum (the batch runs in the service's serialised write transaction, so no
one else inserts meanwhile); at the end, ``flush`` writes all new rows in one ``executemany``
INSERT, all changed rows in one ``executemany`` UPDATE, and the removed ones in one DELETE.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, delete, func, select, text, update
from sqlmodel import Session

from edusim_common.bulk import executemany, fetch_dicts, insert_rows

Row = dict[str, Any]


class RowStore:
    """The rows of one table that a batch touches."""

    def __init__(self, session: Session, table: Table) -> None:
        self.session = session
        self.table = table
        self.columns = [c.name for c in table.columns]
        self._next_id: int | None = None
        self.new: dict[int, Row] = {}
        self.dirty: dict[int, Row] = {}
        self.removed: set[int] = set()

    def load(self, *where: ColumnElement[bool]) -> list[Row]:
        """Rows matching ``where``, as mutable dicts."""
        return fetch_dicts(self.session, select(self.table).where(*where))

    def add(self, values: Row) -> Row:
        """A new row (its id is assigned now)."""
        if self._next_id is None:
            current = self.session.scalar(select(func.max(self.table.c.id)))
            self._next_id = int(current or 0) + 1
        values["id"] = self._next_id
        self._next_id += 1
        self.new[values["id"]] = values
        return values

    def changed(self, row: Row) -> None:
        """Mark a loaded row as changed (new rows are written whole anyway)."""
        if row["id"] not in self.new:
            self.dirty[row["id"]] = row

    def remove(self, row: Row) -> None:
        """Delete a row (a new one is simply not written)."""
        if self.new.pop(row["id"], None) is None:
            self.dirty.pop(row["id"], None)
            self.removed.add(row["id"])

    def flush(self) -> None:
        """Write everything: one INSERT, one UPDATE and one DELETE at most."""
        table = self.table
        if self.removed:
            ids = sorted(self.removed)
            for start in range(0, len(ids), 5000):
                self.session.execute(delete(table).where(table.c.id.in_(ids[start : start + 5000])))
        if self.new:
            insert_rows(self.session, table, self.new.values(), self.columns)
            self._advance_sequence()
        if self.dirty:
            names = [c for c in self.columns if c != "id"]
            statement = (
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values({c: bindparam(f"v_{c}") for c in names})
            )
            binds = {"row_id": "id", **{f"v_{c}": c for c in names}}
            executemany(self.session, table, statement, binds, self.dirty.values())
        self.new, self.dirty, self.removed = {}, {}, set()

    def _advance_sequence(self) -> None:
        """On PostgreSQL, move the id sequence past the ids given by hand."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        name = self.table.name
        self.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT max(id) FROM {name}))"
            )
        )


def flush_all(stores: Iterable[RowStore]) -> None:
    """Flush stores in order (parents before children, for the foreign keys)."""
    for store in stores:
        store.flush()
