"""`edusim reset` names each database it erased, without printing its password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

import edusim.cli
from edusim.cli import app
from edusim_common.db import make_engine


def test_reset_masks_database_passwords(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for prefix in ("ONDE", "EDUCONNECT", "SYNC"):
        monkeypatch.setenv(
            f"{prefix}_DATABASE_URL",
            f"postgresql+psycopg://edusim:s3cret-{prefix}@db.example:5432/{prefix.lower()}",
        )
    engines: list[str] = []

    def local_engine(url: str, **_: Any) -> Engine:
        # The URLs point nowhere: erase local SQLite files instead.
        engines.append(url)
        return make_engine(f"sqlite:///{tmp_path / str(len(engines))}.db")

    monkeypatch.setattr(edusim.cli, "make_engine", local_engine)
    result = CliRunner().invoke(app, ["reset", "--yes", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    # the sync's database first, to refuse while the simulator runs on it; then the three erased
    assert [url.rsplit("/", 1)[1] for url in engines] == ["sync", "onde", "educonnect", "sync"]
    assert "s3cret" not in result.output
    assert "onde: erased (postgresql+psycopg://edusim:***@db.example:5432/onde)" in result.output
