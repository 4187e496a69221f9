"""The shell and providers through the real adb server and unchanged adbutils."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import adbutils
import pytest
from hypothesis import HealthCheck, given, settings

from emulator.sim.phone import Phone
from hostproc.ports import free_port
from tests.sim_system.content_text import bind_escape, parse_single_body, text_strategy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADB29 = shutil.which("adb") or "/usr/bin/adb"
ADB36 = str(Path(adbutils.__file__).parent / "binaries" / "adb")


class PrivateAdb:
    """An adb server of our own on a free port; only this one is ever killed."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self("start-server", check=True)

    def __call__(self, *args: str, check: bool = False, timeout: float = 60):
        return subprocess.run(
            [self.binary, "-P", str(self.port), *args],
            capture_output=True,
            timeout=timeout,
            check=check,
            input=b"",
        )

    def connect(self, serial: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self("connect", serial)
            if self("-s", serial, "get-state").stdout.decode().strip() == "device":
                return
            time.sleep(0.2)
        raise AssertionError(f"{serial} never came online on the private adb server")

    def stop(self) -> None:
        self("kill-server", timeout=20)


@pytest.fixture(scope="module")
def phone(tmp_path_factory) -> Iterator[Phone]:
    state = tmp_path_factory.mktemp("sim-system-phone")
    token = state / "console_token"
    token.write_text("t\n")
    with Phone(state / "state", console_token_path=token, name="sim_system") as p:
        yield p


@pytest.fixture(scope="module", params=["adb29", "adb36"])
def adb(request, phone) -> Iterator[PrivateAdb]:
    host = PrivateAdb(ADB29 if request.param == "adb29" else ADB36)
    try:
        host.connect(phone.serial)
        yield host
    finally:
        host.stop()


@pytest.fixture(scope="module")
def device(adb, phone) -> adbutils.AdbDevice:
    return adbutils.AdbClient(host="127.0.0.1", port=adb.port).device(phone.serial)


def test_shell_order_and_status_through_adbutils(device) -> None:
    assert device.shell("echo a; echo b >&2; echo c") == "a\nb\nc"
    result = device.shell2("ls /nope; echo after")
    assert result.returncode == 0 and result.output.endswith("after\n")
    result = device.shell2("nosuchcmd")
    assert result.returncode == 127
    assert "/system/bin/sh: nosuchcmd: inaccessible or not found" in result.output


def test_adb_cli_shell_exit_codes_and_quoting(adb, phone) -> None:
    r = adb("-s", phone.serial, "shell", "nosuchcmd")
    assert r.returncode == 127
    assert r.stderr.decode() == "/system/bin/sh: nosuchcmd: inaccessible or not found\n"
    r = adb("-s", phone.serial, "shell", "echo", "'a  b'", '"$((2+3))"', "; exit 3")
    assert (r.returncode, r.stdout) == (3, b"a  b 5\n")


def test_adbutils_helpers_parse_our_output(device) -> None:
    assert device.getprop("ro.build.version.sdk") == "34"
    assert device.window_size() == (1080, 2400)
    assert device.rotation() == 0
    assert "com.android.settings" in device.list_packages()
    device.app_start("com.android.settings")
    assert device.app_current().package == "com.android.settings"
    device.keyevent("KEYCODE_HOME")
    assert device.app_current().package == "com.google.android.apps.nexuslauncher"
    xml = device.dump_hierarchy()
    assert xml.startswith("<?xml") and "nexuslauncher" in xml
    img = device.screenshot()
    assert img.size == (1080, 2400) and img.getextrema() != ((0, 0), (0, 0), (0, 0))
    assert device.battery().level == 100


def test_push_then_md5sum_as_uiautomator2_checks(device, tmp_path) -> None:
    data = os.urandom(300_000)
    local = tmp_path / "u2.jar"
    local.write_bytes(data)
    device.sync.push(str(local), "/data/local/tmp/u2.jar")
    out = device.shell(["toybox", "md5sum", "/data/local/tmp/u2.jar"])
    assert hashlib.md5(data).hexdigest() in out


def test_settings_and_date_through_adb(device) -> None:
    device.shell(["settings", "put", "global", "zen_mode", "1"])
    assert device.shell(["settings", "get", "global", "zen_mode"]) == "1"
    device.shell(["date", "-s", "2025-06-01 08:30:00"])
    assert device.shell(["date", "+%Y-%m-%d %H:%M"]) == "2025-06-01 08:30"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=text_strategy)
def test_any_text_survives_content_over_adb(device, body: str) -> None:
    device.shell(["content", "delete", "--uri", "content://sms", "--where", "address='prop'"])
    device.shell(
        [
            "content",
            "insert",
            "--uri",
            "content://sms/inbox",
            "--bind",
            "address:s:prop",
            "--bind",
            "body:s:" + bind_escape(body),
        ]
    )
    out = device.shell2(
        [
            "content",
            "query",
            "--uri",
            "content://sms",
            "--projection",
            "body",
            "--where",
            "address='prop'",
        ],
        rstrip=False,
    ).output
    assert parse_single_body(out).encode("utf-8") == body.encode("utf-8")
