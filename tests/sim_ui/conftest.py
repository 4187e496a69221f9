"""A UiSystem on the real filesystem, clock and providers, under tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.sim.clock import PhoneClock
from emulator.sim.contracts import Display, PhoneContext
from emulator.sim.providers import SqliteProviders
from emulator.sim.ui.system import UiSystem
from emulator.sim.vfs import LocalFS


def make_ctx(state_dir: Path) -> PhoneContext:
    vfs = LocalFS(state_dir / "fs")
    clock = PhoneClock(state_dir / "system.json")
    return PhoneContext(
        state_dir=state_dir,
        serial="sim-test",
        display=Display(),
        vfs=vfs,
        clock=clock,
        providers=SqliteProviders(vfs, clock),
        props={"ro.product.model": "Pixel 7", "ro.build.version.sdk": "34"},
    )


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[PhoneContext]:
    c = make_ctx(tmp_path)
    c.ui = UiSystem(c)
    yield c
    c.providers.close()  # type: ignore[attr-defined]


@pytest.fixture
def ui(ctx: PhoneContext) -> UiSystem:
    assert isinstance(ctx.ui, UiSystem)
    return ctx.ui
