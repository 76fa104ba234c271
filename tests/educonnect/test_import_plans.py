"""The import reads through indexes only: no query of a batch scans a whole table (SQLite plans).

A full scan costs nothing on a test database and grows with EduConnect; at 1 M pupils one scan per
batch made the full sync minutes longer. SQLite only uses a partial index when the query repeats
its condition, so this is easy to break without any test failing otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from edusim_common.db import make_engine, unit_of_work
from fake_educonnect.models import EduConnectModel
from fake_educonnect.schemas import ImportBatch
from fake_educonnect.service.imports import ImportPolicy, import_batch
from tests.educonnect.factories import OTHER_SCHOOL, child, responsable

NOW = datetime(2026, 9, 2, 2, 0, tzinfo=UTC)


def test_no_import_query_scans_a_table(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    EduConnectModel.metadata.create_all(engine)
    batches = [
        [responsable("101", email="a@example.org"), responsable("102", prenom="Paul")],
        [
            responsable("201", email="A@example.org", school_uai=OTHER_SCHOOL),
            responsable("202", email="élodie@example.org", children=[child("7")]),
            responsable("101", mobile="+33700000000"),
        ],
    ]
    statements: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT") and not many:
            statements.append((sql, params))

    for items in batches:
        with unit_of_work(engine) as session:
            import_batch(session, NOW, ImportBatch.model_validate({"items": items}), ImportPolicy())
    event.remove(engine, "before_cursor_execute", _seen)
    assert len(statements) > 10
    scans = []
    with engine.connect() as connection:
        for sql, params in statements:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            details = [row[-1] for row in plan]
            # SCAN of a table (json_each, the bound arrays, is a virtual table: scanning it is fine)
            if any(d.startswith("SCAN ") and "VIRTUAL TABLE" not in d for d in details):
                scans.append((sql, details))
    engine.dispose()
    assert scans == []
