"""A directory of snapshot files, and saving or restoring by name."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import MetaData
from sqlalchemy.engine.url import make_url

from edusim.snapshot import restore, save
from edusim.snapshot_format import (
    SUFFIX,
    WRITER_LOCK_KEYS,
    SnapshotError,
    SnapshotInfo,
    check_name,
    read_info,
)
from edusim_common.db import make_engine


class SnapshotStore:
    """Snapshot files in one directory: ``NAME.snapshot.jsonl.gz``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, name: str) -> Path:
        """The file of snapshot ``name``."""
        return self.directory / f"{check_name(name)}{SUFFIX}"

    def exists(self, name: str) -> bool:
        """Whether snapshot ``name`` exists."""
        return self.path(name).is_file()

    def list(self) -> list[SnapshotInfo]:
        """Every readable snapshot, oldest first (damaged files are skipped)."""
        found = []
        if not self.directory.is_dir():
            return []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                found.append(self.info(path.name.removesuffix(SUFFIX)))
            except SnapshotError:
                continue
        return sorted(found, key=lambda info: info.saved_at)

    def info(self, name: str) -> SnapshotInfo:
        """The header of snapshot ``name``."""
        path = self.path(name)
        if not path.is_file():
            raise FileNotFoundError(name)
        with path.open("rb") as source:
            info = read_info(source, path.stat().st_size)
        info.name = name  # the file's name wins: an uploaded file may carry another
        return info

    @contextmanager
    def writing(self, name: str, overwrite: bool = False) -> Iterator[IO[bytes]]:
        """A file to write snapshot ``name`` into; it appears only if the block succeeds."""
        path = self.path(name)
        if path.exists() and not overwrite:
            raise FileExistsError(name)
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with temporary.open("wb") as out:
                yield out
            temporary.replace(path)
        finally:
            temporary.unlink(missing_ok=True)

    def delete(self, name: str) -> None:
        """Remove snapshot ``name``."""
        path = self.path(name)
        if not path.is_file():
            raise FileNotFoundError(name)
        path.unlink()


def save_to_store(
    store: SnapshotStore,
    name: str,
    urls: Mapping[str, str],
    overwrite: bool = False,
    wall: datetime | None = None,
) -> SnapshotInfo:
    """Save the databases at ``urls`` (by service name) as snapshot ``name``."""
    engines = {svc: make_engine(url) for svc, url in urls.items()}
    try:
        with store.writing(name, overwrite) as out:
            info = save(engines, out, name, wall or datetime.now(UTC))
        info.size = store.path(name).stat().st_size
        return info
    finally:
        for engine in engines.values():
            engine.dispose()


def restore_from_store(
    store: SnapshotStore,
    name: str,
    urls: Mapping[str, str],
    create: Mapping[str, MetaData] | None = None,
) -> SnapshotInfo:
    """Restore snapshot ``name`` into the databases at ``urls``."""
    path = store.path(name)
    if not path.is_file():
        raise FileNotFoundError(name)
    engines = {
        svc: make_engine(url, lock_key=WRITER_LOCK_KEYS.get(svc, 0)) for svc, url in urls.items()
    }
    try:
        with path.open("rb") as source:
            return restore(engines, source, create)
    finally:
        for engine in engines.values():
            engine.dispose()


def default_directory(sync_url: str, fallback: Path = Path("data")) -> Path:
    """Where snapshots live: ``EDUSIM_SNAPSHOT_DIR``, else beside the sync's SQLite file, else
    ``fallback/snapshots``."""
    configured = os.environ.get("EDUSIM_SNAPSHOT_DIR")
    if configured:
        return Path(configured)
    parsed = make_url(sync_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database or ".").parent / "snapshots"
    return fallback / "snapshots"
