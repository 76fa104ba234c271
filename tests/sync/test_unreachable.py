"""ONDE or EduConnect unreachable while the clock moves: a 503 problem, never a 500."""

from __future__ import annotations

from fastapi.testclient import TestClient

from edusim.services import free_port
from sync_service.config import SyncSettings
from sync_service.main import create_app

HTML = {"accept": "text/html"}


def test_a_clock_move_with_the_fakes_down_answers_503_problem(
    sync_settings: SyncSettings, sync_admin: dict[str, str]
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = sync_settings.model_copy(update={"onde_url": nowhere, "educonnect_url": nowhere})
    with TestClient(create_app(settings)) as sync:
        moved = sync.post("/api/v1/clock/next-day", headers=sync_admin)
        assert moved.status_code == 503, moved.text
        assert moved.headers["content-type"] == "application/problem+json"
        assert moved.json()["code"] == "upstream-unavailable"
        assert "unreachable" in moved.json()["detail"]
        page = sync.get("/", headers=HTML)  # the pages still answer, and say so in French
        assert page.status_code == 200
