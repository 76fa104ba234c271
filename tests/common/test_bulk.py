"""The bulk helpers read and write the same values as SQLAlchemy's own execution."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Boolean, Column, Date, Integer, MetaData, String, Table, select
from sqlmodel import Session

from edusim_common.bulk import fetch_dicts, insert_rows
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
ROWS = [
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
