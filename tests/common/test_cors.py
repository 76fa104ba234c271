"""CORS: a page of an allowed origin may call a service's API; none is allowed by default."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from fake_educonnect.config import EduConnectSettings
from fake_onde.config import OndeSettings
from fake_onde.main import create_app
from sync_service.config import SyncSettings

APP = "http://localhost:3000"


def _preflight(client: TestClient, origin: str) -> dict[str, str]:
    answer = client.options(
        "/api/v1/pupils",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    return dict(answer.headers)


def test_an_allowed_origin_gets_the_cors_headers_and_no_other_does(
    onde_settings: OndeSettings, service: dict[str, str]
) -> None:
    allowed = onde_settings.model_copy(update={"cors_origins": [APP]})
    with TestClient(create_app(allowed)) as client:
        headers = _preflight(client, APP)
        assert headers["access-control-allow-origin"] == APP
        assert "authorization" in headers["access-control-allow-headers"].lower()
        answer = client.get("/api/v1/pupils", headers=service | {"Origin": APP})
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == APP
        other = client.get("/api/v1/pupils", headers=service | {"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        created = client.post(
            "/api/v1/schools",
            json={"uai": "0590401R", "name": "École", "commune": "Lille", "insee": "59350"},
            headers=service | {"Origin": APP},
        )
        assert "location" in created.headers.get("access-control-expose-headers", "").lower()


def test_no_origin_is_allowed_by_default(onde: TestClient, service: dict[str, str]) -> None:
    assert "access-control-allow-origin" not in _preflight(onde, APP)
    answer = onde.get("/api/v1/pupils", headers=service | {"Origin": APP})
    assert "access-control-allow-origin" not in answer.headers


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        (
            "http://localhost:3000, https://ent.example/",
            ["http://localhost:3000", "https://ent.example"],
        ),
        ('["http://localhost:3000"]', ["http://localhost:3000"]),
        ("*", ["*"]),
        ("", []),
    ],
)
def test_the_origins_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, origins: list[str]
) -> None:
    for prefix, settings in (("ONDE", OndeSettings), ("EDUCONNECT", EduConnectSettings),
                             ("SYNC", SyncSettings)):  # fmt: skip
        monkeypatch.setenv(f"{prefix}_CORS_ORIGINS", value)
        assert settings().cors_origins == origins


def test_a_wrong_origin_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONDE_CORS_ORIGINS", "localhost:3000")
    with pytest.raises(ValidationError, match="not a browser origin: localhost:3000"):
        OndeSettings()
