"""The bulk helpers read and write the same values as SQLAlchemy's own execution."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Date, Integer, MetaData, String, Table, select
from sqlmodel import Session

from edusim_common.bulk import fetch_dicts, insert_rows, one_of, pairs_in
from edusim_common.db import UTCDateTime, make_engine

metadata = MetaData()
THINGS = Table(
    "thing",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=True),
    Column("flag", Boolean, nullable=False),
    Column("born", Date, nullable=True),
    Column("at", UTCDateTime, nullable=True),
)
AT = datetime(2026, 9, 1, 6, 30, tzinfo=UTC)
ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "Élodie", "flag": True, "born": date(2019, 2, 3), "at": AT},
    {"id": 2, "name": None, "flag": False, "born": None, "at": None},
    {"id": 3, "name": "Zoé", "flag": True, "born": date(2019, 2, 3), "at": AT},
]


def test_fetch_dicts_gives_what_the_orm_reads(db_url: str) -> None:
    engine = make_engine(db_url)
    metadata.create_all(engine)
    with Session(engine) as session:
        assert insert_rows(session, THINGS, ROWS) == 3
        session.commit()
        query = select(THINGS).where(THINGS.c.id.in_([1, 2, 3])).order_by(THINGS.c.id)
        expected = [dict(row) for row in session.execute(query).mappings()]
        fetched = fetch_dicts(session, query)
    engine.dispose()
    assert fetched == expected == ROWS
    assert type(fetched[0]["flag"]) is bool
    assert fetched[0]["at"].tzinfo is not None


def test_one_of_and_pairs_in_find_exactly_what_in_finds(db_url: str) -> None:
    engine = make_engine(db_url)
    metadata.create_all(engine)
    with Session(engine) as session:
        insert_rows(session, THINGS, ROWS)
        session.commit()
        ids = select(THINGS.c.id).order_by(THINGS.c.id)
        by_name = ids.where(one_of(session, THINGS.c.name, ["Zoé", "Élodie", "nobody"]))
        assert list(session.scalars(by_name)) == [1, 3]
        assert list(session.scalars(ids.where(one_of(session, THINGS.c.id, [])))) == []
        columns = (THINGS.c.name, THINGS.c.born)
        # Zoé and 2019-02-03 exist, Élodie too, but not ("Élodie", 2020-01-01): no cross product.
        pairs = [("Zoé", date(2019, 2, 3).isoformat()), ("Élodie", "2020-01-01")]
        found = list(session.scalars(ids.where(pairs_in(session, columns, pairs))))
    engine.dispose()
    assert found == [3]


def test_insert_rows_reads_a_missing_key_as_null_and_converts_unhashable_values(
    db_url: str,
) -> None:
    notes = Table(
        "note",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("body", JSON, nullable=True),
        Column("at", UTCDateTime, nullable=True),
        Column("flag", Boolean, nullable=True),
    )
    rows: list[dict[str, Any]] = [
        {"id": 1, "body": {"tags": ["a"]}, "at": AT, "flag": True},
        {"id": 2, "at": AT},  # no body, no flag: NULL
        {"id": 3, "body": [1, 2], "at": None, "flag": 1},
    ]
    engine = make_engine(db_url)
    notes.metadata.create_all(engine)
    with Session(engine) as session:
        assert insert_rows(session, notes, iter(rows)) == 3  # any iterable, read once
        session.commit()
        query = select(notes).order_by(notes.c.id)
        stored = [dict(row) for row in session.execute(query).mappings()]
    engine.dispose()
    assert stored == [
        {"id": 1, "body": {"tags": ["a"]}, "at": AT, "flag": True},
        {"id": 2, "body": None, "at": AT, "flag": None},
        {"id": 3, "body": [1, 2], "at": None, "flag": True},
    ]


def test_insert_rows_keeps_any_text_and_writes_in_the_callers_transaction(db_url: str) -> None:
    # On PostgreSQL the rows go through COPY's text format: its separators and escapes must be
    # data, and the rows must share the session's transaction (a rollback takes them back).
    odd = ["tab\there", "line\nbreak", "back\\slash", "\\N", "", "« a » 'b' \"c\""]
    rows = [{"id": index, "name": name, "flag": False} for index, name in enumerate(odd, 10)]
    engine = make_engine(db_url)
    metadata.create_all(engine)
    with Session(engine) as session:
        insert_rows(session, THINGS, rows, columns=("id", "name", "flag"))
        session.rollback()
        assert list(session.scalars(select(THINGS.c.id).where(THINGS.c.id >= 10))) == []
        insert_rows(session, THINGS, rows, columns=("id", "name", "flag"))
        session.commit()
        query = select(THINGS.c.name).where(THINGS.c.id >= 10).order_by(THINGS.c.id)
        stored = list(session.scalars(query))
    engine.dispose()
    assert stored == odd
