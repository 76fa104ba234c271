"""Pausing the cyclic garbage collector around bulk work (an import batch, an export page).

A batch of 50,000 responsables builds millions of container objects (parsed JSON, models, row
dicts, parameter tuples) that live until the batch ends. With the collector running, every young
collection scans those still alive and every middle-generation collection scans them again:
~14 % of EduConnect's import time and ~20 % of the sync's CPU in a full sync, measured with
``gc.callbacks`` (docs/benchmarks.md). Nearly all of it is freed by reference counting the moment
the batch ends; the few cycles a batch leaves are collected once the collector restarts.

Uses may nest and run on several threads at once: the collector restarts when the last one ends,
and only if it was running when the first began. Keep each use to one bounded piece of work (a
request, a batch), never a whole run, so that the collector gets its turn in between.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_restart = False


@contextmanager
def collection_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector paused (see the module's docstring)."""
    global _depth, _restart
    with _lock:
        if _depth == 0:
            _restart = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _restart:
                gc.enable()
