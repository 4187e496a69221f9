"""Fixtures for the virtual phone's system parts: a filesystem, clock and providers on tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.sim.clock import PhoneClock
from emulator.sim.providers import SqliteProviders
from emulator.sim.vfs import LocalFS


@pytest.fixture
def vfs(tmp_path: Path) -> LocalFS:
    return LocalFS(tmp_path / "fs")


@pytest.fixture
def clock(tmp_path: Path) -> PhoneClock:
    return PhoneClock(tmp_path / "system.json")


@pytest.fixture
def providers(vfs: LocalFS, clock: PhoneClock):
    p = SqliteProviders(vfs, clock)
    yield p
    p.close()
