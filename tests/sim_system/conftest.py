"""Fixtures for the virtual phone's system parts: a filesystem, clock and providers on tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.sim.clock import PhoneClock
from emulator.sim.contracts import Display, PhoneContext
from emulator.sim.providers import SqliteProviders
from emulator.sim.shell import Shell
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


@pytest.fixture
def ctx(tmp_path: Path, vfs: LocalFS, clock: PhoneClock, providers: SqliteProviders):
    """A phone context without a UI (``ctx.ui is None``)."""
    return PhoneContext(
        state_dir=tmp_path,
        serial="sim-test",
        display=Display(),
        vfs=vfs,
        clock=clock,
        providers=providers,
        props={"ro.product.model": "Pixel 7"},
    )


@pytest.fixture
def ui_ctx(ctx: PhoneContext) -> PhoneContext:
    """The same context with the real UI (apps, rendering) attached."""
    from emulator.sim.ui.system import UiSystem

    ctx.ui = UiSystem(ctx)
    return ctx


class Run:
    """``run("cmd")`` -> (status, stdout text, stderr text) through ``Shell.run``."""

    def __init__(self, ctx: PhoneContext) -> None:
        self.shell = Shell(ctx)
        self.ctx = ctx

    def __call__(self, command: str, stdin: bytes = b"") -> tuple[int, str, str]:
        status, out, err = self.shell.capture(command, stdin)
        return (
            status,
            out.decode("utf-8", "surrogateescape"),
            err.decode("utf-8", "surrogateescape"),
        )

    def out(self, command: str) -> str:
        status, out, err = self(command)
        assert status == 0, (command, status, err)
        return out


@pytest.fixture
def run(ctx: PhoneContext) -> Run:
    return Run(ctx)


@pytest.fixture
def ui_run(ui_ctx: PhoneContext) -> Run:
    return Run(ui_ctx)
