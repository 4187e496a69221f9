"""Set-up the phone benchmarks share: the repository on ``sys.path``, median timings, and an
in-process virtual phone (real filesystem, clock and SQLite providers) under a directory.

Imported first by a ``benchmarks/bench_*.py`` script (its own folder is on ``sys.path``), so the
scripts run from a checkout without installing it.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, installed or not

from emulator.sim.clock import PhoneClock
from emulator.sim.contracts import Display, PhoneContext
from emulator.sim.providers import SqliteProviders
from emulator.sim.ui.system import UiSystem
from emulator.sim.vfs import LocalFS


def median_times(fn: Callable[[], object], rounds: int, warmup: int = 3) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of ``fn`` (CPU of this process only, which other
    load on the machine cannot inflate). The clocks are read outside the wall-clock window."""
    for _ in range(warmup):
        fn()
    walls, cpus = [], []
    for _ in range(rounds):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        cpus.append((time.process_time() - c0) * 1000)
        walls.append((t1 - t0) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def median_ms(fn: Callable[[], object], rounds: int, warmup: int = 3) -> float:
    """Median wall-clock milliseconds of ``fn`` after ``warmup`` untimed calls."""
    return median_times(fn, rounds, warmup)[0]


def sim_context(state: Path, *, persist_ui: bool = True) -> PhoneContext:
    """A phone context with the real UI attached, everything stored under ``state``."""
    vfs = LocalFS(state / "fs")
    clock = PhoneClock(state / "system.json")
    ctx = PhoneContext(
        state_dir=state,
        serial="bench",
        display=Display(),
        vfs=vfs,
        clock=clock,
        providers=SqliteProviders(vfs, clock),
    )
    ctx.ui = UiSystem(ctx, persist=persist_ui)
    return ctx
