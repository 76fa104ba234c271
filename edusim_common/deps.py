"""Request dependencies every service shares: the request's transaction and its simulated time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from edusim_common.clock import SimClock
from edusim_common.clock_api import get_clock
from edusim_common.db import read_session, unit_of_work

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """The request's transaction: a serialised write for mutations, committed before answering."""
    engine = request.app.state.engine
    if request.method in _READ_METHODS:
        with read_session(engine) as session:
            yield session
        return
    with unit_of_work(engine) as session:
        yield session


def get_now(clock: Annotated[SimClock, Depends(get_clock)]) -> datetime:
    """Simulated time of this request (one reading for the whole request)."""
    return clock.now()


DbSession = Annotated[Session, Depends(get_session, scope="function")]
Now = Annotated[datetime, Depends(get_now)]
