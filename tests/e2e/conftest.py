"""A fresh stack of real processes per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import Stack


@pytest.fixture
def stack(db_urls: Callable[[str], str], tmp_path: Path) -> Iterator[Stack]:
    """ONDE, EduConnect and the sync running under uvicorn on loopback ports."""
    running = Stack(db_urls, tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()
