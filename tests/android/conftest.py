"""Fixtures for the Android layer: a private adb server, virtual phones, the stand-in SDK.

Everything is real: the Debian ``adb`` server on a port of our own, the virtual
phone speaking the ADB transport, and (for the AVD backend) the SDK layout in
``tests/android/sdk`` whose ``emulator`` starts virtual phones on the ports the
launcher asks for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.adb import AdbServer
from emulator.avd import Sdk, create_avd, find_sdk
from emulator.device import AdbAndroidDevice

SDK_ROOT = Path(__file__).parent / "sdk"
IMAGE = "system-images;android-34;default;x86_64"
# Console ports the AVD tests lease from (the allocator skips any that are taken).
TEST_PORTS = (15554, 15700)


@pytest.fixture(scope="session")
def adb_server() -> Iterator[AdbServer]:
    server = AdbServer.private()
    yield server
    server.kill()


@pytest.fixture(scope="session")
def phone_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from emulator.sim.phone import spawn_phone

    proc = spawn_phone(tmp_path_factory.mktemp("phone"), size="720x1280", density=320)
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def phone(adb_server: AdbServer, phone_process) -> AdbAndroidDevice:
    serial = adb_server.connect(phone_process.serial)
    return AdbAndroidDevice(adb_server, serial, role="phone")


@pytest.fixture(scope="session")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Sdk:
    """The stand-in SDK with a private AVD home holding one AVD, ``clawrig_test``."""
    home = tmp_path_factory.mktemp("avd-home")
    found = dataclasses.replace(find_sdk(SDK_ROOT), avd_home=home)
    create_avd(found, "clawrig_test", IMAGE, device="pixel_7")
    return found


class SimShell:
    """The virtual phone's shell in this process: ``sh("cmd")`` -> (status, stdout, stderr)."""

    def __init__(self, root: Path) -> None:
        from emulator.sim.clock import PhoneClock
        from emulator.sim.contracts import Display, PhoneContext
        from emulator.sim.providers import SqliteProviders
        from emulator.sim.shell import Shell
        from emulator.sim.vfs import LocalFS

        self.vfs = LocalFS(root / "fs")
        self.clock = PhoneClock(root / "system.json")
        self.providers = SqliteProviders(self.vfs, self.clock)
        ctx = PhoneContext(
            state_dir=root,
            serial="sim-tar",
            display=Display(),
            vfs=self.vfs,
            clock=self.clock,
            providers=self.providers,
            props={},
        )
        self.shell = Shell(ctx)

    def __call__(self, command: str, stdin: bytes = b"") -> tuple[int, str, str]:
        status, out, err = self.shell.capture(command, stdin)
        return status, out.decode("utf-8", "surrogateescape"), err.decode("utf-8", "replace")

    def out(self, command: str) -> str:
        status, out, err = self(command)
        assert status == 0, (command, status, err)
        return out


@pytest.fixture
def sim_shell(tmp_path: Path) -> Iterator[SimShell]:
    sh = SimShell(tmp_path)
    yield sh
    sh.providers.close()
