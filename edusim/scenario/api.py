"""The three services as a scenario sees them: one pooled client, the right token for each call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

NAMES = {"onde": "ONDE", "educonnect": "EduConnect", "sync": "sync"}


class CallFailed(Exception):
    """A service answered an error: the message names the call and the service's reason."""

    def __init__(self, service: str, method: str, path: str, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"{service} {method} {path} → {status}: {detail}")


class Unreachable(Exception):
    """A service does not answer at its URL."""


@dataclass(frozen=True)
class Endpoints:
    """Where the services are, and their service tokens."""

    onde: str
    educonnect: str
    sync: str
    onde_token: str
    educonnect_token: str
    sync_token: str


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("title") or body
        return str(detail)
    return str(body)[:300]


class Api:
    """Calls to ONDE, EduConnect and the sync; service tokens unless headers are given."""

    def __init__(self, endpoints: Endpoints, timeout: float = 120.0) -> None:
        self.endpoints = endpoints
        self.http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        """Close the pooled connections."""
        self.http.close()

    def _base(self, service: str) -> tuple[str, str]:
        e = self.endpoints
        return {
            "onde": (e.onde, e.onde_token),
            "educonnect": (e.educonnect, e.educonnect_token),
            "sync": (e.sync, e.sync_token),
        }[service]

    def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        anonymous: bool = False,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        **kw: Any,
    ) -> Any:
        """One call; its JSON body, or :class:`CallFailed` on any status not in ``ok``."""
        base, service_token = self._base(service)
        headers = {} if anonymous else {"Authorization": f"Bearer {token or service_token}"}
        url = base.rstrip("/") + "/api/v1" + path
        try:
            response = self.http.request(method, url, headers=headers, **kw)
        except httpx.TransportError as exc:
            raise Unreachable(
                f"{NAMES[service]} does not answer at {base} ({exc.__class__.__name__}): "
                "is the simulator running (edusim up)?"
            ) from exc
        if response.status_code not in ok:
            raise CallFailed(NAMES[service], method, path, response.status_code, _detail(response))
        return response.json() if response.content else None

    def onde(self, method: str, path: str, **kw: Any) -> Any:
        """ONDE."""
        return self.call("onde", method, path, **kw)

    def ec(self, method: str, path: str, **kw: Any) -> Any:
        """EduConnect."""
        return self.call("educonnect", method, path, **kw)

    def sync(self, method: str, path: str, **kw: Any) -> Any:
        """The sync service."""
        return self.call("sync", method, path, **kw)

    def check(self) -> None:
        """Every service answers its health check."""
        for service in ("onde", "educonnect", "sync"):
            base, _ = self._base(service)
            try:
                self.http.get(base.rstrip("/") + "/health", timeout=5).raise_for_status()
            except httpx.HTTPError as exc:
                raise Unreachable(
                    f"{NAMES[service]} does not answer at {base}: is the simulator running "
                    "(edusim up)?"
                ) from exc

    def outbox(self, after: int = 0, **params: Any) -> list[dict[str, Any]]:
        """Every outbox message after ``after`` (paging through), oldest first."""
        out: list[dict[str, Any]] = []
        while True:
            page = self.ec("GET", "/outbox", params={"after": after, "limit": 5000, **params})
            out.extend(page)
            if len(page) < 5000:
                return out
            after = page[-1]["id"]

    def account_of(self, source: str, source_id: str) -> dict[str, Any] | None:
        """The EduConnect account (in full) standing for a source record, if any."""
        found = self.ec(
            "GET", "/accounts", params={"source": source, "source_id": source_id, "limit": 1}
        )["items"]
        if not found:
            return None
        detail: dict[str, Any] = self.ec("GET", f"/accounts/{found[0]['id']}")
        return detail
