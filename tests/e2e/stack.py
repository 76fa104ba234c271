"""The three services as real processes (uvicorn on free loopback ports), for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from edusim.services import free_port

ONDE_TOKEN = "e2e-onde-token"
EC_TOKEN = "e2e-educonnect-token"
SYNC_TOKEN = "e2e-sync-token"
ONDE_SECRET = "e2e-onde-secret"
EC_SECRET = "e2e-educonnect-secret"


class Service:
    """One service process."""

    def __init__(self, name: str, factory: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.factory = factory
        self.env = env
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until /health answers."""
        command = [
            sys.executable, "-m", "uvicorn", "--factory", self.factory,
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as when a machine dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if needed."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Stack:
    """ONDE, EduConnect and the sync, each with its own database, wired together."""

    def __init__(self, make_url: Callable[[str], str], workdir: Path, **sync_env: str) -> None:
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ONDE_", "EDUCONNECT_", "SYNC_"))
        }
        self.onde = Service(
            "onde",
            "fake_onde.main:create_app",
            base | {
                "ONDE_DATABASE_URL": make_url("onde"),
                "ONDE_SERVICE_TOKEN": ONDE_TOKEN,
                "ONDE_SECRET_KEY": ONDE_SECRET,
            },
            workdir / "onde.log",
        )  # fmt: skip
        self.educonnect = Service(
            "educonnect",
            "fake_educonnect.main:create_app",
            base | {
                "EDUCONNECT_DATABASE_URL": make_url("educonnect"),
                "EDUCONNECT_SERVICE_TOKEN": EC_TOKEN,
                "EDUCONNECT_SECRET_KEY": EC_SECRET,
                "EDUCONNECT_ARGON2_TIME_COST": "1",
                "EDUCONNECT_ARGON2_MEMORY_KIB": "1024",
            },
            workdir / "educonnect.log",
        )  # fmt: skip
        self.sync = Service(
            "sync",
            "sync_service.main:create_app",
            base | {
                "SYNC_DATABASE_URL": make_url("sync"),
                "SYNC_SERVICE_TOKEN": SYNC_TOKEN,
                "SYNC_ONDE_URL": self.onde.url,
                "SYNC_ONDE_TOKEN": ONDE_TOKEN,
                "SYNC_EDUCONNECT_URL": self.educonnect.url,
                "SYNC_EDUCONNECT_TOKEN": EC_TOKEN,
                "SYNC_SCHEDULER_ENABLED": "false",
                "SYNC_RETRY_ATTEMPTS": "3",
                "SYNC_RETRY_BACKOFF_SECONDS": "0.05",
            } | sync_env,
            workdir / "sync.log",
        )  # fmt: skip
        links = {
            "EDUSIM_ONDE_URL": self.onde.url,
            "EDUSIM_EDUCONNECT_URL": self.educonnect.url,
            "EDUSIM_SYNC_URL": self.sync.url,
        }
        for service in (self.onde, self.educonnect, self.sync):
            service.env |= links
        self.http = httpx.Client(timeout=120)

    def start(self) -> None:
        """Start the three services."""
        for service in (self.onde, self.educonnect, self.sync):
            service.start()

    def stop(self) -> None:
        """Stop everything."""
        for service in (self.sync, self.educonnect, self.onde):
            service.stop()
        self.http.close()

    # -- calls, each with the right token --------------------------------------------------

    def _call(
        self, service: Service, token: str, method: str, path: str, **kw: Any
    ) -> httpx.Response:
        headers = kw.pop("headers", None) or {"Authorization": f"Bearer {token}"}
        return self.http.request(method, service.url + path, headers=headers, **kw)

    def onde_call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """ONDE with the service token (or the headers given)."""
        return self._call(self.onde, ONDE_TOKEN, method, path, **kw)

    def ec_call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """EduConnect with the service token (or the headers given)."""
        return self._call(self.educonnect, EC_TOKEN, method, path, **kw)

    def sync_call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """The sync with its service token."""
        return self._call(self.sync, SYNC_TOKEN, method, path, **kw)

    def next_day(self) -> dict[str, Any]:
        """« Jour suivant »: the night's sync runs."""
        response = self.sync_call("POST", "/api/v1/clock/next-day")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body
