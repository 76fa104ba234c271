"""The `edusim` command line: up (real processes, Ctrl-C), seed, reset, token."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from edusim.cli import app
from edusim.services import free_port
from edusim.snapshot import reflect
from edusim_common.db import make_engine
from fake_onde.auth import director_token
from fake_onde.config import DEV_SECRET_KEY

runner = CliRunner()


def _clean_env() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ONDE_", "EDUCONNECT_", "SYNC_"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.mark.slow
def test_up_seeds_the_demo_school_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    ports = [free_port() for _ in range(3)]
    command = [
        sys.executable, "-m", "edusim.cli", "up", "--data-dir", str(tmp_path / "data"),
        "--onde-port", str(ports[0]), "--educonnect-port", str(ports[1]),
        "--sync-port", str(ports[2]),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        healthy: set[int] = set()
        while len(healthy) < 3 and time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            for port in ports:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        healthy.add(port)
                except httpx.TransportError:
                    pass
            time.sleep(0.2)
        assert len(healthy) == 3
        token = director_token(DEV_SECRET_KEY, "0021593W")
        pupils = httpx.get(
            f"http://127.0.0.1:{ports[0]}/api/v1/pupils",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert pupils.status_code == 200
        assert len(pupils.json()["items"]) > 10
        sync = f"http://127.0.0.1:{ports[2]}"
        moved = httpx.post(  # the sync reaches the fakes on the ports chosen
            sync + "/api/v1/clock/next-day",
            headers={"Authorization": "Bearer sync-service-dev-token"},
            timeout=60,
        )
        assert moved.status_code == 200, moved.text
        assert [run["status"] for run in moved.json()["runs"]] == ["succeeded"]
        home = httpx.get(sync + "/", headers={"accept": "text/html"}).text
        assert f"http://127.0.0.1:{ports[0]}/" in home  # the pages link to each other
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0].decode()
    assert process.returncode == 0, output
    assert "Stopped." in output
    assert str(ports[0]) in output
    # not the default ports: what the other commands need to find this simulator
    assert f"EDUSIM_SYNC_URL=http://127.0.0.1:{ports[2]}" in output.replace("\n", "")
    for port in ports:
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)


def test_scenario_run_finds_the_simulator_where_edusim_up_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`edusim up` on other ports prints the EDUSIM_*_URL to export; `scenario run` reads them."""
    port = free_port()
    monkeypatch.setenv("EDUSIM_ONDE_URL", f"http://127.0.0.1:{port}")
    result = runner.invoke(app, ["scenario", "run", "scenarios/04-j-plus-1.yaml"])
    assert result.exit_code != 0
    assert f"ONDE does not answer at http://127.0.0.1:{port}" in _unwrapped(result.output)


def test_up_refuses_a_port_in_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("ONDE_DATABASE_URL", "EDUCONNECT_DATABASE_URL", "SYNC_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(
            app, ["up", "--data-dir", str(tmp_path), "--onde-port", str(port), "--no-demo"]
        )
    assert result.exit_code == 1
    assert f"port {port}" in result.output
    assert "--onde-port" in result.output


def _unwrapped(output: str) -> str:
    """A usage error's text without the box rich draws around it, nor its line breaks."""
    return " ".join(output.replace("│", " ").split())


@pytest.mark.parametrize("option", ["--onde-port", "--educonnect-port", "--sync-port"])
@pytest.mark.parametrize("port", ["0", "65536", "70000"])
def test_up_refuses_a_port_out_of_range(tmp_path: Path, option: str, port: str) -> None:
    result = runner.invoke(app, ["up", "--data-dir", str(tmp_path), option, port, "--no-demo"])
    assert result.exit_code == 2  # a usage error, before anything starts
    assert option in _unwrapped(result.output)
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command",
    [["seed", "--demo"], ["reset", "--yes"], ["up", "--no-demo"], ["snapshot", "save", "s1"]],
)
def test_a_data_dir_that_cannot_be_one_is_a_usage_error(tmp_path: Path, command: list[str]) -> None:
    """A file where the directory should be, or a path under a file: said, no traceback."""
    afile = tmp_path / "data.txt"
    afile.write_text("not a directory", encoding="utf-8")
    for where, reason in ((afile, "not a directory"), (afile / "data", "Not a directory")):
        result = runner.invoke(app, [*command, "--data-dir", str(where)])
        assert result.exit_code == 2, result.output
        assert "--data-dir" in _unwrapped(result.output)
        assert reason in _unwrapped(result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert afile.read_text(encoding="utf-8") == "not a directory"


def test_seed_then_reset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("ONDE_DATABASE_URL", "EDUCONNECT_DATABASE_URL", "SYNC_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    result = runner.invoke(
        app,
        ["seed", "--schools", "2", "--pupils", "50", "--seed", "7", "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "50 pupils" in result.output
    assert (tmp_path / "onde.db").exists()
    demo = runner.invoke(app, ["seed", "--demo", "--data-dir", str(tmp_path)])
    assert demo.exit_code == 0, demo.output
    again = runner.invoke(app, ["seed", "--demo", "--data-dir", str(tmp_path)])
    assert "already there" in again.output
    reset = runner.invoke(app, ["reset", "--yes", "--data-dir", str(tmp_path)])
    assert reset.exit_code == 0, reset.output
    assert "onde: erased" in reset.output
    demo_after_reset = runner.invoke(app, ["seed", "--demo", "--data-dir", str(tmp_path)])
    assert "pupils added" in demo_after_reset.output


@pytest.mark.parametrize("demo", [[], ["--demo"]])
def test_reset_refuses_while_the_simulator_runs_on_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo: list[str]
) -> None:
    """Erasing the tables under running services would leave them answering 500s: refused, and
    nothing erased (`--demo` rewinds a running simulator through --sync, here not answering)."""
    sync = _offline(monkeypatch)
    assert runner.invoke(app, ["seed", "--demo", "--data-dir", str(tmp_path)]).exit_code == 0
    with (tmp_path / "sync.db.scheduler.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as the sync's scheduler does
        refused = runner.invoke(app, ["reset", "--yes", *demo, "--data-dir", str(tmp_path), *sync])
    assert refused.exit_code == 1, refused.output
    assert "stop it first" in _unwrapped(refused.output)
    assert "erased" not in refused.output.replace("Nothing was erased", "")
    with sqlite3.connect(tmp_path / "onde.db") as connection:
        assert connection.execute("SELECT count(*) FROM pupil").fetchone()[0] > 0


def test_token_prints_the_director_token_and_refuses_a_bad_uai() -> None:
    result = runner.invoke(app, ["token", "0021593w"])
    assert result.exit_code == 0
    assert result.output.strip() == director_token(DEV_SECRET_KEY, "0021593W")
    bad = runner.invoke(app, ["token", "0021593X"])
    assert bad.exit_code == 2
    assert "key letter" in bad.output


# -- snapshots and reset --demo, on the databases directly (no service running) -------------------


def _offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Work on SQLite files under the test's data dir; a --sync where nothing answers."""
    for key in ("ONDE_DATABASE_URL", "EDUCONNECT_DATABASE_URL", "SYNC_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("EDUSIM_SNAPSHOT_DIR", raising=False)
    return ["--sync", f"http://127.0.0.1:{free_port()}"]


def _rows(url: Callable[[str], str]) -> dict[str, dict[str, list[tuple[object, ...]]]]:
    """Every row of the three databases (tables with rows only)."""
    out = {}
    for name in ("onde", "educonnect", "sync"):
        engine = make_engine(url(name))
        with engine.connect() as conn:
            metadata = reflect(conn)
            tables = {
                t.name: sorted((tuple(r) for r in conn.execute(t.select())), key=repr)
                for t in metadata.sorted_tables
            }
            out[name] = {table: rows for table, rows in tables.items() if rows}
        engine.dispose()
    return out


def test_snapshot_save_list_restore_on_the_databases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_urls: Callable[[str], str]
) -> None:
    sync = _offline(monkeypatch)
    for name in ("onde", "educonnect", "sync"):  # SQLite files, or PostgreSQL schemas
        monkeypatch.setenv(f"{name.upper()}_DATABASE_URL", db_urls(name))
    where = ["--data-dir", str(tmp_path), *sync]
    assert runner.invoke(app, ["seed", "--demo", "--data-dir", str(tmp_path)]).exit_code == 0
    saved = runner.invoke(app, ["snapshot", "save", "debut", *where])
    assert saved.exit_code == 0, saved.output
    assert "2026-09-01 08:00 (Paris)" in saved.output  # the clock the services would start from
    assert (tmp_path / "snapshots" / "debut.snapshot.jsonl.gz").is_file()
    before = _rows(db_urls)
    more = ["seed", "--schools", "1", "--pupils", "20", "--data-dir", str(tmp_path)]
    assert runner.invoke(app, more).exit_code == 0
    after_seed = _rows(db_urls)
    assert after_seed != before
    again = runner.invoke(app, ["snapshot", "save", "debut", *where])
    assert again.exit_code == 1
    assert "--overwrite" in again.output
    restored = runner.invoke(app, ["snapshot", "restore", "debut", *where])
    assert restored.exit_code == 0, restored.output
    assert _rows(db_urls) == before
    # The same seed again gives the same rows: ids continue as they did the first time.
    assert runner.invoke(app, more).exit_code == 0
    assert _rows(db_urls)["onde"]["pupil"] == after_seed["onde"]["pupil"]
    listed = runner.invoke(app, ["snapshot", "list", *where])
    assert "debut" in listed.output
    missing = runner.invoke(app, ["snapshot", "restore", "absent", *where])
    assert missing.exit_code == 1
    assert "no snapshot absent" in missing.output


def test_snapshot_refuses_a_sync_service_that_does_not_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync = _offline(monkeypatch)
    lock = tmp_path / "sync.db.scheduler.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as the sync's scheduler does
        refused = runner.invoke(app, ["snapshot", "save", "s", "--data-dir", str(tmp_path), *sync])
    assert refused.exit_code == 1
    assert "--sync" in refused.output
    assert not (tmp_path / "snapshots" / "s.snapshot.jsonl.gz").exists()


def test_reset_demo_goes_back_to_the_demo_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def files(name: str) -> str:
        return f"sqlite:///{tmp_path / name}.db"

    sync = _offline(monkeypatch)
    assert runner.invoke(app, ["seed", "--demo", "--data-dir", str(tmp_path)]).exit_code == 0
    demo = _rows(files)["onde"]
    more = ["seed", "--schools", "1", "--pupils", "20", "--data-dir", str(tmp_path)]
    assert runner.invoke(app, more).exit_code == 0
    reset = runner.invoke(app, ["reset", "--demo", "--yes", "--data-dir", str(tmp_path), *sync])
    assert reset.exit_code == 0, reset.output
    after = _rows(files)
    assert after["onde"]["pupil"] == demo["pupil"]
    assert after["onde"]["sim_clock"] == demo["sim_clock"]
    # made afresh at the next start, but for the demo parents' FranceConnect test identities
    assert list(after["educonnect"]) == ["franceconnect_identity"]
    assert all(
        str(row[0]).startswith("demo-fc-") for row in after["educonnect"]["franceconnect_identity"]
    )
    assert after["sync"] == {}
