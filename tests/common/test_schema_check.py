"""A database made by an older version is refused at start-up, with what to do (no migrations).

Without the check, a table with a column the models no longer write (NOT NULL, no default) or
without one they read started fine and failed later, one request at a time, with a 500.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, Table, Text, inspect, text
from typer.testing import CliRunner

from edusim.cli import app as cli
from edusim_common.db import SchemaMismatch, make_engine, schema_problems
from fake_educonnect.config import EduConnectSettings
from fake_educonnect.main import METADATA as EDUCONNECT_METADATA
from fake_educonnect.main import create_app as create_educonnect_app
from fake_onde.config import OndeSettings
from fake_onde.main import create_app as create_onde_app
from fake_onde.models import OndeModel
from sync_service import models as sync_models
from sync_service.config import SyncSettings
from sync_service.main import create_app as create_sync_app
from sync_service.models import SyncModel


def _copy(metadata: MetaData) -> MetaData:
    copied = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(copied)
    return copied


def _made_then(url: str, metadata: MetaData, *statements: str) -> None:
    """Make the tables of ``metadata`` at ``url``, then change them as an older version had them."""
    engine = make_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def _refused(client: TestClient) -> str:
    with pytest.raises(SchemaMismatch) as refused, client:
        pass
    return str(refused.value)


def test_an_extra_not_null_column_is_refused_naming_it(
    educonnect_settings: EduConnectSettings,
) -> None:
    # EduConnect's account table once had failed_logins INTEGER NOT NULL: every insert failed.
    old = _copy(EDUCONNECT_METADATA)
    old.tables["account"].append_column(Column("failed_logins", Integer, nullable=False))
    engine = make_engine(educonnect_settings.database_url)
    old.create_all(engine)
    engine.dispose()
    message = _refused(TestClient(create_educonnect_app(educonnect_settings)))
    assert message.startswith("The educonnect database (")
    assert "table account has a column failed_logins (NOT NULL, no default)" in message
    assert "run `edusim reset` (or `edusim reset --demo`)" in message


def test_a_missing_index_is_refused_naming_it(educonnect_settings: EduConnectSettings) -> None:
    # An EduConnect made before the import found its match candidates through indexes: the
    # partial lower(email) index missing, every batch would read every source.
    _made_then(
        educonnect_settings.database_url,
        EDUCONNECT_METADATA,
        "DROP INDEX ix_account_source_live_email",
    )
    message = _refused(TestClient(create_educonnect_app(educonnect_settings)))
    assert "table account_source has no index ix_account_source_live_email" in message


def test_a_missing_column_is_refused_naming_it(onde_settings: OndeSettings) -> None:
    _made_then(
        onde_settings.database_url, OndeModel.metadata, "ALTER TABLE responsable DROP COLUMN email"
    )
    message = _refused(TestClient(create_onde_app(onde_settings)))
    assert "The onde database" in message
    assert "table responsable has no column email" in message
    assert "edusim reset" in message


def test_columns_inserts_can_live_with_are_accepted(onde_settings: OndeSettings) -> None:
    engine = make_engine(onde_settings.database_url)
    OndeModel.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE school ADD COLUMN note TEXT"))
        conn.execute(text("ALTER TABLE school ADD COLUMN rank INTEGER NOT NULL DEFAULT 0"))
    assert schema_problems(engine, OndeModel.metadata) == []
    engine.dispose()
    with TestClient(create_onde_app(onde_settings)) as onde:
        assert onde.get("/health").status_code == 200


def test_the_sync_upgrades_its_older_run_table_before_the_check(
    sync_settings: SyncSettings,
) -> None:
    engine = make_engine(sync_settings.database_url)
    SyncModel.metadata.create_all(engine)
    with engine.begin() as conn:  # the run table before run.night
        conn.execute(text("DROP INDEX ux_run_night"))
        conn.execute(text("ALTER TABLE run DROP COLUMN night"))
    assert schema_problems(engine, SyncModel.metadata) == [
        "table run has no column night",
        "table run has no index ux_run_night",
    ]
    engine.dispose()
    app = create_sync_app(sync_settings)
    with TestClient(app) as sync:
        assert sync.get("/health").status_code == 200
    engine = make_engine(sync_settings.database_url)
    assert schema_problems(engine, SyncModel.metadata) == []
    engine.dispose()


def test_the_sync_fills_the_mirror_name_keys_of_an_older_database(
    sync_settings: SyncSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before the run report's search joined the mirror: no name_key, no index on source_id.
    monkeypatch.setattr(sync_models, "NAME_KEY_CHUNK", 2)  # the fill goes chunk by chunk
    _made_then(
        sync_settings.database_url,
        SyncModel.metadata,
        "DROP INDEX ix_run_line_source",
        "ALTER TABLE mirror_responsable DROP COLUMN name_key",
        *(
            "INSERT INTO mirror_responsable (id, school_uai, nom, prenom, accepts_sms) "
            f"VALUES ({rid}, '0011223A', '{nom}', '{prenom}', true)"
            for rid, nom, prenom in (
                (1, "Lefèvre", "Anne"),
                (2, "Ébrard", "  Jean   Marc "),
                (3, "Durand", "Paul"),
            )
        ),
    )
    with TestClient(create_sync_app(sync_settings)) as sync:
        assert sync.get("/health").status_code == 200
    engine = make_engine(sync_settings.database_url)
    assert schema_problems(engine, SyncModel.metadata) == []
    with engine.connect() as conn:
        keys = conn.execute(text("SELECT id, name_key FROM mirror_responsable ORDER BY id")).all()
    engine.dispose()
    assert [tuple(row) for row in keys] == [
        (1, "anne lefevre"),
        (2, "jean marc ebrard"),
        (3, "paul durand"),
    ]


def test_the_sync_widens_a_name_key_made_varchar_on_postgresql(
    sync_settings: SyncSettings,
) -> None:
    if not sync_settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL enforces VARCHAR lengths; SQLite does not")
    # For a day the column was VARCHAR(170): « ﷺ » folds into 18 letters and overflowed it.
    _made_then(
        sync_settings.database_url,
        SyncModel.metadata,
        "ALTER TABLE mirror_responsable ALTER COLUMN name_key TYPE VARCHAR(170)",
    )
    with TestClient(create_sync_app(sync_settings)) as sync:
        assert sync.get("/health").status_code == 200
    engine = make_engine(sync_settings.database_url)
    (column,) = [
        c for c in inspect(engine).get_columns("mirror_responsable") if c["name"] == "name_key"
    ]
    engine.dispose()
    assert isinstance(column["type"], Text)


def test_educonnect_drops_the_unused_ine_index_of_an_older_database(
    educonnect_settings: EduConnectSettings,
) -> None:
    _made_then(
        educonnect_settings.database_url,
        EDUCONNECT_METADATA,
        "CREATE INDEX ix_child_ine ON child (ine)",  # as versions before 2026-11-30 made it
    )
    with TestClient(create_educonnect_app(educonnect_settings)) as educonnect:
        assert educonnect.get("/health").status_code == 200
    engine = make_engine(educonnect_settings.database_url)
    assert "ix_child_ine" not in {i["name"] for i in inspect(engine).get_indexes("child")}
    assert schema_problems(engine, EDUCONNECT_METADATA) == []
    engine.dispose()


def test_educonnect_adds_the_letter_situation_to_an_older_database(
    educonnect_settings: EduConnectSettings,
) -> None:
    engine = make_engine(educonnect_settings.database_url)
    EDUCONNECT_METADATA.create_all(engine)
    with engine.begin() as conn:  # the letter table before letter.situation
        conn.execute(text("ALTER TABLE letter DROP COLUMN situation"))
    assert schema_problems(engine, EDUCONNECT_METADATA) == ["table letter has no column situation"]
    engine.dispose()
    with TestClient(create_educonnect_app(educonnect_settings)) as educonnect:
        assert educonnect.get("/health").status_code == 200
    engine = make_engine(educonnect_settings.database_url)
    assert schema_problems(engine, EDUCONNECT_METADATA) == []
    engine.dispose()


def test_sqlite_tables_made_without_autoincrement_are_refused(
    onde_settings: OndeSettings,
) -> None:
    if not onde_settings.database_url.startswith("sqlite"):
        pytest.skip("AUTOINCREMENT is SQLite's; PostgreSQL sequences never go back")
    # ONDE's tables before ids were kept from coming back (a deleted parent's id given again).
    old = MetaData()
    for table in OndeModel.metadata.sorted_tables:
        copied: Table = table.to_metadata(old)
        copied.dialect_options["sqlite"]["autoincrement"] = False
    engine = make_engine(onde_settings.database_url)
    old.create_all(engine)
    engine.dispose()
    message = _refused(TestClient(create_onde_app(onde_settings)))
    for name in ("pupil", "responsable", "pupil_responsable", "school_class"):
        assert f"table {name} was made without AUTOINCREMENT" in message
    assert "table school " not in message


def test_edusim_seed_refuses_an_older_onde_database_with_the_same_message(
    onde_settings: OndeSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine = make_engine(onde_settings.database_url)
    OndeModel.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE responsable DROP COLUMN email"))
    engine.dispose()
    monkeypatch.setenv("ONDE_DATABASE_URL", onde_settings.database_url)
    result = CliRunner().invoke(
        cli, ["seed", "--pupils", "5", "--schools", "1", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "table responsable has no column email" in result.output
    assert "edusim reset" in result.output
