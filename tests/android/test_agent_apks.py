"""AVDs without hand work: uiautomator2's agent started through uiautomator2's own setup,
the error that says what to install when it cannot start, and ``[android] apks`` installed
at allocate (skipped at the same version) on a real APK: the one uiautomator2 ships."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import uiautomator2

from emulator.adb import AdbServer
from emulator.agent import start_agent, stop_agent
from emulator.apks import device_version, install_apks, read_apk
from emulator.device import AdbAndroidDevice
from emulator.errors import DeviceUnfit

pytestmark = [pytest.mark.integration]

# A real APK from a PyPI package (uiautomator2's own app), package com.github.uiautomator.
APK = Path(uiautomator2.__file__).parent / "assets" / "app-uiautomator.apk"


@pytest.fixture
def fresh_phone(adb_server: AdbServer, tmp_path: Path, request) -> Iterator[AdbAndroidDevice]:
    """A virtual phone that runs no uiautomator2 agent until a client starts it (as an
    AVD), or (``indirect`` param ``none``) where it cannot start."""
    from emulator.sim.phone import spawn_phone

    proc = spawn_phone(tmp_path / "p", u2_agent=getattr(request, "param", "on-request"))
    device = AdbAndroidDevice(adb_server, adb_server.connect(proc.serial))
    try:
        yield device
    finally:
        stop_agent(device)
        adb_server.disconnect(device.serial)
        proc.stop()


def with_version(src: Path, dest: Path, new_code: int) -> Path:
    """``src`` with another versionCode in its binary manifest (the one int of that value)."""
    old_code = read_apk(src).version_code
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "AndroidManifest.xml":
                assert data.count(struct.pack("<I", old_code)) == 1
                data = data.replace(struct.pack("<I", old_code), struct.pack("<I", new_code))
            zout.writestr(item, data)
    dest.write_bytes(out.getvalue())
    return dest


def test_agent_is_started_by_uiautomator2s_setup(fresh_phone: AdbAndroidDevice) -> None:
    assert not fresh_phone.u2_available()
    assert start_agent(fresh_phone) == "uiautomator2"
    # uiautomator2 pushed its own jar and launched it; the rig's calls now go to the agent.
    listing = fresh_phone.shell("md5sum /data/local/tmp/u2.jar").stdout
    jar = (Path(uiautomator2.__file__).parent / "assets" / "u2.jar").read_bytes()
    assert hashlib.md5(jar).hexdigest() in listing
    assert fresh_phone.u2_available()
    assert fresh_phone._u2("deviceInfo")["displayWidth"] > 0


@pytest.mark.parametrize("fresh_phone", ["none"], indirect=True)
def test_no_agent_and_no_keyboard_says_what_to_install(fresh_phone: AdbAndroidDevice) -> None:
    with pytest.raises(DeviceUnfit) as err:
        start_agent(fresh_phone)
    text = str(err.value)
    assert "uiautomator2 setup failed" in text
    assert "pip install 'uiautomator2" in text and "com.android.adbkeyboard" in text


def test_apks_install_once_per_version(fresh_phone: AdbAndroidDevice, tmp_path: Path) -> None:
    info = read_apk(APK)
    assert info.package == "com.github.uiautomator" and info.version_code > 0
    assert device_version(fresh_phone, info.package) is None

    first = install_apks(fresh_phone, [APK])
    assert [(r.action, r.had) for r in first] == [("installed", None)]
    assert device_version(fresh_phone, info.package) == info.version_code
    assert fresh_phone.has_package(info.package)

    fresh_phone.shell("logcat -c")
    again = install_apks(fresh_phone, [APK])
    assert [(r.action, r.had) for r in again] == [("skipped", info.version_code)]
    assert "PackageManager" not in fresh_phone.shell("logcat -d").stdout  # no install ran

    newer = with_version(APK, tmp_path / "newer.apk", info.version_code + 1)
    upgraded = install_apks(fresh_phone, [newer])
    assert [(r.action, r.had) for r in upgraded] == [("installed", info.version_code)]
    assert device_version(fresh_phone, info.package) == info.version_code + 1


def test_a_bad_apk_is_named(fresh_phone: AdbAndroidDevice, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.apk"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(DeviceUnfit, match=r"notes\.apk is not a readable APK"):
        install_apks(fresh_phone, [bogus])
    with pytest.raises(DeviceUnfit, match=r"missing\.apk does not exist"):
        install_apks(fresh_phone, [tmp_path / "missing.apk"])
    # The phone's own installer refuses a downgrade, as a phone does.
    install_apks(fresh_phone, [with_version(APK, tmp_path / "v9.apk", 9_000_000)])
    with pytest.raises(DeviceUnfit, match="INSTALL_FAILED_VERSION_DOWNGRADE"):
        install_apks(fresh_phone, [APK])


def test_attach_backend_installs_apks_and_starts_the_agent_at_allocate(
    adb_server: AdbServer, tmp_path: Path
) -> None:
    from emulator.backends import AttachBackend
    from emulator.sim.phone import spawn_phone
    from rig.config import parse_config

    proc = spawn_phone(tmp_path / "p", u2_agent="on-request")
    try:
        config = parse_config(
            {
                "android": {"attach": {"serials": [proc.serial]}, "apks": [str(APK)]},
                "paths": {"cache": str(tmp_path)},
            }
        ).backend_config("android")
        backend = AttachBackend(config, server=adb_server)
        for expected in ("installed", "skipped"):  # a lent phone keeps it: the next allocate skips
            phone = backend.acquire("phone", tmp_path / "w")
            try:
                assert [r.action for r in phone.apks] == [expected]
                assert phone.text_input == "uiautomator2"
                phone.launch("com.android.contacts")
                assert phone.u2_available()
            finally:
                backend.release(phone)
    finally:
        adb_server.disconnect(proc.serial)
        proc.stop()
