"""Fixtures for compile-and-seed tests: one virtual phone and one real VM for the session.

The phone speaks the ADB transport through a private adb server on a free port
(never the default 5037); the VM is restored from the cached image's saved
state (built under ~/.cache/clawrig on first use). Tests share both devices and
keep their records apart by unique markers in the seeded text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.adb import AdbServer
from emulator.device import AdbAndroidDevice


@pytest.fixture(scope="session")
def adb_server() -> Iterator[AdbServer]:
    server = AdbServer.private()
    yield server
    server.kill()


@pytest.fixture(scope="session")
def phone(adb_server: AdbServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from emulator.sim.phone import spawn_phone

    proc = spawn_phone(tmp_path_factory.mktemp("phone"), size="720x1280", density=320)
    try:
        serial = adb_server.connect(proc.serial)
        yield AdbAndroidDevice(adb_server, serial, role="phone")
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def laptop(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from linux_vm.backends import QemuBackend
    from rig.config import RigConfig

    backend = QemuBackend(RigConfig().backend_config("linux"), progress=print)
    backend.prepare()  # builds the image if missing (cached), saves the booted state
    device = backend.acquire("laptop", Path(tmp_path_factory.mktemp("laptop")))
    try:
        yield device
    finally:
        backend.release(device)
