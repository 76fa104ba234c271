"""What the import reads and writes, beyond its results (its query plans: test_import_plans).

- An UPDATE sets only the columns that changed. SQLite rewrites the entry of every index over a
  column an UPDATE sets, whatever its value: an UPDATE of all columns touched every index of every
  changed row, which at 1 M pupils made a daily delta's writes several times bigger.
- A batch reads only the accounts its items could match. Generated emails repeat across
  homonyms; at 1 M pupils, reading every account that shared an item's email (with its sources
  and attachments) tripled what a daily delta read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from edusim_common.db import make_engine, unit_of_work
from fake_educonnect.models import Account, AccountSource, EduConnectModel, table_of
from fake_educonnect.schemas import ImportBatch
from fake_educonnect.service.imports import BatchReport, ImportPolicy, import_batch
from fake_educonnect.service.rowstore import RowStore
from tests.educonnect.factories import child, responsable

NOW = datetime(2026, 9, 2, 2, 0, tzinfo=UTC)
SET = re.compile(r"UPDATE (\w+) SET (.*) WHERE", re.S)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'writes.db'}")
    EduConnectModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every (SQL, parameters) the engine runs within the block."""
    seen: list[tuple[str, Any]] = []

    def _seen(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", _seen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _seen)


def _updates(statements: list[tuple[str, Any]]) -> dict[str, list[set[str]]]:
    """The columns each UPDATE statement sets, by table."""
    updates: dict[str, list[set[str]]] = {}
    for sql, _params in statements:
        found = SET.match(sql.strip())
        if found:
            columns = {part.split("=")[0].strip() for part in found[2].split(",")}
            updates.setdefault(found[1], []).append(columns)
    return updates


def _arrays(statements: list[tuple[str, Any]], prefix: str, where: str) -> list[list[Any]]:
    """The JSON array (a batch's keys) bound to each statement starting with ``prefix``."""
    return [
        json.loads(next(p for p in params if str(p).startswith("[")))
        for sql, params in statements
        if sql.startswith(prefix) and where in sql
    ]


ACCOUNTS_BY_ID = ("SELECT account.id, account.identifiant", "account.id IN")


def _import(engine: Engine, now: datetime, *items: dict[str, Any]) -> BatchReport:
    with unit_of_work(engine) as session:
        batch = ImportBatch.model_validate({"items": list(items)})
        return import_batch(session, now, batch, ImportPolicy())


def _run(engine: Engine, now: datetime, *items: dict[str, Any]) -> dict[str, list[set[str]]]:
    """Import ``items``; the columns each UPDATE statement set, by table."""
    with _statements(engine) as statements:
        _import(engine, now, *items)
    return _updates(statements)


def test_a_new_email_updates_only_the_columns_it_changes(engine: Engine) -> None:
    _run(engine, NOW, responsable("101"), responsable("102", nom="Durand", mobile=None))
    later = NOW + timedelta(days=1)
    updates = _run(
        engine,
        later,
        responsable("101", email="sophie@example.org"),
        responsable("102", nom="Durand", mobile=None),
    )
    assert updates == {
        "account_source": [{"email", "fingerprint", "updated_at"}],
        "account": [{"email", "updated_at"}],
    }
    with engine.connect() as connection:
        sources = table_of(AccountSource)
        stored = connection.execute(
            select(sources.c.source_id, sources.c.email, sources.c.nom, sources.c.updated_at)
        ).all()
        accounts = table_of(Account)
        emails = dict(connection.execute(select(accounts.c.nom, accounts.c.email)).all())
    assert sorted(stored) == [
        ("101", "sophie@example.org", "Martin", later),
        ("102", None, "Durand", NOW),
    ]
    assert emails == {"Martin": "sophie@example.org", "Durand": None}


def test_rows_changed_in_different_columns_go_in_one_update_per_set_of_columns(
    engine: Engine,
) -> None:
    _run(
        engine,
        NOW,
        responsable("101", children=[child("1")]),
        responsable("102", nom="Durand", children=[child("2")]),
        responsable("103", nom="Petit", children=[child("3")]),
    )
    later = NOW + timedelta(days=1)
    updates = _run(
        engine,
        later,
        responsable("101", children=[child("1")], email="a@example.org"),
        responsable("102", nom="Durand", children=[child("2")], email="b@example.org"),
        responsable("103", nom="Petit", children=[child("3", enrolled=False)]),
    )
    # The two new emails in one statement; the struck-off child's attachment and account apart.
    assert updates["account_source"] == [{"email", "fingerprint", "updated_at"}]
    assert sorted(map(sorted, updates["account"])) == [
        ["deactivated_at", "state", "updated_at"],
        ["email", "updated_at"],
    ]
    assert updates["child"] == [{"enrolled", "updated_at"}]
    assert updates["attachment"] == [{"decided_at", "decided_by", "reason", "status"}]


def test_a_row_marked_changed_with_the_same_values_is_not_written(engine: Engine) -> None:
    _run(engine, NOW, responsable("101"))
    with _statements(engine) as statements, unit_of_work(engine) as session:
        store = RowStore(session, table_of(Account))
        (row,) = store.load(table_of(Account).c.id == 1)
        row["email"] = "x@example.org"
        row["email"] = None  # back to what is stored
        store.changed(row)
        store.flush()
    assert not [sql for sql, _ in statements if sql.lstrip().upper().startswith("UPDATE")]


def test_a_row_changed_again_after_a_flush_is_written_whole(engine: Engine) -> None:
    _run(engine, NOW, responsable("101"))
    accounts = table_of(Account)
    with unit_of_work(engine) as session:
        store = RowStore(session, accounts)
        (row,) = store.load(accounts.c.id == 1)
        row["email"] = "x@example.org"
        store.changed(row)
        store.flush()
        row["mobile"] = "+33600000000"
        store.changed(row)
        assert list(store._changes()) == [tuple(c for c in store.columns if c != "id")]
        store.flush()
    with engine.connect() as connection:
        stored = connection.execute(select(accounts.c.email, accounts.c.mobile)).one()
    assert tuple(stored) == ("x@example.org", "+33600000000")


def test_an_account_sharing_an_email_under_other_names_is_not_read(engine: Engine) -> None:
    shared = "famille@example.org"
    _run(
        engine,
        NOW,
        responsable("101", email=shared),  # Sophie Martin, account 1
        responsable("102", nom="Durand", prenom="Paul", mobile=None, email=shared),  # account 2
    )
    # Paul Durand again, from another school's record: matched to his account by the email.
    item = responsable("201", nom="Durand", prenom="Paul", mobile="+33699999999", email=shared)
    with _statements(engine) as statements:
        report = _import(engine, NOW + timedelta(days=1), item)
    assert (report.results[0].outcome, report.results[0].account_id) == ("matched", 2)
    assert _arrays(statements, *ACCOUNTS_BY_ID) == [[2]]


def test_only_items_without_a_source_record_read_identifiant_walks(engine: Engine) -> None:
    _run(engine, NOW, responsable("101"))
    with _statements(engine) as statements:
        report = _import(
            engine,
            NOW,
            responsable("101", email="sophie@example.org"),  # known: keeps its account
            responsable("102", nom="Durand", prenom="Paul"),  # new: needs an identifiant
            responsable("103", nom="Petit", prenom="Anne", deleted=True),  # never gets one
        )
    assert [r.outcome for r in report.results] == ["updated", "created", "excluded"]
    assert _arrays(statements, "SELECT identifiant_walk.base", "") == [["p.durand"]]


def test_an_account_is_read_for_an_email_only_with_the_names_of_the_item_giving_it(
    engine: Engine,
) -> None:
    shared = "famille@example.org"
    _run(engine, NOW, responsable("101", email=shared))  # Sophie Martin, account 1
    with _statements(engine) as statements:
        report = _import(
            engine,
            NOW,
            # Her names with another email, and her email under other names: neither is her.
            responsable("201", mobile=None, email="sophie.martin@example.org"),
            responsable("202", nom="Durand", prenom="Paul", mobile=None, email=shared),
        )
    assert [r.outcome for r in report.results] == ["created", "created"]
    assert _arrays(statements, *ACCOUNTS_BY_ID) == [[]]
