"""The deactivation threshold: a count, and a share of the mirror's responsables.

End to end, the threshold holding a run until approved is in test_j_plus_1.py; here its edges,
and that it never counts the whole mirror.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session

from edusim_common.bulk import insert_rows
from edusim_common.db import make_engine
from sync_service.config import SyncSettings
from sync_service.mirror import RESPONSABLES
from sync_service.models import SyncModel
from sync_service.runner import _over_threshold

MIRRORED = 100


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    SyncModel.metadata.create_all(engine)
    with Session(engine) as session:
        rows = [
            {
                "id": i,
                "school_uai": "0021593W",
                "nom": "Martin",
                "prenom": "Léa",
                "accepts_sms": True,
            }
            for i in range(1, MIRRORED + 1)
        ]
        insert_rows(session, RESPONSABLES, rows)
        session.commit()
    yield engine
    engine.dispose()


def _over(engine: Engine, pending: int, **settings: Any) -> bool:
    ctx: Any = SimpleNamespace(settings=SyncSettings(**settings))
    with Session(engine) as session:
        return _over_threshold(ctx, session, pending)


@pytest.mark.parametrize(
    ("pending", "settings", "over"),
    [
        (10, {"deactivation_max_percent": 10}, False),  # 10 % of 100: not over 10 %
        (11, {"deactivation_max_percent": 10}, True),
        (9, {"deactivation_max_percent": 5, "deactivation_percent_min_count": 10}, False),
        (10, {"deactivation_max_percent": 5, "deactivation_percent_min_count": 10}, True),
        (501, {"deactivation_max_percent": 100, "deactivation_max_count": 500}, True),
        (1, {"deactivation_max_percent": 0, "deactivation_percent_min_count": 1}, True),
        (33, {"deactivation_max_percent": 33.3, "deactivation_percent_min_count": 1}, False),
        (34, {"deactivation_max_percent": 33.3, "deactivation_percent_min_count": 1}, True),
        # More than the mirror holds (responsables deleted in ONDE are pending too): 150 %.
        (150, {"deactivation_max_percent": 100, "deactivation_max_count": 1000}, True),
        (100, {"deactivation_max_percent": 100, "deactivation_max_count": 1000}, False),
    ],
)
def test_the_share_is_of_the_mirrors_responsables(
    engine: Engine, pending: int, settings: dict[str, Any], over: bool
) -> None:
    assert _over(engine, pending, **settings) is over


def test_the_share_is_checked_without_counting_the_whole_mirror(engine: Engine) -> None:
    counts: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        if "count(" in sql:
            counts.append((sql, params))

    # 5 deactivations are over 10 % of fewer than 50 responsables: 50 rows at most are read.
    assert _over(engine, 5, deactivation_max_percent=10, deactivation_percent_min_count=1) is False
    # Fewer than the minimum count, or more than the maximum: nothing is counted.
    assert _over(engine, 3, deactivation_percent_min_count=4) is False
    assert _over(engine, 501, deactivation_max_count=500) is True
    event.remove(engine, "before_cursor_execute", _seen)
    assert len(counts) == 1
    sql, params = counts[0]
    assert "LIMIT" in sql
    assert 51 in (params.values() if isinstance(params, dict) else params)
