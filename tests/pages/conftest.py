"""Fixtures of the pages' tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.pages.ec_steps import pages_client


@pytest.fixture(autouse=True)
def snapshot_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Snapshot files stay in the test's folder.

    On PostgreSQL the sync has no SQLite file to keep them beside, and would use
    ``./data/snapshots``: the page fuzz would list, and delete, a developer's real snapshots.
    """
    directory = tmp_path / "snapshots"
    monkeypatch.setenv("EDUSIM_SNAPSHOT_DIR", str(directory))
    return directory


@pytest.fixture
def ec(educonnect: TestClient) -> TestClient:
    """EduConnect, asked for pages."""
    return pages_client(educonnect)
