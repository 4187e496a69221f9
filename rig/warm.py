"""The warm world a suite worker keeps between two trials of one task (docs/checkpoints.md).

A worker process holds at most one: the phones of the last trial whose world came from a
checkpoint, still running, with the checkpoint's key. The next trial that needs the same
key takes them and loads the checkpoint's snapshot into each phone through its console
(``avd snapshot load``) instead of starting new ones, and its services' host serves the
checkpoint's services in place; any other key closes them first, so
a worker never holds two worlds. What is left at the process's end is closed then; what
a SIGKILL left (the phones' scratch folder) the next run's reaper removes.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hostproc.labels import OWNER_FILE, owner_alive, write_owner

SCRATCH_PREFIX = "clawrig-warm-"
_lock = threading.Lock()
_held: Warm | None = None
_finalizer_set = False


@dataclass
class Warm:
    """A world kept running: its checkpoint ``key``, the :class:`rig.world.World` (its
    phones, and its services' host unless it runs chat; laptops are stopped at the trial's
    end) and the scratch folder its phones live in, outside any trial's record."""

    key: str
    world: Any
    scratch: Path

    def close(self) -> str | None:
        """Stop the phones and delete their folder; the error text, if one would not stop."""
        error = None
        try:
            self.world.close()
        except Exception as exc:  # a phone already gone: nothing left to stop
            error = f"{type(exc).__name__}: {exc}"
        shutil.rmtree(self.scratch, ignore_errors=True)
        return error


def keep(warm: Warm) -> None:
    """Hold ``warm`` for the next trial; one held before is closed (one world per worker)."""
    global _held
    _ensure_finalizer()
    with _lock:
        old, _held = _held, warm
    if old is not None and old is not warm:
        old.close()


def take(key: str) -> Warm | None:
    """The held world when it is ``key``'s (it is no longer held); any other is closed."""
    global _held
    with _lock:
        held, _held = _held, None
    if held is None:
        return None
    if held.key == key:
        return held
    held.close()
    return None


def held_key() -> str | None:
    """The key of the world held, if any (for tests and the suite's scheduling)."""
    with _lock:
        return _held.key if _held is not None else None


def drop() -> None:
    """Close the held world, if any."""
    global _held
    with _lock:
        held, _held = _held, None
    if held is not None:
        held.close()


def _ensure_finalizer() -> None:
    """Close the held world when the process ends: a pool worker ends through
    multiprocessing's finalizers (it skips ``atexit``), a plain process through ``atexit``."""
    global _finalizer_set
    if _finalizer_set:
        return
    _finalizer_set = True
    from multiprocessing import util

    util.Finalize(None, drop, exitpriority=10)
    atexit.register(drop)


def new_scratch() -> Path:
    """A folder for phones a worker may keep, marked as this process's: after a SIGKILL of
    the whole suite no finalizer runs, and :func:`remove_stale_scratch` finds it."""
    path = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    write_owner(path)
    return path


def remove_stale_scratch() -> list[Path]:
    """Remove kept phones' folders whose owner process is gone (its phones are stopped by
    the reaper first); a folder still being made (no owner file yet) is left alone."""
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        owner = path / OWNER_FILE
        if owner.is_file() and not owner_alive(owner):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
