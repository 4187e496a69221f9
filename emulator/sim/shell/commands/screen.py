"""Commands that reach the screen: input, screencap, uiautomator, dumpsys, app_process."""

from __future__ import annotations

import io as _io
import struct
import time

from emulator.sim import packages
from emulator.sim.shell.commands import command
from emulator.sim.shell.commands.android_am import record_id, short_activity
from emulator.sim.shell.commands.android_pm import installed
from emulator.sim.shell.interp import CommandError, Interp, Io

KEYCODES = {
    "UNKNOWN": 0,
    "SOFT_LEFT": 1,
    "SOFT_RIGHT": 2,
    "HOME": 3,
    "BACK": 4,
    "CALL": 5,
    "ENDCALL": 6,
    "0": 7,
    "1": 8,
    "2": 9,
    "3": 10,
    "4": 11,
    "5": 12,
    "6": 13,
    "7": 14,
    "8": 15,
    "9": 16,
    "STAR": 17,
    "POUND": 18,
    "DPAD_UP": 19,
    "DPAD_DOWN": 20,
    "DPAD_LEFT": 21,
    "DPAD_RIGHT": 22,
    "DPAD_CENTER": 23,
    "VOLUME_UP": 24,
    "VOLUME_DOWN": 25,
    "POWER": 26,
    "CAMERA": 27,
    "CLEAR": 28,
    "A": 29,
    "B": 30,
    "C": 31,
    "D": 32,
    "E": 33,
    "F": 34,
    "G": 35,
    "H": 36,
    "I": 37,
    "J": 38,
    "K": 39,
    "L": 40,
    "M": 41,
    "N": 42,
    "O": 43,
    "P": 44,
    "Q": 45,
    "R": 46,
    "S": 47,
    "T": 48,
    "U": 49,
    "V": 50,
    "W": 51,
    "X": 52,
    "Y": 53,
    "Z": 54,
    "COMMA": 55,
    "PERIOD": 56,
    "ALT_LEFT": 57,
    "ALT_RIGHT": 58,
    "SHIFT_LEFT": 59,
    "SHIFT_RIGHT": 60,
    "TAB": 61,
    "SPACE": 62,
    "SYM": 63,
    "EXPLORER": 64,
    "ENVELOPE": 65,
    "ENTER": 66,
    "DEL": 67,
    "GRAVE": 68,
    "MINUS": 69,
    "EQUALS": 70,
    "LEFT_BRACKET": 71,
    "RIGHT_BRACKET": 72,
    "BACKSLASH": 73,
    "SEMICOLON": 74,
    "APOSTROPHE": 75,
    "SLASH": 76,
    "AT": 77,
    "NUM": 78,
    "HEADSETHOOK": 79,
    "FOCUS": 80,
    "PLUS": 81,
    "MENU": 82,
    "NOTIFICATION": 83,
    "SEARCH": 84,
    "MEDIA_PLAY_PAUSE": 85,
    "MEDIA_STOP": 86,
    "MEDIA_NEXT": 87,
    "MEDIA_PREVIOUS": 88,
    "PAGE_UP": 92,
    "PAGE_DOWN": 93,
    "ESCAPE": 111,
    "FORWARD_DEL": 112,
    "CTRL_LEFT": 113,
    "CTRL_RIGHT": 114,
    "MOVE_HOME": 122,
    "MOVE_END": 123,
    "VOLUME_MUTE": 164,
    "APP_SWITCH": 187,
    "SETTINGS": 176,
    "CONTACTS": 207,
    "CALENDAR": 208,
    "BRIGHTNESS_DOWN": 220,
    "BRIGHTNESS_UP": 221,
    "SLEEP": 223,
    "WAKEUP": 224,
    "SOFT_SLEEP": 276,
}

INPUT_USAGE = (
    "Usage: input [<source>] [-d DISPLAY_ID] <command> [<arg>...]\n\n"
    "The commands and default sources are:\n"
    "      text <string> (Default: keyboard)\n"
    "      keyevent [--longpress|--doubletap] <key code number or name> ... (Default: keyboard)\n"
    "      tap <x> <y> (Default: touchscreen)\n"
    "      swipe <x1> <y1> <x2> <y2> [duration(ms)] (Default: touchscreen)\n"
    "      draganddrop <x1> <y1> <x2> <y2> [duration(ms)] (Default: touchscreen)\n"
    "      press (Default: trackball)\n"
)
_SOURCES = {
    "keyboard",
    "mouse",
    "joystick",
    "touchnavigation",
    "touchpad",
    "trackball",
    "stylus",
    "dpad",
    "gesture",
    "touchscreen",
    "gamepad",
    "rotaryencoder",
}
LONG_PRESS_MS = 400


def keycode(name: str) -> int:
    """A key's code from ``3``, ``HOME`` or ``KEYCODE_HOME``."""
    if name.lstrip("-").isdigit():
        return int(name)
    key = name.upper().removeprefix("KEYCODE_")
    if key in KEYCODES:
        return KEYCODES[key]
    raise CommandError(f"Error: Unknown keycode: {name}", 1)


def input_text(raw: str) -> str:
    """What ``input text`` types: ``%s`` becomes a space, by Android's own scan."""
    chars = list(raw)
    escape = False
    i = 0
    while i < len(chars):
        if escape:
            escape = False
            if chars[i] == "s":
                chars[i] = " "
                del chars[i - 1]
                i -= 1
        if chars[i] == "%":
            escape = True
        i += 1
    return "".join(chars)


def _ui(sh: Interp, name: str) -> object:
    if sh.ctx.ui is None:
        raise CommandError(f"{name}: no screen: this phone has no UI attached", 1)
    return sh.ctx.ui


def _coords(args: list[str], n: int, verb: str) -> list[int]:
    if len(args) < n:
        raise CommandError(f"Error: Invalid arguments for command: {verb}\n{INPUT_USAGE}", 255)
    try:
        return [int(float(a)) for a in args[:n]]
    except ValueError:
        raise CommandError(
            f"Error: Invalid arguments for command: {verb}\n{INPUT_USAGE}", 255
        ) from None


@command("input")
def input_(sh: Interp, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    if args and args[0] in _SOURCES:
        args = args[1:]
    if len(args) >= 2 and args[0] == "-d":
        args = args[2:]
    if not args:
        io.out(INPUT_USAGE)
        return 1
    verb, rest = args[0], args[1:]
    ui = _ui(sh, "input")
    try:
        if verb == "tap":
            x, y = _coords(rest, 2, verb)
            ui.tap(x, y)  # type: ignore[attr-defined]
        elif verb in ("swipe", "draganddrop"):
            x1, y1, x2, y2 = _coords(rest, 4, verb)
            duration = int(float(rest[4])) if len(rest) > 4 else 300
            if (x1, y1) == (x2, y2) and duration >= LONG_PRESS_MS:
                ui.long_press(x1, y1, duration)  # type: ignore[attr-defined]
            else:
                ui.swipe(x1, y1, x2, y2, duration)  # type: ignore[attr-defined]
        elif verb == "text":
            if not rest:
                raise CommandError(
                    f"Error: Invalid arguments for command: text\n{INPUT_USAGE}", 255
                )
            ui.text(input_text(rest[0]))  # type: ignore[attr-defined]
        elif verb == "keyevent":
            codes = [keycode(a) for a in rest if a not in ("--longpress", "--doubletap", "--delay")]
            if not codes:
                raise CommandError(
                    f"Error: Invalid arguments for command: keyevent\n{INPUT_USAGE}", 255
                )
            for code in codes:
                ui.keyevent(code)  # type: ignore[attr-defined]
        elif verb == "press":
            ui.keyevent(KEYCODES["DPAD_CENTER"])  # type: ignore[attr-defined]
        elif verb in ("roll", "motionevent", "keycombination"):
            pass
        else:
            raise CommandError(f"Error: Unknown command: {verb}\n{INPUT_USAGE}", 1)
    except ValueError as exc:
        raise CommandError(f"Error: {exc}", 255) from None
    return 0


# -- screencap / uiautomator --------------------------------------------------------
def png_bytes(ui: object) -> bytes:
    fast = getattr(ui, "screenshot_png", None)
    if fast is not None:
        return fast()
    buf = _io.BytesIO()
    ui.screenshot().save(buf, "PNG", compress_level=1)  # type: ignore[attr-defined]
    return buf.getvalue()


def raw_bytes(ui: object) -> bytes:
    """The raw frame: u32 width, height, format (1 = RGBA_8888), colour space, then pixels."""
    fast = getattr(ui, "screenshot_raw", None)
    if fast is not None:
        return fast()
    img = ui.screenshot().convert("RGBA")  # type: ignore[attr-defined]
    return struct.pack("<IIII", img.width, img.height, 1, 0) + img.tobytes()


@command("screencap")
def screencap(sh: Interp, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    png = False
    target = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-p":
            png = True
        elif a in ("-d", "-a") and i + 1 < len(args):
            i += 1
        elif a.startswith("-"):
            if a not in ("-h",):
                raise CommandError(f"screencap: invalid option -- '{a.lstrip('-')}'", 1)
            io.out("usage: screencap [-hp] [-d display-id] [FILENAME]\n")
            return 0
        else:
            target = a
        i += 1
    ui = _ui(sh, "screencap")
    if target is not None and target.endswith(".png"):
        png = True
    data = png_bytes(ui) if png else raw_bytes(ui)
    if target is None:
        io.out(data)
    else:
        sh.vfs.write_bytes(sh.path(target), data)
    return 0


@command("uiautomator")
def uiautomator(sh: Interp, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    if not args or args[0] != "dump":
        io.out(
            "Usage: uiautomator <subcommand> [options]\n\nAvailable subcommands:\n\n"
            "dump: creates an XML dump of current UI hierarchy\n"
        )
        return 1 if args else 0
    files = [a for a in args[1:] if not a.startswith("--")]
    target = files[0] if files else "/sdcard/window_dump.xml"
    ui = sh.ctx.ui
    if ui is None:
        io.err("ERROR: could not get idle state: this phone has no UI attached\n")
        return 1
    xml = ui.hierarchy_xml()
    if target in ("/dev/tty", "/dev/stdout"):
        io.out(xml)
    else:
        sh.vfs.write_bytes(sh.path(target), xml.encode("utf-8"))
    io.out(f"UI hierchary dumped to: {target}\n")
    return 0


# -- dumpsys ---------------------------------------------------------------------------
def _focus(sh: Interp) -> tuple[str, str]:
    ui = sh.ctx.ui
    if ui is None:
        return "com.android.systemui", "com.android.systemui.NotificationShade"
    return ui.focus()


def _pid(pkg: str) -> int:
    return 2000 + (sum(map(ord, pkg)) % 7000)


def dumpsys_window(sh: Interp) -> str:
    pkg, act = _focus(sh)
    wid, rid = record_id("w" + pkg + act), record_id("a" + pkg + act)
    d = sh.ctx.display
    return (
        "WINDOW MANAGER WINDOWS (dumpsys window windows)\n"
        f"  Window #0 Window{{{wid} u0 {pkg}/{act}}}:\n"
        f"    mDisplayId=0 rootTaskId=5 mSession=Session{{4a1c2e0 {_pid(pkg)}:u0a10150}}\n"
        f"    mOwnerUid=10150 showForAllUsers=false package={pkg} appop=NONE\n"
        f"    mAttrs={{(0,0)(fillxfill) sim={{adjust=pan}} ty=BASE_APPLICATION fmt=TRANSLUCENT}}\n"
        f"    mFrame=[0,0][{d.width},{d.height}]\n"
        "    isOnScreen=true\n    isVisible=true\n"
        "\n"
        f"  mGlobalConfiguration={{1.0 ?mcc?mnc [en_US] ldltr sw{d.width * 160 // d.density}dp "
        f"w{d.width * 160 // d.density}dp h{d.height * 160 // d.density}dp {d.density}dpi "
        "nrml long port finger -keyb/v/h -nav/h}\n"
        "  mHasPermanentDpad=false\n"
        "  mTopFocusedDisplayId=0\n"
        "  mInputMethodTarget=null\n"
        f"  mCurrentFocus=Window{{{wid} u0 {pkg}/{act}}}\n"
        f"  mFocusedApp=ActivityRecord{{{rid} u0 {pkg}/{short_activity(pkg, act)} t5}}\n"
    )


def dumpsys_activity(sh: Interp, what: str) -> str:
    pkg, act = _focus(sh)
    rid = record_id("a" + pkg + act)
    short = short_activity(pkg, act)
    if what == "top":
        return (
            "TASK 10150:" + pkg + " id=5 userId=0\n"
            f"  ACTIVITY {pkg}/{short} {rid} pid={_pid(pkg)}\n"
            "    Local Activity " + rid + " State:\n"
            "      mResumed=true mStopped=false mFinished=false\n"
        )
    return (
        "ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)\n"
        "Display #0 (activities from top to bottom):\n"
        f"  * Task{{{record_id('t' + pkg)} #5 type=standard A=10150:{pkg}}}\n"
        f"    topResumedActivity=ActivityRecord{{{rid} u0 {pkg}/{short} t5}}\n"
        f"    * Hist  #0: ActivityRecord{{{rid} u0 {pkg}/{short} t5}}\n"
        "\n"
        f"  ResumedActivity: ActivityRecord{{{rid} u0 {pkg}/{short} t5}}\n"
        f"  mResumedActivity: ActivityRecord{{{rid} u0 {pkg}/{short} t5}}\n"
        f"  mFocusedApp=ActivityRecord{{{rid} u0 {pkg}/{short} t5}}\n"
    )


def dumpsys_display(sh: Interp) -> str:
    d = sh.ctx.display
    return (
        "DISPLAY MANAGER (dumpsys display)\n"
        "  mOnlyCore=false\n"
        "  mSafeMode=false\n"
        "  mPendingTraversal=false\n"
        "  mViewports=[DisplayViewport{type=INTERNAL, valid=true, isActive=true, displayId=0, "
        f"uniqueId='local:4619827259835644672', physicalPort=0, orientation=0, "
        f"logicalFrame=Rect(0, 0 - {d.width}, {d.height}), "
        f"physicalFrame=Rect(0, 0 - {d.width}, {d.height}), "
        f"deviceWidth={d.width}, deviceHeight={d.height}}}]\n"
        "\n"
        "Display Devices: size=1\n"
        f'  DisplayDeviceInfo{{"Built-in Screen": uniqueId="local:4619827259835644672", '
        f"{d.width} x {d.height}, modeId 1, renderFrameRate 60.0, defaultModeId 1, "
        f"density {d.density}, {float(d.density)} x {float(d.density)} dpi, "
        "touch INTERNAL, rotation 0, type INTERNAL, state ON, FLAG_DEFAULT_DISPLAY}\n"
        "    mCurrentOrientation=0\n"
        f"    mCurrentDisplayRect=Rect(0, 0 - {d.width}, {d.height})\n"
    )


BATTERY = (
    "Current Battery Service state:\n"
    "  AC powered: false\n  USB powered: true\n  Wireless powered: false\n"
    "  Dock powered: false\n  Max charging current: 500000\n"
    "  Max charging voltage: 5000000\n  Charge counter: 4000000\n  status: 2\n"
    "  health: 2\n  present: true\n  level: 100\n  scale: 100\n  voltage: 5000\n"
    "  temperature: 250\n  technology: Li-ion\n"
)


def dumpsys_package(sh: Interp, pkg: str) -> str:
    paths = dict(installed(sh))
    if pkg not in paths:
        return ""
    path = paths[pkg]
    added = packages.installed(sh.vfs).get(pkg)
    code, name = (added.version_code, added.version_name) if added else (1, "1.0")
    flags = (
        "SYSTEM HAS_CODE ALLOW_CLEAR_USER_DATA"
        if not path.startswith("/data/")
        else ("HAS_CODE ALLOW_CLEAR_USER_DATA")
    )
    return (
        "Packages:\n"
        f"  Package [{pkg}] ({record_id(pkg)}):\n"
        f"    userId=10150\n    pkg=Package{{{record_id('p' + pkg)} {pkg}}}\n"
        f"    codePath={path.rsplit('/', 1)[0]}\n"
        f"    versionCode={code} minSdk=28 targetSdk=34\n    versionName={name}\n"
        f"    pkgFlags=[ {flags} ]\n"
        "    timeStamp=2024-01-01 00:00:00\n"
        "    firstInstallTime=2024-01-01 00:00:00\n"
        "    lastUpdateTime=2024-01-01 00:00:00\n"
        "    signatures=PackageSignatures{a1b2c3d version:3, signatures:[f00dcafe], "
        "past signatures:[]}\n"
    )


@command("dumpsys")
def dumpsys(sh: Interp, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    if not args or args[0] == "-l":
        io.out(
            "Currently running services:\n  activity\n  battery\n  display\n  input_method\n"
            "  package\n  power\n  SurfaceFlinger\n  window\n"
        )
        return 0
    service, rest = args[0], args[1:]
    if service == "window":
        io.out(dumpsys_window(sh))
    elif service == "activity":
        what = rest[0] if rest else "activities"
        io.out(dumpsys_activity(sh, "top" if what == "top" else "activities"))
    elif service == "display":
        io.out(dumpsys_display(sh))
    elif service == "battery":
        io.out(BATTERY)
    elif service == "power":
        io.out(
            "POWER MANAGER (dumpsys power)\n  mWakefulness=Awake\n"
            "  mHoldingWakeLockSuspendBlocker=false\n  mHoldingDisplaySuspendBlocker=true\n"
            "Display Power: state=ON\n"
        )
    elif service == "package":
        pkg = next((a for a in rest if not a.startswith("-")), None)
        if pkg is not None:
            io.out(dumpsys_package(sh, pkg))
    elif service == "input_method":
        io.out("  mCurMethodId=com.android.inputmethod.latin/.LatinIME\n  mInputShown=false\n")
    elif service == "SurfaceFlinger":
        io.out(
            "Display 4619827259835644672 (HWC display 0): port=0 pnpId=GGL "
            'displayName="EMU_display_0"\n'
        )
    else:
        io.err(f"Can't find service: {service}\n")
    return 0


# -- app_process: the uiautomator2 agent --------------------------------------------------
U2_MAIN = "com.wetest.uia2.Main"
AGENT_LIFETIME_S = 3600.0


@command("app_process", "app_process64")
def app_process(sh: Interp, io: Io, argv: list[str]) -> int:
    """Start the uiautomator2 server (``CLASSPATH=…u2.jar app_process / com.wetest.uia2.Main``).

    The phone serves the agent in-process (``emulator.sim.ui.u2agent``); this
    command makes sure it is up and then runs as long as it does, as the real
    server process does, so a client that launched it sees a live process.
    """
    main = next((a for a in argv[1:] if not a.startswith("-") and a != "/"), None)
    classpath = sh.vars.get("CLASSPATH", "")
    if getattr(sh.ctx, "u2_agent", "boot") == "none":
        io.err("java.lang.SecurityException: this phone lets no UiAutomation connect\n")
        return 1
    if main != U2_MAIN:
        io.err(f"Error: Could not find class '{main}' on CLASSPATH '{classpath}'\n")
        return 1
    if not sh.vfs.exists(sh.path(classpath.split(":")[0] or "/data/local/tmp/u2.jar")):
        io.err(f"Error: Could not find class '{main}' (no {classpath or 'CLASSPATH'})\n")
        return 1
    try:
        from emulator.sim.ui.u2agent import DEVICE_PORT, start_u2_agent
    except ImportError:
        io.err("Error: the uiautomator2 agent is not available on this phone\n")
        return 1
    start_u2_agent(sh.ctx)
    io.out("[server] INFO: [UiAutomator2Server] Starting Server\n")
    deadline = time.monotonic() + AGENT_LIFETIME_S
    while DEVICE_PORT in sh.ctx.tcp_ports and time.monotonic() < deadline:
        time.sleep(0.5)
    return 0
