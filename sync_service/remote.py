"""HTTP clients of ONDE and EduConnect: pooled, with retries, backoff and a bounded budget."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson

from sync_service.contract import ChangePage, ExportPage, ImportReport, School, SchoolPage

log = logging.getLogger("edusim.sync.remote")
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class RetryTally:
    """The calls one run tried again after a transient fault (its threads share it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        """One more call tried again."""
        with self._lock:
            self.count += 1


#: The tally of the run this code works for: calls made outside a run (a page reading the
#: history, a clock push) count for none. Threads a run starts must run in a copy of its context.
RUN_RETRIES: ContextVar[RetryTally | None] = ContextVar("run_retries", default=None)


class RemoteError(RuntimeError):
    """A remote call failed for good (after its retries, or on a refusal)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    """How many tries, and how long to wait between them (doubling each time)."""

    attempts: int = 5
    backoff_seconds: float = 0.5


class Remote:
    """One remote service: a pooled client, its token, its retry policy."""

    def __init__(
        self,
        name: str,
        client: httpx.Client,
        token: str,
        retry: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        self.json_headers = {**self.headers, "Content-Type": "application/json"}
        self.retry = retry
        self.sleep = sleep

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """One call, retried on timeouts, refused connections and 5xx; its JSON body."""
        return orjson.loads(self.call_raw(method, path, params=params, json=json))

    def call_raw(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> bytes:
        """Like :meth:`call`, but the body as received (for ``model_validate_json``).

        Bodies are encoded and decoded with orjson: a batch of 10,000 responsables is ~7 MiB of
        JSON, which the standard library takes several times longer to write and read.
        ``content`` is a JSON body already encoded.
        """
        if json is not None:
            content = orjson.dumps(json)
        headers = self.headers if content is None else self.json_headers
        last = ""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                response = self.client.request(
                    method, path, params=params, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return response.content
                if response.status_code not in TRANSIENT_STATUSES:
                    raise RemoteError(
                        f"{self.name} refused {method} {path}: {response.status_code} "
                        f"{_detail(response)}",
                        status=response.status_code,
                    )
                last = f"HTTP {response.status_code} {_detail(response)}"
            if attempt < self.retry.attempts:
                tally = RUN_RETRIES.get()
                if tally is not None:
                    tally.add()
                delay = self.retry.backoff_seconds * 2 ** (attempt - 1)
                log.warning(
                    "%s %s %s failed (%s); retry in %.2fs", self.name, method, path, last, delay
                )
                self.sleep(delay)
        raise RemoteError(
            f"{self.name} unreachable for {method} {path} after {self.retry.attempts} tries: {last}"
        )


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail", body))[:300] if isinstance(body, dict) else str(body)[:300]


class OndeApi(Remote):
    """What the sync reads from ONDE."""

    def changes(self, after: int, until: datetime | None, limit: int) -> ChangePage:
        """A page of the change log after ``after``, up to ``until``."""
        params: dict[str, Any] = {"after": after, "limit": limit}
        if until is not None:
            params["until"] = until.isoformat()
        return ChangePage.model_validate_json(
            self.call_raw("GET", "/api/v1/changes", params=params)
        )

    def export(self, entity: str, after: int, limit: int, embed: str | None = None) -> ExportPage:
        """A page of the full export of ``entity`` (``embed="links"``: responsables' links)."""
        params: dict[str, Any] = {"after": after, "limit": limit}
        if embed is not None:
            params["embed"] = embed
        body = self.call_raw("GET", f"/api/v1/export/{entity}", params=params)
        return ExportPage.parse(body)

    def schools(self, cursor: str | None, limit: int) -> SchoolPage:
        """A page of ONDE's schools, by UAI (``cursor``: the previous page's ``next_cursor``)."""
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        return SchoolPage.model_validate_json(
            self.call_raw("GET", "/api/v1/schools", params=params)
        )


class EduConnectApi(Remote):
    """What the sync sends to EduConnect."""

    def put_schools(self, schools: list[School]) -> None:
        """Record schools' names in EduConnect's directory (idempotent)."""
        items = [school.model_dump(include={"uai", "name", "commune"}) for school in schools]
        self.call_raw("PUT", "/api/v1/schools", json={"items": items})

    def import_batch(
        self, items: list[dict[str, Any]], allow_deactivation: bool, dry_run: bool = False
    ) -> ImportReport:
        """Upsert a batch of responsables."""
        return ImportReport.model_validate_json(
            self.post_batch(encode_batch(items, allow_deactivation, dry_run))
        )

    def post_batch(self, body: bytes) -> bytes:
        """Send a batch encoded by :func:`encode_batch`; EduConnect's answer as received.

        The sync encodes the next batch and reads the last answer while this call is in flight.
        """
        return self.call_raw("POST", "/api/v1/import/responsables", content=body)


def encode_batch(items: list[dict[str, Any]], allow_deactivation: bool, dry_run: bool) -> bytes:
    """The JSON body of an import call."""
    return orjson.dumps(
        {"items": items, "allow_deactivation": allow_deactivation, "dry_run": dry_run}
    )


def set_clock(remote: Remote, now: datetime, mode: str) -> None:
    """Drive a remote service's clock."""
    remote.call("PUT", "/api/v1/clock", json={"now": now.isoformat(), "mode": mode})
