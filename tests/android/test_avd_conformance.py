"""The conformance battery through the AVD backend on the stand-in SDK: the real
launcher, ports, snapshot and root path, with the virtual phone behind the stand-in
``emulator``. Not a real AVD (none runs here): it proves the battery drives the
``avd`` backend end to end, and that the emulator's own log is handed to the record."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.adb import AdbServer
from emulator.avd import Sdk
from rig.conformance import run_battery
from tests.android.test_avd import _backend

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_battery_passes_through_the_avd_backend(
    sdk: Sdk, adb_server: AdbServer, tmp_path: Path
) -> None:
    backend = _backend(sdk, adb_server, tmp_path, snapshot="clean")
    phone = backend.acquire("phone", tmp_path / "w")
    try:
        # The stand-in, like an AVD, runs no uiautomator2 agent at boot: the backend started
        # it through uiautomator2's setup (without it, Unicode typing would fail).
        assert phone.text_input == "uiautomator2"
        checks = run_battery(phone)
        logs = phone.logs()
    finally:
        backend.release(phone)
    failed = [f"{c.name}: {c.evidence}" for c in checks if not c.ok]
    assert not failed, failed
    assert b"-avd clawrig_test" in logs["emulator-stderr.txt"]
    assert b"ActivityTaskManager" in logs["logcat.txt"]
