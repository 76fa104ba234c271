"""Fixtures of the pages' tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.pages.ec_steps import pages_client


@pytest.fixture(autouse=True)
def _snapshots_in_the_test_folder(snapshot_dir: Path) -> Path:
    """Every page test keeps snapshot files in its own folder (see ``snapshot_dir``)."""
    return snapshot_dir


@pytest.fixture
def ec(educonnect: TestClient) -> TestClient:
    """EduConnect, asked for pages."""
    return pages_client(educonnect)
