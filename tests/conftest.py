"""Shared fixtures: a fresh database per test (SQLite file, or a PostgreSQL schema in CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from fake_educonnect.config import EduConnectSettings
from fake_educonnect.main import create_app as create_educonnect_app
from fake_onde.config import OndeSettings
from fake_onde.main import create_app
from sync_service.config import SyncSettings
from sync_service.main import create_app as create_sync_app
from tests.e2e.stack import Stack

#: e.g. postgresql+psycopg://root@127.0.0.1:5432/test — the suite then runs on PostgreSQL.
PG_URL_ENV = "EDUSIM_TEST_DATABASE_URL"
SERVICE_TOKEN = "test-service-token"
SECRET_KEY = "test-secret-key"
DEMO_UAI = "0021593W"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches a database, so CI can run them again on PostgreSQL."""
    for item in items:
        if "db_urls" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@pytest.fixture
def db_urls(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Make databases for one test, one per name: SQLite files, or fresh PostgreSQL schemas.

    Each service gets a database of its own, as in production (their tables may share names).
    """
    base = os.environ.get(PG_URL_ENV)
    made: dict[str, str] = {}
    schemas: list[str] = []
    admin = create_engine(base) if base else None

    def make(name: str) -> str:
        if name in made:
            return made[name]
        if admin is None or base is None:
            made[name] = f"sqlite:///{tmp_path / name}.db"
            return made[name]
        schema = f"t_{uuid.uuid4().hex[:16]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        separator = "&" if "?" in base else "?"
        made[name] = f"{base}{separator}options=-csearch_path%3D{schema}"
        return made[name]

    try:
        yield make
    finally:
        if admin is not None:
            with admin.begin() as conn:
                for schema in schemas:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@pytest.fixture
def db_url(db_urls: Callable[[str], str]) -> str:
    """The test's main database."""
    return db_urls("test")


@pytest.fixture
def onde_settings(db_urls: Callable[[str], str]) -> OndeSettings:
    """Settings of a fake ONDE on a database of its own."""
    return OndeSettings(
        database_url=db_urls("onde"),
        service_token=SERVICE_TOKEN,
        secret_key=SECRET_KEY,
        max_page_size=500,
    )


@pytest.fixture
def onde(onde_settings: OndeSettings) -> Iterator[TestClient]:
    """A running fake ONDE (lifespan entered) on a fresh database."""
    with TestClient(create_app(onde_settings)) as client:
        yield client


@pytest.fixture
def service() -> dict[str, str]:
    """Headers of the service token."""
    return {"Authorization": f"Bearer {SERVICE_TOKEN}"}


def make_school(client: TestClient, uai: str = DEMO_UAI, **fields: Any) -> dict[str, str]:
    """Create a school through the API and return its director's headers."""
    body = {"uai": uai, "name": "École Jean Jaurès", "commune": "Lille", "academie": "Lille"}
    body.update(fields)
    response = client.post(
        "/api/v1/schools", json=body, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['director_token']}"}


@pytest.fixture
def director(onde: TestClient) -> dict[str, str]:
    """Headers of the director of a freshly created school (UAI 0021593W)."""
    return make_school(onde)


EC_SERVICE_TOKEN = "test-educonnect-token"
EC_SECRET_KEY = "test-educonnect-secret"


@pytest.fixture
def educonnect_settings(db_urls: Callable[[str], str]) -> EduConnectSettings:
    """Settings of a fake EduConnect on a database of its own (cheap argon2)."""
    return EduConnectSettings(
        database_url=db_urls("educonnect"),
        service_token=EC_SERVICE_TOKEN,
        secret_key=EC_SECRET_KEY,
        argon2_time_cost=1,
        argon2_memory_kib=64,
    )


@pytest.fixture
def educonnect(educonnect_settings: EduConnectSettings) -> Iterator[TestClient]:
    """A running fake EduConnect on a fresh database."""
    with TestClient(create_educonnect_app(educonnect_settings)) as client:
        yield client


@pytest.fixture
def ec_service() -> dict[str, str]:
    """Headers of EduConnect's service token (the sync)."""
    return {"Authorization": f"Bearer {EC_SERVICE_TOKEN}"}


SYNC_TOKEN = "test-sync-token"


@pytest.fixture
def sync_settings(
    db_urls: Callable[[str], str],
    onde_settings: OndeSettings,
    educonnect_settings: EduConnectSettings,
) -> SyncSettings:
    """Settings of a sync service driving the test's fakes (no background scheduler)."""
    return SyncSettings(
        database_url=db_urls("sync"),
        service_token=SYNC_TOKEN,
        onde_token=onde_settings.service_token,
        educonnect_token=educonnect_settings.service_token,
        scheduler_enabled=False,
        retry_attempts=2,
        retry_backoff_seconds=0,
        batch_size=50,
        page_size=40,
    )


@pytest.fixture
def sync(
    sync_settings: SyncSettings, onde: TestClient, educonnect: TestClient
) -> Iterator[TestClient]:
    """A sync service wired to the in-process fakes."""
    app = create_sync_app(sync_settings, onde_client=onde, educonnect_client=educonnect)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def sync_admin() -> dict[str, str]:
    """Headers of the sync's service token."""
    return {"Authorization": f"Bearer {SYNC_TOKEN}"}


@pytest.fixture
def stack(db_urls: Callable[[str], str], tmp_path: Path) -> Iterator[Stack]:
    """ONDE, EduConnect and the sync running under uvicorn on loopback ports (e2e, browser)."""
    running = Stack(db_urls, tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture
def snapshot_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Snapshot files stay in the test's folder.

    On PostgreSQL the sync has no SQLite file to keep them beside, and would use
    ``./data/snapshots``: a test would list, and could delete, a developer's real snapshots.
    """
    directory = tmp_path / "snapshots"
    monkeypatch.setenv("EDUSIM_SNAPSHOT_DIR", str(directory))
    return directory


@pytest.fixture
def fakes_reachable(
    snapshot_dir: Path,
    onde_settings: OndeSettings,
    educonnect_settings: EduConnectSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """What a sync under ``edusim up`` has for snapshots: the fakes' databases, and a folder for
    the snapshot files (returned) in the test's own."""
    monkeypatch.setenv("ONDE_DATABASE_URL", onde_settings.database_url)
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", educonnect_settings.database_url)
    return snapshot_dir


@pytest.fixture
def sync_with_snapshots(
    fakes_reachable: Path,
    sync_settings: SyncSettings,
    onde: TestClient,
    educonnect: TestClient,
) -> Iterator[TestClient]:
    """A sync wired to the in-process fakes that can also save and restore snapshots."""
    app = create_sync_app(sync_settings, onde_client=onde, educonnect_client=educonnect)
    with TestClient(app) as client:
        yield client
