#!/usr/bin/env python3
"""The two commands of the Quick start, needing nothing but Python >= 3.11.

    python3 dev.py demo   # create .venv if needed, then start the simulator with the demo school
    python3 dev.py test   # create .venv if needed, then ruff, ruff format --check, mypy, pytest

The virtual environment is (re)installed whenever pyproject.toml changes. Extra arguments go to
`edusim up` (demo) or to pytest (test).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".edusim-installed"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _run(*command: str | Path) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], cwd=ROOT, check=True)


def ensure_venv() -> Path:
    """Create .venv and install the project with its dev tools, once per pyproject.toml."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs before the venv exists
        sys.exit(f"EduSim needs Python >= 3.11 (this is {sys.version.split()[0]})")
    python = BIN / "python"
    if not python.exists():
        _run(sys.executable, "-m", "venv", VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != digest:
        _run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        _run(python, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        STAMP.write_text(digest)
    return python


CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> None:
    """Debian's Chromium for the browser tests (Playwright drives it), installed if we can.

    Without root or apt-get, the browser tests are skipped with a message; under CI they fail.
    """
    if CHROMIUM.exists() or os.environ.get("EDUSIM_NO_BROWSER"):
        return
    apt = Path("/usr/bin/apt-get")
    if not apt.exists() or os.geteuid() != 0:
        print("! Chromium not found and cannot be installed here (needs root and apt-get):")
        print("  the browser tests will be skipped. Install the 'chromium' package to run them.")
        return
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    print("+ apt-get install chromium (for the browser tests)", flush=True)
    install = [str(apt), "install", "-y", "-q", "chromium"]
    if subprocess.run(install, stdout=subprocess.DEVNULL, env=env).returncode != 0:
        subprocess.run([str(apt), "update", "-q"], stdout=subprocess.DEVNULL, env=env)
        subprocess.run(install, stdout=subprocess.DEVNULL, env=env)


def main(argv: list[str]) -> int:
    """Dispatch ``demo`` or ``test``."""
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    python = ensure_venv()
    try:
        if command == "demo":
            _run(BIN / "edusim", "up", *rest)
            return 0
        _run(python, "-m", "ruff", "check", ".")
        _run(python, "-m", "ruff", "format", "--check", ".")
        _run(python, "-m", "mypy")
        ensure_chromium()
        _run(python, "-m", "pytest", *rest)
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
