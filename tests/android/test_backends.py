"""The sim and attach backends, and the world's backend registry, against real processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.adb import AdbServer, server_from_env
from emulator.backends import AttachBackend, SimBackend
from emulator.device import AdbAndroidDevice
from emulator.errors import AndroidError
from emulator.seeding import SeedPlan, Sms
from rig.config import parse_config
from rig.world import Backend, make_backend

pytestmark = [pytest.mark.integration]

SMS_Q = {"kind": "provider", "uri": "content://sms", "projection": ["body"]}


def test_registry_builds_each_backend(tmp_path: Path) -> None:
    cfg = parse_config({"android": {"attach": {"serials": ["emulator-5554"]}}})
    for name in ("sim", "attach"):
        backend = make_backend("android", name, cfg)
        assert isinstance(backend, Backend) and backend.name == name


def test_sim_backend_acquire_release(adb_server: AdbServer, tmp_path: Path) -> None:
    cfg = parse_config({"android": {"sim": {"size": "480x800", "density": 240}}})
    backend = SimBackend(cfg.backend_config("android"), server=adb_server)
    phone = backend.acquire("phone", tmp_path / "w")
    try:
        assert phone.window_size() == (480, 800)
        phone.seed(SeedPlan(sms=[Sms("+1555", "seeded", 1_700_000_000_000)]))
        assert phone.read_state(SMS_Q) == [{"body": "seeded"}]
        # A second phone of the same backend is a fresh one: nothing is carried over.
        other = backend.acquire("tablet", tmp_path / "w2")
        try:
            assert other.serial != phone.serial and other.read_state(SMS_Q) == []
        finally:
            backend.release(other)
    finally:
        backend.release(phone)
    assert adb_server.state(phone.serial) is None
    backend.release(phone)  # releasing twice must not raise


def test_attach_backend_lends_serials(
    adb_server: AdbServer, phone: AdbAndroidDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADB_SERVER_SOCKET", f"tcp:127.0.0.1:{adb_server.port}")
    assert server_from_env() == ("127.0.0.1", adb_server.port)
    cfg = parse_config({"android": {"attach": {"serials": [phone.serial]}}})
    backend = AttachBackend(
        cfg.backend_config("android")
    )  # finds the (remote) adb server through ADB_SERVER_SOCKET
    dev = backend.acquire("phone", Path("."))
    assert dev.serial == phone.serial and dev.shell("echo ok").stdout == "ok\n"
    with pytest.raises(AndroidError, match="all attached devices are in use"):
        backend.acquire("tablet", Path("."))
    backend.release(dev)
    backend.release(backend.acquire("phone", Path(".")))
    monkeypatch.setenv("ADB_SERVER_SOCKET", "localfilesystem:/x")
    with pytest.raises(AndroidError, match="only tcp:HOST:PORT"):
        server_from_env()


def test_attach_unknown_serial_is_clear(adb_server: AdbServer) -> None:
    cfg = parse_config({"android": {"attach": {"serials": ["NOSUCHDEVICE"]}}})
    backend = AttachBackend(cfg.backend_config("android"), server=adb_server, online_timeout=2)
    with pytest.raises(AndroidError, match="'NOSUCHDEVICE' is not online"):
        backend.acquire("phone", Path("."))
