"""Snapshots of the whole simulation over the sync's API: save, list, download, upload, restore.

The sync service drives the clock and runs the syncs, so it is the one place where a snapshot can
be taken with no run in progress (it holds the run lock meanwhile) and where a restored clock can be
pushed to the running services. It reaches ONDE's and EduConnect's databases directly, through
``ONDE_DATABASE_URL`` and ``EDUCONNECT_DATABASE_URL`` (``edusim up`` gives every service the three
URLs; without them, SQLite files ``onde.db``/``educonnect.db`` beside the sync's own are used).
Snapshot files live in ``EDUSIM_SNAPSHOT_DIR`` (default: ``snapshots/`` beside the sync's SQLite
file, else ``data/snapshots``).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, StrictBool, field_validator
from sqlalchemy import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import SQLAlchemyError

from edusim.snapshot import restore, save
from edusim.snapshot_format import (
    NAME_PATTERN,
    WRITER_LOCK_KEYS,
    RunInProgress,
    SnapshotError,
    SnapshotInfo,
    check_name,
    verify,
)
from edusim.snapshot_store import SnapshotStore, default_directory
from edusim_common.clock import ClockMode, ClockState
from edusim_common.db import make_engine
from edusim_common.problems import PROBLEM_RESPONSES, Conflict, InvalidInput, NotFound, Problem
from edusim_common.service_auth import require_service_token
from edusim_common.types import STRICT_INPUT
from sync_service import driver
from sync_service.models import fill_name_keys
from sync_service.remote import RemoteError
from sync_service.runner import SyncContext, take_run_lock

log = logging.getLogger("edusim.sync.snapshots")
router = APIRouter(
    prefix="/snapshots",
    tags=["snapshots"],
    dependencies=[Depends(require_service_token)],
    responses=PROBLEM_RESPONSES,
)
MAX_UPLOAD_BYTES = 1 << 30
SnapshotName = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class SnapshotsUnavailable(Problem):
    """The sync service does not know where the other services' databases are."""

    status = 503
    code = "snapshots-unavailable"
    title = "Snapshots unavailable"


class ClockNotPushed(Problem):
    """The databases were restored but a service did not take the restored clock."""

    status = 502
    code = "clock-not-pushed"
    title = "Clock not pushed"


class SnapshotOut(BaseModel):
    """A saved snapshot."""

    name: str
    saved_at: datetime = Field(description="Wall-clock time of the save.")
    simulated_now: datetime | None = Field(description="The simulated time it was taken at.")
    clock_mode: str | None
    size: int | None = Field(description="File size in bytes.")
    rows: dict[str, int] = Field(description="Rows per database.")

    @classmethod
    def of(cls, info: SnapshotInfo) -> SnapshotOut:
        """The public shape of a snapshot."""
        return cls(
            name=info.name,
            saved_at=info.saved_at,
            simulated_now=info.simulated_now,
            clock_mode=info.clock["mode"] if info.clock else None,
            size=info.size,
            rows=info.rows(),
        )


class SnapshotSave(BaseModel):
    """Save the simulation under a name."""

    model_config = STRICT_INPUT

    name: str = Field(pattern=NAME_PATTERN.pattern, examples=["debut-demo"])
    # Strict: ``"yes"`` or ``1`` would replace a snapshot by accident.
    overwrite: StrictBool = Field(default=False, description="Replace a snapshot of the same name.")

    @field_validator("name")
    @classmethod
    def _storable(cls, value: str) -> str:
        """The store's own rule too (no ``….tmp``: its temporary files)."""
        try:
            return check_name(value)
        except SnapshotError as exc:
            raise ValueError(str(exc)) from None


class ClockMoving(Conflict):
    """A clock move or the nightly catch-up is running its nights: no save or restore now."""


class RunRunning(Conflict):
    """A sync run is in progress: no save or restore now."""


class SnapshotExists(Conflict):
    """A snapshot of that name exists and replacing it was not asked for."""


class SnapshotUnreadable(Conflict):
    """The snapshot file is damaged, truncated or of another format."""


class Restored(BaseModel):
    """What a restore did."""

    snapshot: SnapshotOut
    clock: ClockState


def database_urls(request: Request) -> dict[str, str]:
    """ONDE's and EduConnect's database URLs; :class:`SnapshotsUnavailable` if unknown."""
    return {
        "onde": _database_url(request, "ONDE", "onde.db"),
        "educonnect": _database_url(request, "EDUCONNECT", "educonnect.db"),
    }


def _database_url(request: Request, prefix: str, filename: str) -> str:
    configured = os.environ.get(f"{prefix}_DATABASE_URL")
    if configured:
        return configured
    own = make_url(request.app.state.settings.database_url)
    if own.get_backend_name() == "sqlite" and own.database not in (None, "", ":memory:"):
        sibling = Path(own.database or ".").parent / filename
        if sibling.is_file():
            return f"sqlite:///{sibling}"
    raise SnapshotsUnavailable(
        f"snapshots need the other services' databases: set {prefix}_DATABASE_URL in the sync "
        "service's environment (edusim up does)"
    )


def get_store(request: Request) -> SnapshotStore:
    """The directory of snapshot files."""
    return SnapshotStore(default_directory(request.app.state.settings.database_url))


Store = Annotated[SnapshotStore, Depends(get_store)]


@contextmanager
def _engines(request: Request) -> Iterator[dict[str, Engine]]:
    """ONDE's and EduConnect's databases (opened for this request), and the sync's own."""
    urls = database_urls(request)
    opened = {svc: make_engine(url, lock_key=WRITER_LOCK_KEYS[svc]) for svc, url in urls.items()}
    try:
        yield opened | {"sync": request.app.state.engine}
    finally:
        for engine in opened.values():
            engine.dispose()


@contextmanager
def _no_run(ctx: SyncContext) -> Iterator[None]:
    """Hold the clock's driver and the run lock: no clock move, nightly catch-up or run meanwhile.

    Without the driver, the scheduler's catch-up could read the clock before a restore and the
    last night run after it, and run a night of the abandoned timeline at the restored time.
    """
    if not ctx.driver_lock.acquire(blocking=False):
        raise ClockMoving(
            "the clock is moving (a clock move or the nightly catch-up is running its nights): "
            "try again when it has ended"
        )
    try:
        if not take_run_lock(ctx):  # a run left by a dead process is marked, not waited for
            raise RunRunning("a sync run is in progress: try again when it has ended")
        try:
            yield
        finally:
            ctx.run_lock.release()
    finally:
        ctx.driver_lock.release()


def snapshot_info(store: SnapshotStore, name: str) -> SnapshotInfo:
    """The header of snapshot ``name``: :class:`NotFound`, or :class:`SnapshotUnreadable`."""
    try:
        info = store.info(name)
    except FileNotFoundError as exc:
        raise NotFound(f"no snapshot {name!r}") from exc
    except SnapshotError as exc:
        raise SnapshotUnreadable(f"snapshot {name!r}: {exc}") from exc
    return info


@router.get("", summary="Saved snapshots, oldest first")
def list_snapshots(store: Store) -> list[SnapshotOut]:
    """Every snapshot of the directory, with its simulated time and size."""
    return [SnapshotOut.of(info) for info in store.list()]


@router.post("", status_code=201, summary="Save the whole simulation")
def save_snapshot(body: SnapshotSave, request: Request, store: Store) -> SnapshotOut:
    """The three databases and the clock, with no sync run in progress."""
    ctx: SyncContext = request.app.state.sync
    with _no_run(ctx), _engines(request) as engines:
        try:
            with store.writing(body.name, body.overwrite) as out:
                save(engines, out, body.name, datetime.now(UTC))
        except FileExistsError as exc:
            raise SnapshotExists.for_field(
                "body.name", f"snapshot {body.name!r} exists: give overwrite: true to replace it"
            ) from exc
        except RunInProgress as exc:
            raise RunRunning(str(exc)) from exc
        except SnapshotError as exc:
            raise InvalidInput(str(exc)) from exc
    return SnapshotOut.of(snapshot_info(store, body.name))


@router.get("/{name}", summary="Download a snapshot file", response_class=FileResponse)
def download_snapshot(name: SnapshotName, store: Store) -> FileResponse:
    """The snapshot file (gzip-compressed JSON Lines), to keep or to upload elsewhere."""
    snapshot_info(store, name)
    return FileResponse(
        store.path(name), media_type="application/gzip", filename=store.path(name).name
    )


@router.put("/{name}", summary="Upload a snapshot file")
async def upload_snapshot(name: SnapshotName, request: Request, store: Store) -> SnapshotOut:
    """Store a snapshot file (as downloaded, or made by `edusim`) under ``name``; replaces one."""
    body = await request.body()
    if len(body) > MAX_UPLOAD_BYTES:
        raise InvalidInput("the snapshot file is too large")

    def keep() -> None:
        try:  # every line, not only the header: a damaged file is refused now, not at restore
            verify(io.BytesIO(body))
        except SnapshotError as exc:
            raise InvalidInput.for_field("body", str(exc)) from exc
        with store.writing(name, overwrite=True) as out:
            out.write(body)

    await run_in_threadpool(keep)
    return SnapshotOut.of(snapshot_info(store, name))


@router.delete("/{name}", status_code=204, summary="Delete a snapshot")
def delete_snapshot(name: SnapshotName, store: Store) -> None:
    """The file is removed."""
    try:
        store.delete(name)
    except FileNotFoundError as exc:
        raise NotFound(f"no snapshot {name!r}") from exc


@router.post("/{name}/restore", summary="Rewind the whole simulation to a snapshot")
def restore_snapshot(name: SnapshotName, request: Request, store: Store) -> Restored:
    """The three databases replaced, all or nothing; the restored clock pushed to every service."""
    ctx: SyncContext = request.app.state.sync
    info = snapshot_info(store, name)
    with _no_run(ctx), _engines(request) as engines:
        try:
            with store.path(name).open("rb") as source:
                restore(engines, source)
            try:  # a snapshot saved by an older version has none (else the next start fills)
                fill_name_keys(engines["sync"])
            except SQLAlchemyError:
                log.exception("the restored mirror's name keys were not filled")
        except RunInProgress as exc:
            raise RunRunning(str(exc)) from exc
        except SnapshotError as exc:
            raise SnapshotUnreadable(f"snapshot {name!r} not restored: {exc}") from exc
        if info.clock is not None:
            mode = ClockMode(info.clock["mode"])
            ctx.clock.set(datetime.fromisoformat(info.clock["now"]), mode)
        try:
            driver.push_clock(ctx)
        except RemoteError as exc:
            raise ClockNotPushed(
                f"the databases were restored, but the clock could not be pushed: {exc}; "
                "a service that did not answer takes the restored clock from its database at its "
                "next request, or when it starts again"
            ) from exc
    return Restored(snapshot=SnapshotOut.of(info), clock=ctx.clock.state())
