"""docker-compose.yml and the Dockerfile hold together (no Docker daemon here: read, then replayed).

Each container's paths are mapped onto one folder per named volume, so the ONDE container's demo
seed can be run as the container would run it, and its result looked for where EduConnect's
container will read it.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from edusim.cli import app
from tests.test_demo_franceconnect import EXPECTED, _subs

ROOT = Path(__file__).resolve().parent.parent
DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def _services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's variables as they are with no ``.env`` (``${X:-default}`` → default)."""
    return {k: DEFAULTED.sub(r"\2", str(v)) for k, v in service["environment"].items()}


def _mounts(service: dict[str, Any]) -> dict[PurePosixPath, str]:
    """Mount point → named volume."""
    pairs = (entry.split(":")[:2] for entry in service["volumes"])
    return {PurePosixPath(target): volume for volume, target in pairs}


def _sqlite_file(url: str) -> PurePosixPath:
    assert url.startswith("sqlite:////"), url
    return PurePosixPath(url.removeprefix("sqlite:///"))


def _on_volume(service: dict[str, Any], path: PurePosixPath) -> tuple[str, PurePosixPath]:
    """(volume, path inside it) of a container path."""
    for mount, volume in _mounts(service).items():
        if path.is_relative_to(mount):
            return volume, path.relative_to(mount)
    raise AssertionError(f"{path} is on no volume: lost when the container is recreated")


def test_every_sqlite_file_is_on_a_volume_whose_mount_point_the_image_gives_the_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    owned = re.search(r"mkdir -p ([^\\&\n]+)[\\\s]*&& chown edusim ([^\n]+)", dockerfile)
    assert owned is not None, "the Dockerfile makes the mount points and gives them to edusim"
    made, chowned = owned[1].split(), owned[2].split()
    assert "USER edusim" in dockerfile
    for name, service in _services().items():
        if "volumes" not in service or name == "postgres":
            continue
        for mount in _mounts(service):
            assert str(mount) in made, (name, mount)
            assert str(mount) in chowned, (name, mount)
        for key, url in _environment(service).items():
            if key.endswith("_DATABASE_URL"):
                _on_volume(service, _sqlite_file(url))


def test_educonnect_starts_once_onde_has_seeded_its_identities() -> None:
    services = _services()
    assert services["educonnect"]["depends_on"]["onde"] == {"condition": "service_healthy"}
    ec_env, onde_env = _environment(services["educonnect"]), _environment(services["onde"])
    ec_file = _on_volume(services["educonnect"], _sqlite_file(ec_env["EDUCONNECT_DATABASE_URL"]))
    seeded = _on_volume(services["onde"], _sqlite_file(onde_env["EDUCONNECT_DATABASE_URL"]))
    assert seeded == ec_file  # the same file of the same volume


def test_the_onde_container_seeds_the_demo_and_its_identities_for_educonnect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ONDE container's seed, run as it runs there, on folders standing for the volumes."""
    services = _services()
    onde = services["onde"]

    def host(service: dict[str, Any], path: PurePosixPath) -> Path:
        volume, inside = _on_volume(service, path)
        (tmp_path / volume).mkdir(exist_ok=True)
        return tmp_path / volume / inside

    env = _environment(onde)
    for key in ("ONDE", "EDUCONNECT", "SYNC"):
        monkeypatch.delenv(f"{key}_DATABASE_URL", raising=False)
        monkeypatch.delenv(f"EDUSIM_{key}_URL", raising=False)
    for key in ("ONDE_DATABASE_URL", "EDUCONNECT_DATABASE_URL"):
        monkeypatch.setenv(key, f"sqlite:///{host(onde, _sqlite_file(env[key]))}")
    script = onde["command"][-1]
    seed = shlex.split(script.split("&&")[0])
    assert seed[:3] == ["edusim", "seed", "--demo"]
    data_dir = PurePosixPath(seed[seed.index("--data-dir") + 1])
    args = [*seed[1:-1], str(host(onde, data_dir))]
    monkeypatch.chdir(tmp_path)  # as the image's /app: nothing is written beside it
    before = set(tmp_path.iterdir())

    first = CliRunner().invoke(app, args)

    assert first.exit_code == 0, first.output
    assert "Added 5 FranceConnect test identities" in first.output
    ec_env = _environment(services["educonnect"])
    ec_db = host(services["educonnect"], _sqlite_file(ec_env["EDUCONNECT_DATABASE_URL"]))
    assert _subs(ec_db) == sorted(EXPECTED)
    assert {p.name for p in set(tmp_path.iterdir()) - before} <= {"onde-data", "educonnect-data"}
    again = CliRunner().invoke(app, args)  # a restarted container adds nothing
    assert again.exit_code == 0, again.output
    assert "FranceConnect" not in again.output
