"""Options the ``edusim`` commands share, checked before any command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def _usable_directory(path: Path) -> Path:
    """``path``, made if missing; a clear usage error if it cannot be a directory (no traceback)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "not a directory" if path.exists() else (exc.strerror or str(exc))
        raise typer.BadParameter(f"cannot use {str(path)!r}: {reason}") from None
    return path


DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        help="Where the SQLite files live (ignored for other URLs); made if missing.",
        callback=_usable_directory,
    ),
]
