"""Android commands against the real UI model: pm, am, monkey, input, screencap, dumpsys."""

from __future__ import annotations

import io
import re
import struct
import threading

from PIL import Image

from emulator.sim.providers.schema import SMS_DB

SETTINGS = "com.android.settings"
LAUNCHER = "com.google.android.apps.nexuslauncher"

# The regexes adbutils uses to read the foreground app (adbutils/shell.py).
CURRENT_FOCUS = re.compile(r"mCurrentFocus=Window{.*\s+(?P<package>[^\s]+)/(?P<activity>[^\s]+)\}")
RESUMED = re.compile(
    r"mResumedActivity: ActivityRecord\{.*?\s+(?P<package>[^\s]+)/(?P<activity>[^\s]+)\s.*?\}"
)
TOP = re.compile(r"ACTIVITY (?P<package>[^\s]+)/(?P<activity>[^/\s]+) \w+ pid=(?P<pid>\d+)")
VIEWPORT = re.compile(
    r".*DisplayViewport{.*?valid=true, .*?orientation=(?P<orientation>\d+), "
    r".*?deviceWidth=(?P<width>\d+), deviceHeight=(?P<height>\d+).*"
)


def test_pm(ui_run, providers) -> None:
    pkgs = ui_run.out("pm list packages").splitlines()
    assert f"package:{SETTINGS}" in pkgs and "package:android" in pkgs
    assert all(p.startswith("package:") for p in pkgs)
    assert ui_run.out("pm list packages -3") == (  # installed under /data/app
        "package:com.clawrig.motion\npackage:net.gsantner.markor\npackage:world.clawrig.bank\n"
        "package:world.clawrig.chat\npackage:world.clawrig.parcels\npackage:world.clawrig.shop\n"
    )
    assert ui_run.out("pm list packages settings").splitlines() == [
        "package:com.android.providers.settings",
        f"package:{SETTINGS}",
    ]
    assert re.fullmatch(
        r"package:/\S+\.apk=com\.android\.settings\n",
        ui_run.out(f"pm list packages -f {SETTINGS} | grep =com.android.settings$"),
    )
    assert ui_run.out(f"pm path {SETTINGS}").startswith("package:/")
    assert ui_run("pm path com.nope") == (1, "", "")
    providers.insert("content://sms/inbox", {"address": "1", "body": "gone soon"})
    assert ui_run.out("pm clear com.android.providers.telephony") == "Success\n"
    assert providers.query("content://sms") == []
    assert ui_run("pm clear com.nope") == (1, "Failed\n", "")
    assert ui_run(f"pm grant {SETTINGS} android.permission.CAMERA")[0] == 0
    assert ui_run("pm grant com.nope android.permission.CAMERA")[0] == 255


def test_am_start_and_focus_as_adbutils_reads_it(ui_run) -> None:
    m = CURRENT_FOCUS.search(ui_run.out("dumpsys window windows"))
    assert m and m["package"] == LAUNCHER
    out = ui_run.out(f"am start -W -n {SETTINGS}/.Settings")
    assert out.startswith(f"Starting: Intent {{ cmp={SETTINGS}/.Settings }}\nStatus: ok\n")
    assert f"Activity: {SETTINGS}/.Settings\n" in out and out.endswith("Complete\n")
    m = CURRENT_FOCUS.search(ui_run.out("dumpsys window windows"))
    assert (m["package"], m["activity"]) == (SETTINGS, "com.android.settings.Settings")
    m = RESUMED.search(ui_run.out("dumpsys activity activities"))
    assert m and m["package"] == SETTINGS
    m = TOP.search(ui_run.out("dumpsys activity top"))
    assert m and (m["package"], m["activity"]) == (SETTINGS, ".Settings")
    status, out, err = ui_run("am start -n com.nope/.Main")
    assert status == 255
    assert err == "Error type 3\nError: Activity class {com.nope/com.nope.Main} does not exist.\n"
    ui_run.out("am force-stop com.android.settings")
    assert LAUNCHER in ui_run.out("dumpsys window | grep mCurrentFocus")
    assert ui_run.out("am broadcast -a com.example.PING") == (
        "Broadcasting: Intent { act=com.example.PING flg=0x400000 }\n"
        "Broadcast completed: result=0\n"
    )


def test_monkey_launches(ui_run) -> None:
    out = ui_run.out("monkey -p com.android.contacts -c android.intent.category.LAUNCHER 1")
    assert "Events injected: 1\n" in out and out.startswith("  bash arg: -p\n")
    assert "com.android.contacts/" in ui_run.out("dumpsys window | grep mCurrentFocus")
    status, _out, err = ui_run("monkey -p com.nope -c android.intent.category.LAUNCHER 1")
    assert status == 252 and "No activities found to run, monkey aborted." in err


def test_input_changes_the_screen(ui_run, ui_ctx) -> None:
    before = ui_run.out(f"am start -n {SETTINGS}/.Settings; dumpsys window | grep mCurrentFocus")
    assert SETTINGS in before
    ui_run.out("input keyevent KEYCODE_HOME")
    assert LAUNCHER in ui_run.out("dumpsys window | grep mCurrentFocus")
    ui_run.out(f"am start -n {SETTINGS}/.Settings")
    ui_run.out("input keyevent 4")
    assert LAUNCHER in ui_run.out("dumpsys window | grep mCurrentFocus")
    # Tap the centre of the first clickable icon the hierarchy shows, as an agent would.
    xml = ui_ctx.ui.hierarchy_xml()
    node = re.search(
        r'text="Settings"[^>]*clickable="true"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"', xml
    )
    assert node, xml[:500]
    x = (int(node[1]) + int(node[3])) // 2
    y = (int(node[2]) + int(node[4])) // 2
    ui_run.out(f"input tap {x} {y}")
    assert SETTINGS in ui_run.out("dumpsys window | grep mCurrentFocus")
    assert ui_run("input keyevent KEYCODE_NOPE")[2] == "Error: Unknown keycode: KEYCODE_NOPE\n"
    assert ui_run("input tap 5")[0] == 255
    assert ui_run("input text")[0] == 255


def test_input_text_escapes() -> None:
    from emulator.sim.shell.commands.screen import input_text, keycode

    assert input_text("hello%sworld") == "hello world"
    assert input_text("100%") == "100%"
    assert input_text("%%s") == "% "
    assert keycode("KEYCODE_ENTER") == keycode("ENTER") == keycode("66") == 66


def test_screencap_png_and_raw(ui_run, ui_ctx) -> None:
    status, out, err = ui_run.shell.capture("screencap -p")
    assert status == 0 and err == b"" and out.startswith(b"\x89PNG\r\n\x1a\n")
    img = Image.open(io.BytesIO(out))
    assert img.size == (1080, 2400)
    status, raw, _err = ui_run.shell.capture("screencap")
    w, h, fmt, _space = struct.unpack_from("<IIII", raw)
    assert (w, h, fmt) == (1080, 2400, 1) and len(raw) == 16 + w * h * 4
    ui_run.out("screencap -p /sdcard/Pictures/s.png")
    assert ui_ctx.vfs.read_bytes("/sdcard/Pictures/s.png")[:4] == b"\x89PNG"


def test_uiautomator_dump(ui_run, ui_ctx) -> None:
    out = ui_run.out(
        "rm -f /data/local/tmp/uidump.xml; "
        "uiautomator dump /data/local/tmp/uidump.xml && echo success"
    )
    assert out == "UI hierchary dumped to: /data/local/tmp/uidump.xml\nsuccess\n"
    assert ui_ctx.vfs.read_text("/data/local/tmp/uidump.xml").startswith("<?xml")
    assert ui_run.out("uiautomator dump") == "UI hierchary dumped to: /sdcard/window_dump.xml\n"
    assert ui_run.out("uiautomator dump /dev/tty").startswith("<?xml")


def test_screen_commands_without_ui_fail_clearly(run) -> None:
    for cmd in ("input tap 1 1", "screencap -p", "uiautomator dump", "am start -n a/.B"):
        status, out, err = run(cmd)
        assert status != 0 and "no UI" in err and out == "", cmd


def test_dumpsys_display_battery_package(ui_run) -> None:
    m = VIEWPORT.match(
        next(
            line for line in ui_run.out("dumpsys display").splitlines() if "DisplayViewport" in line
        )
    )
    assert m and (m["orientation"], m["width"], m["height"]) == ("0", "1080", "2400")
    first = next(
        line for line in ui_run.out("dumpsys display").splitlines() if "orientation=" in line
    )
    assert re.search(r"orientation=0", first)
    assert "  level: 100\n" in ui_run.out("dumpsys battery")
    assert "versionName=1.0" in ui_run.out(f"dumpsys package {SETTINGS}")
    assert "Can't find service: nope" in ui_run("dumpsys nope")[2]


def test_app_process_starts_the_u2_agent_and_runs_while_it_does(ui_run, ui_ctx) -> None:
    import urllib.request

    from emulator.sim.ui.u2agent import DEVICE_PORT, stop_u2_agent

    ui_ctx.vfs.write_bytes("/data/local/tmp/u2.jar", b"PK\x03\x04 stand-in")
    result: dict[str, object] = {}

    def launch() -> None:
        result["r"] = ui_run(
            "CLASSPATH=/data/local/tmp/u2.jar app_process / com.wetest.uia2.Main -p 9008"
        )

    t = threading.Thread(target=launch, daemon=True)
    t.start()
    try:
        for _ in range(100):
            if DEVICE_PORT in ui_ctx.tcp_ports:
                break
            t.join(0.05)
        host, port = ui_ctx.tcp_ports[DEVICE_PORT]
        with urllib.request.urlopen(f"http://{host}:{port}/ping", timeout=5) as resp:
            assert resp.read() == b"pong"
        t.join(0.3)
        assert t.is_alive()  # a live server process, as the client expects
    finally:
        stop_u2_agent(ui_ctx)
    t.join(5)
    assert not t.is_alive() and result["r"][0] == 0
    status, _out, err = ui_run("app_process / com.example.Other")
    assert status == 1 and "Could not find class" in err


def test_sqlite3_sees_what_the_ui_wrote(ui_run, providers) -> None:
    providers.insert("content://sms/sent", {"address": "555", "body": "from the app"})
    assert ui_run.out(f"sqlite3 {SMS_DB} 'select body from sms where type=2'") == "from the app\n"


def test_installed_packages_have_data_dirs(ui_run) -> None:
    listing = ui_run.out("ls /data/data").split()
    assert {"com.android.settings", "net.gsantner.markor", "com.android.shell"} <= set(listing)
