"""Start the three services as separate processes on loopback ports, watch them, stop them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType

import httpx


@dataclass(frozen=True)
class ServiceSpec:
    """One service to run: its name, ASGI factory and port."""

    name: str
    factory: str
    port: int


class ServiceError(RuntimeError):
    """A service could not start or stopped unexpectedly."""


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (tests and benchmarks start services on it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Supervisor:
    """Runs each service under uvicorn in its own process."""

    def __init__(self, host: str, specs: Sequence[ServiceSpec], log_level: str = "warning"):
        self.host = host
        self.specs = list(specs)
        self.log_level = log_level
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def url(self, spec: ServiceSpec) -> str:
        """Base URL of a service."""
        return f"http://{self.host}:{spec.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start every service and wait until each answers its health check."""
        for spec in self.specs:
            if not port_is_free(self.host, spec.port):
                raise ServiceError(
                    f"port {spec.port} on {self.host} is in use: stop what uses it or choose "
                    f"another with --{spec.name}-port"
                )
        for spec in self.specs:
            command = [
                sys.executable, "-m", "uvicorn", "--factory", spec.factory,
                "--host", self.host, "--port", str(spec.port), "--log-level", self.log_level,
            ]  # fmt: skip
            self.processes[spec.name] = subprocess.Popen(command, env=os.environ.copy())
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            for spec in self.specs:
                self._wait_healthy(client, spec, deadline)

    def _wait_healthy(self, client: httpx.Client, spec: ServiceSpec, deadline: float) -> None:
        while True:
            process = self.processes[spec.name]
            if process.poll() is not None:
                raise ServiceError(f"{spec.name} exited with code {process.returncode} at start")
            try:
                if client.get(self.url(spec) + "/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ServiceError(f"{spec.name} did not answer /health in time")
            time.sleep(0.1)

    def wait(self) -> int:
        """Block until Ctrl-C / SIGTERM (returns 0) or until a service dies (returns 1)."""
        stop = False

        def _on_signal(_signum: int, _frame: FrameType | None) -> None:
            nonlocal stop
            stop = True

        # SIGINT too: a process started in the background may inherit SIGINT as ignored.
        previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not stop:
                for name, process in self.processes.items():
                    if process.poll() is not None:
                        print(f"{name} stopped unexpectedly (exit code {process.returncode})")
                        return 1
                time.sleep(0.3)
        except KeyboardInterrupt:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every service to stop, then kill the ones that do not."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
