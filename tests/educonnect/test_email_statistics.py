"""PostgreSQL estimates how many sources a batch's emails match (the import's candidates).

Their indexes on ``lower(email)`` are partial, and PostgreSQL takes no statistics from a partial
index: without extended statistics it guessed that 50 emails matched a quarter of the sources,
and at 1 M pupils joined every night by reading all of ``account`` and ``account_source``.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from fake_educonnect.models import EMAIL_STATISTICS, add_email_statistics

SOURCES = 4000

ACCOUNTS_SQL = """
INSERT INTO account (identifiant, identifiant_base, nom, prenom, match_key, email,
                     email_confirmed, state, must_change_password, created_at, updated_at)
SELECT 'p.parent' || n, 'p.parent', 'Parent', 'P' || n, 'parent|p' || n, 'p' || n || '@example.org',
       n % 10 = 0, 'non_active', false, now(), now()
FROM generate_series(1, :count) AS n
"""
SOURCES_SQL = """
INSERT INTO account_source (account_id, source, source_id, school_uai, nom, prenom, accepts_sms,
                            email, fingerprint, updated_at)
SELECT id, 'onde', id::text, '0021593W', nom, prenom, true, email, '', now() FROM account
"""


def _estimate(engine: Engine, table: str, extra: str) -> int:
    emails = [f"P{n}@Example.org".lower() for n in range(1, 51)]
    query = (
        f"EXPLAIN (FORMAT JSON) SELECT id FROM {table} "
        f"WHERE lower(email::text) = ANY(:emails) AND {extra}"
    )
    with engine.connect() as connection:
        plan: Any = connection.execute(text(query), {"emails": emails}).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])


def test_the_import_s_email_lookups_are_estimated_from_statistics(educonnect: TestClient) -> None:
    engine: Engine = educonnect.app.state.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner; SQLite has its own way with partial indexes")
    with engine.begin() as connection:
        connection.execute(text(ACCOUNTS_SQL), {"count": SOURCES})
        connection.execute(text(SOURCES_SQL))
        connection.execute(text("ANALYZE account, account_source"))
        made = set(
            connection.scalars(
                text(
                    "SELECT stxname FROM pg_statistic_ext "
                    "WHERE stxnamespace = current_schema()::regnamespace"
                )
            )
        )
    assert made >= set(EMAIL_STATISTICS)  # made when the service started
    # 50 emails held by one source each, and by 5 of the 400 accounts that confirmed theirs:
    # without statistics, the estimates were 1,000 and 100 (a quarter of the rows).
    assert _estimate(engine, "account_source", "email IS NOT NULL AND deleted_at IS NULL") <= 200
    assert _estimate(engine, "account", "email_confirmed = true") <= 20
    assert add_email_statistics(engine) == []  # at the next start: nothing to add
