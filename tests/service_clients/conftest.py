"""A world's real services (Dovecot, aiosmtpd, Radicale) and a virtual phone given their accounts.

The phone is a real virtual-phone process behind the real adb server; its
accounts arrive the way the rig gives them (a file pushed over adb and the sync
broadcast), through :func:`rig.service_clients.connect_devices`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.adb import AdbServer
from emulator.device import AdbAndroidDevice
from rig.service_clients import client_access
from rig.services.stack import ServiceStack
from rig.world import World
from tests.services.conftest import NOW, accounts, out_dir  # noqa: F401 - fixtures

PERSONA = "Maya Fischer"


@pytest.fixture(scope="module")
def adb_server() -> Iterator[AdbServer]:
    server = AdbServer.private()
    yield server
    server.kill()


@pytest.fixture
def stack(out_dir: Path) -> Iterator[ServiceStack]:  # noqa: F811
    with ServiceStack(["mail", "calendar", "contacts"], out_dir, NOW, accounts()) as s:
        yield s


@pytest.fixture
def phone(adb_server: AdbServer, tmp_path: Path) -> Iterator[AdbAndroidDevice]:
    from emulator.sim.phone import spawn_phone

    proc = spawn_phone(tmp_path / "phone", size="720x1280", density=320)
    try:
        serial = adb_server.connect(proc.serial)
        device = AdbAndroidDevice(adb_server, serial, role="phone")
        device.set_clock(NOW, "Europe/Berlin")
        yield device
    finally:
        proc.stop()


@pytest.fixture
def world(stack: ServiceStack, phone: AdbAndroidDevice) -> World:
    """The phone and the services in one world, the phone's accounts not yet given."""
    w = World(now=NOW, timezone="Europe/Berlin")
    w.add(phone)
    w.services = dict(stack.services)
    return w


@pytest.fixture
def access(stack: ServiceStack) -> dict:
    return client_access(stack.services, PERSONA)
