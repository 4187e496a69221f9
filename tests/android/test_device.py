"""AdbAndroidDevice against the virtual phone, through the real adb server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from emulator.adb import AdbServer
from emulator.device import AdbAndroidDevice
from emulator.errors import AndroidInputError, DeviceLost

pytestmark = [pytest.mark.integration]


def test_meets_the_world_contract(phone: AdbAndroidDevice) -> None:
    from rig.world import AndroidDevice

    assert isinstance(phone, AndroidDevice)
    assert phone.kind == "android" and phone.role == "phone"


def test_shell_streams_and_status(phone: AdbAndroidDevice) -> None:
    res = phone.shell("echo out; echo err >&2; exit 3")
    assert (res.stdout, res.stderr, res.exit_code) == ("out\n", "err\n", 3)
    assert "shell_v2" in phone.features()


def test_shell_timeout_and_output_cap(phone: AdbAndroidDevice, tmp_path: Path) -> None:
    res = phone.shell("sleep 5", timeout=0.5)
    assert res.timed_out and res.exit_code == 124
    big = bytes(range(32, 127)) * 2000  # 190 kB of text
    src = tmp_path / "big.txt"
    src.write_bytes(big)
    phone.push(src, "/data/local/tmp/big.txt")
    capped = AdbAndroidDevice(phone.server, phone.serial, output_cap=4096)
    res = capped.shell("cat /data/local/tmp/big.txt; echo done >&2")
    assert res.truncated and res.exit_code == 0
    assert res.stdout.encode() == big[:4096]
    assert res.stderr.startswith("done\n")


class _ShellV1(AdbAndroidDevice):
    """A device whose adb lacks ``shell_v2``: the rig falls back to ``shell:`` and a marker."""

    def features(self) -> set[str]:
        return super().features() - {"shell_v2"}


def test_shell_v1_fallback_status_timeout_and_output_cap(phone: AdbAndroidDevice) -> None:
    v1 = _ShellV1(phone.server, phone.serial)
    res = v1.shell("echo out; false")
    assert (res.stdout, res.exit_code, res.truncated, res.timed_out) == ("out\n", 1, False, False)
    # What an agent types is its own status, never a lost device: an exit, a comment, bad syntax.
    assert v1.shell("echo bye; exit 3").exit_code == 3
    res = v1.shell("echo 'a  b' # a comment")
    assert (res.stdout, res.exit_code) == ("a  b\n", 0)
    assert v1.shell("echo (").exit_code not in (0, None)
    res = v1.shell("sleep 5", timeout=0.5)
    assert res.timed_out and res.exit_code == 124
    big = bytes(range(32, 127)) * 2000  # 190 kB of text
    phone.push(big, "/data/local/tmp/big-v1.txt")
    res = _ShellV1(phone.server, phone.serial, output_cap=4096).shell(
        "cat /data/local/tmp/big-v1.txt"
    )
    assert res.truncated and res.exit_code == 0
    assert res.stdout.encode() == big[:4096]


def test_push_pull_bytes(phone: AdbAndroidDevice, tmp_path: Path) -> None:
    data = "héllo 世界 🎉 $`'\"\n".encode() + bytes(range(256))
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    phone.push(src, "/sdcard/Download/clawrig-test.bin")
    phone.pull("/sdcard/Download/clawrig-test.bin", tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == data
    with pytest.raises(AndroidInputError, match="does not exist"):
        phone.pull("/sdcard/nope.bin", tmp_path / "x")


def test_screenshot_raw_matches_png(phone: AdbAndroidDevice) -> None:
    phone.key("home")
    raw = phone.screenshot()
    png = phone.screenshot("png")
    assert raw.size == png.size == phone.window_size() == (720, 1280)
    assert raw.mode == "RGB" and phone.screenshot_path in ("raw", "png")
    assert phone.screenshot("raw").tobytes() == png.tobytes()
    assert raw.tobytes() == png.tobytes()


def test_launch_current_app_and_keys(phone: AdbAndroidDevice) -> None:
    phone.launch("com.android.contacts")
    assert phone.current_app()[0] == "com.android.contacts"
    phone.key("home")
    assert phone.current_app()[0] != "com.android.contacts"
    with pytest.raises(AndroidInputError, match="unknown key"):
        phone.key("hyperspace")
    with pytest.raises(AndroidInputError, match="cannot launch"):
        phone.launch("com.example.not.installed")


def test_ui_tree_and_input(phone: AdbAndroidDevice) -> None:
    phone.key("home")
    tree = phone.ui_tree()
    assert "<hierarchy" in tree and "bounds=" in tree
    w, h = phone.window_size()
    phone.tap(w // 2, h // 2)
    phone.swipe(w // 2, h * 3 // 4, w // 2, h // 4, 200)
    phone.long_press(10, 10, 300)
    with pytest.raises(AndroidInputError, match="off the"):
        phone.tap(w + 5, 10)
    assert phone.settle(timeout=10)


def test_clock_locale_animations(phone: AdbAndroidDevice) -> None:
    now = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
    phone.set_clock(now, "Europe/Paris")
    epoch = int(phone.check("date +%s").strip())
    assert abs(epoch - int(now.timestamp())) <= 2
    assert phone.getprop("persist.sys.timezone") == "Europe/Paris"
    phone.disable_animations()
    assert phone.check("settings get global animator_duration_scale").strip() in ("0", "0.0")
    with pytest.raises(AndroidInputError):
        phone.set_timezone("Europe/Paris; reboot")


def test_reverse(phone: AdbAndroidDevice) -> None:
    phone.reverse(8765, 18765)
    assert ("tcp:8765", "tcp:18765") in phone.reverse_list()


@pytest.mark.slow
def test_dead_phone_raises_device_lost(adb_server: AdbServer, tmp_path: Path) -> None:
    from emulator.sim.phone import spawn_phone

    proc = spawn_phone(tmp_path / "doomed")
    try:
        dev = AdbAndroidDevice(adb_server, adb_server.connect(proc.serial))
        assert dev.is_alive()
        proc.kill()
        with pytest.raises(DeviceLost):
            for _ in range(20):
                dev.shell("echo hi", timeout=5)
        assert not dev.is_alive()
    finally:
        proc.stop()
        adb_server.disconnect(proc.serial)


def _search_text(phone: AdbAndroidDevice) -> str:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(phone.ui_tree().encode("utf-8"))
    (node,) = [n for n in root.iter("node") if n.get("resource-id", "").endswith("search_view")]
    return node.get("text", "")


def _focus_search(phone: AdbAndroidDevice) -> None:
    phone.stop_app("com.android.contacts")
    phone.launch("com.android.contacts")
    phone.tap(360, 253)  # the search field of the virtual phone's Contacts at 720x1280


@pytest.mark.parametrize(
    "text",
    ["plain", 'it\'s $HOME `id` "q" 50%s off % 100%;|&<>*\\', "two  spaces", "a%sb%%sc"],
)
def test_type_ascii_through_input_text(phone: AdbAndroidDevice, text: str) -> None:
    _focus_search(phone)
    phone.type_text(text)
    assert _search_text(phone) == text


def test_type_unicode_through_uiautomator2(phone: AdbAndroidDevice) -> None:
    assert phone.u2_available()
    _focus_search(phone)
    phone.type_text("héllo 世界 😀 $x")
    assert _search_text(phone) == "héllo 世界 😀 $x"


def test_ui_tree_without_the_agent_uses_uiautomator_dump(phone: AdbAndroidDevice) -> None:
    # A device object that has not found the uiautomator2 agent (as on a stock AVD).
    plain = AdbAndroidDevice(phone.server, phone.serial)
    plain._u2_ok = False
    phone.key("home")
    tree = plain.ui_tree()
    assert tree.startswith("<?xml") and "Contacts" in tree
    assert plain.rotation() == 0
    with pytest.raises(AndroidInputError, match="needs uiautomator2's agent or the ADB Keyboard"):
        plain.type_text("日本")


def test_reconnect_after_restart(adb_server: AdbServer, tmp_path: Path) -> None:
    from emulator.sim.phone import spawn_phone
    from hostproc.ports import free_port

    port = free_port()
    proc = spawn_phone(tmp_path / "p", adb_port=port)
    try:
        serial = adb_server.connect(proc.serial)
        proc.kill()
        proc = spawn_phone(tmp_path / "p", adb_port=port)
        adb_server.reconnect(serial, timeout=30)
        assert AdbAndroidDevice(adb_server, serial).shell("echo back").stdout == "back\n"
    finally:
        proc.stop()
        adb_server.disconnect(proc.serial)


def test_root_and_locale(phone: AdbAndroidDevice) -> None:
    is_root = phone.ensure_root()
    assert is_root == (phone.check("id -u").strip() == "0")
    phone.set_locale("ja-JP")
    assert phone.getprop("persist.sys.locale") == "ja-JP"
    phone.set_locale("en-US")
    with pytest.raises(AndroidInputError, match="not a locale tag"):
        phone.set_locale("en US; reboot")
