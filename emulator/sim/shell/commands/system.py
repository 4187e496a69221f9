"""System commands: identity, date, properties, display, settings, processes, logs."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime

from emulator.sim import due
from emulator.sim.shell.commands import command, options
from emulator.sim.shell.interp import CommandError, Interp, Io

UNAME = {
    "s": "Linux",
    "n": "localhost",
    "r": "6.1.23-android14-4-00257-g7e35917775b8-ab9964412",
    "v": "#1 SMP PREEMPT Mon Apr 17 20:50:58 UTC 2023",
    "m": "x86_64",
    "o": "Toybox",
}
ID_LINE = (
    "uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),1011(adb),"
    "1015(sdcard_rw),1028(sdcard_r),1078(ext_data_rw),1079(ext_obb_rw),3001(net_bt_admin),"
    "3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc),3011(uhid),3012(readtracefs) "
    "context=u:r:shell:s0"
)

# A stock Android 14 emulator image's properties; ctx.props overrides them.
DEFAULT_PROPS = {
    "ro.build.version.sdk": "34",
    "ro.build.version.release": "14",
    "ro.build.version.release_or_codename": "14",
    "ro.build.version.codename": "REL",
    "ro.build.version.security_patch": "2024-02-05",
    "ro.build.id": "UE1A.230829.036",
    "ro.build.display.id": "sdk_gphone64_x86_64-userdebug 14 UE1A.230829.036 dev-keys",
    "ro.build.type": "userdebug",
    "ro.build.tags": "dev-keys",
    "ro.build.fingerprint": (
        "google/sdk_gphone64_x86_64/emu64xa:14/UE1A.230829.036/1:userdebug/dev-keys"
    ),
    "ro.build.characteristics": "emulator",
    "ro.product.brand": "google",
    "ro.product.manufacturer": "Google",
    "ro.product.model": "sdk_gphone64_x86_64",
    "ro.product.name": "sdk_gphone64_x86_64",
    "ro.product.device": "emu64xa",
    "ro.product.board": "goldfish_x86_64",
    "ro.product.cpu.abi": "x86_64",
    "ro.product.cpu.abilist": "x86_64,arm64-v8a",
    "ro.product.locale": "en-US",
    "ro.hardware": "ranchu",
    "ro.kernel.qemu": "1",
    "ro.boot.qemu": "1",
    "ro.debuggable": "1",
    "ro.secure": "1",
    "ro.adb.secure": "0",
    "sys.boot_completed": "1",
    "dev.bootcomplete": "1",
    "init.svc.bootanim": "stopped",
    "service.bootanim.exit": "1",
    "persist.sys.locale": "en-US",
    "persist.sys.usb.config": "adb",
    "gsm.operator.alpha": "Android",
    "gsm.sim.state": "READY",
    "net.hostname": "localhost",
}


def props(sh: Interp) -> dict[str, str]:
    merged = dict(DEFAULT_PROPS)
    merged.update(getattr(sh.ctx, "props", {}) or {})
    merged["ro.serialno"] = merged.get("ro.serialno") or getattr(sh.ctx, "serial", "") or ""
    merged["persist.sys.timezone"] = sh.ctx.clock.timezone
    display = sh.ctx.display
    merged.setdefault("ro.sf.lcd_density", merged.get("sim.physical_density", str(display.density)))
    return {k: v for k, v in merged.items() if not k.startswith("sim.")}


@command("getprop")
def getprop(sh: Interp, io: Io, argv: list[str]) -> int:
    _opts, args = options.parse(argv, flags="TZ")
    table = props(sh)
    if args:
        io.out(table.get(args[0], args[1] if len(args) > 1 else "") + "\n")
        return 0
    io.out("".join(f"[{k}]: [{v}]\n" for k, v in sorted(table.items())))
    return 0


@command("setprop")
def setprop(sh: Interp, io: Io, argv: list[str]) -> int:
    if len(argv) != 3:
        raise CommandError("usage: setprop NAME VALUE")
    name, value = argv[1], argv[2]
    if name.startswith("ro.") and name in props(sh):
        raise CommandError(
            f"Failed to set property '{name}' to '{value}'.\nSee dmesg for error reason."
        )
    if name == "persist.sys.timezone":
        try:
            sh.ctx.clock.set_timezone(value)
        except ValueError as exc:
            raise CommandError(f"setprop: {exc}") from None
        return 0
    sh.ctx.props[name] = value
    return 0


@command("id")
def id_(sh: Interp, io: Io, argv: list[str]) -> int:
    flags, _ = options.parse(argv, flags="ungGrZ")
    if flags.get("u") or flags.get("g"):
        io.out("shell\n" if flags.get("n") else "2000\n")
    else:
        io.out(ID_LINE + "\n")
    return 0


# Commands whose answer on this device never changes.
_FIXED_ANSWERS = {
    "whoami": "shell\n",
    "hostname": "localhost\n",
    "nproc": "8\n",
    "getenforce": "Enforcing\n",
}


@command(*_FIXED_ANSWERS)
def fixed_answer(sh: Interp, io: Io, argv: list[str]) -> int:
    io.out(_FIXED_ANSWERS[argv[0].rsplit("/", 1)[-1]])
    return 0


@command("uname")
def uname(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, _ = options.parse(argv, flags="asnrvmpio")
    keys = "snrvmo" if opts.get("a") else "".join(k for k in "snrvmo" if opts.get(k)) or "s"
    if opts.get("p") or opts.get("i"):
        keys += "m"
    io.out(" ".join(UNAME[k] for k in keys) + "\n")
    return 0


@command("uptime")
def uptime(sh: Interp, io: Io, argv: list[str]) -> int:
    now = sh.ctx.clock.now()
    io.out(f" {now:%H:%M:%S} up 0 min,  0 users,  load average: 0.00, 0.00, 0.00\n")
    return 0


# -- date ---------------------------------------------------------------------------
def strftime(when: datetime, fmt: str) -> str:
    """``date +FORMAT``: strftime plus ``%s`` (epoch) and ``%N`` (nanoseconds)."""

    def sub(m: re.Match) -> str:
        code = m.group(1)
        if code == "s":
            return str(int(when.timestamp()))
        if code == "N":
            return f"{when.microsecond * 1000:09d}"
        if code == "%":
            return "%"
        return when.strftime("%" + code)

    return re.sub(r"%([-_0^#]?[A-Za-z%])", sub, fmt)


DATE_DEFAULT = "%a %b %e %H:%M:%S %Z %Y"
_SET_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%H:%M:%S",
    "%H:%M",
    "%a %b %d %H:%M:%S %Z %Y",
)


def parse_date(text: str, now: datetime) -> datetime:
    """The instants toybox ``date -d``/``-s`` accept, in the phone's timezone."""
    t = text.strip()
    if t.startswith("@"):
        try:
            return datetime.fromtimestamp(float(t[1:]), tz=now.tzinfo)
        except ValueError:
            raise CommandError(f"date: bad date '{text}'") from None
    for fmt in _SET_FORMATS:
        try:
            parsed = datetime.strptime(t, fmt)
        except ValueError:
            continue
        if not fmt.startswith("%Y") and not fmt.startswith("%a"):
            parsed = parsed.replace(year=now.year, month=now.month, day=now.day)
        return parsed.replace(tzinfo=now.tzinfo)
    # POSIX MMDDhhmm[[CC]YY][.ss]
    m = re.fullmatch(r"(\d\d)(\d\d)(\d\d)(\d\d)(\d\d(?:\d\d)?)?(?:\.(\d\d))?", t)
    if m:
        mo, dd, hh, mi, yy, ss = m.groups()
        year = now.year if yy is None else (int(yy) + 2000 if len(yy) == 2 else int(yy))
        try:
            return datetime(
                year, int(mo), int(dd), int(hh), int(mi), int(ss or 0), tzinfo=now.tzinfo
            )
        except ValueError:
            pass
    raise CommandError(f"date: bad date '{text}'")


@command("date")
def date(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, rest = options.parse(argv, flags="uRI", valued="dsrD")
    clock = sh.ctx.clock
    now = clock.now()
    fmt = DATE_DEFAULT
    operands = []
    for a in rest:
        if a.startswith("+"):
            fmt = a[1:]
        else:
            operands.append(a)
    when = now
    if isinstance(opts.get("r"), str):
        st = sh.host(str(opts["r"]))
        if not st.exists():
            raise CommandError(f"date: {opts['r']}: No such file or directory")
        when = datetime.fromtimestamp(st.stat().st_mtime, tz=now.tzinfo)
    if isinstance(opts.get("d"), str):
        when = parse_date(str(opts["d"]), now)
    target = (
        opts.get("s") if isinstance(opts.get("s"), str) else (operands[0] if operands else None)
    )
    if target is not None:
        when = parse_date(str(target), now)
        before = clock.now_ms()
        clock.set_ms(int(when.timestamp() * 1000))
        due.clock_set(sh.ctx, before)  # alarms ring, reminders show (emulator/sim/due.py)
        when = clock.now()
    if opts.get("u"):
        when = when.astimezone(UTC)
    if opts.get("R"):
        fmt = "%a, %d %b %Y %H:%M:%S %z"
    if opts.get("I"):
        fmt = "%Y-%m-%d"
    io.out(strftime(when, fmt) + "\n")
    return 0


# -- display -------------------------------------------------------------------------
@command("wm")
def wm(sh: Interp, io: Io, argv: list[str]) -> int:
    args = [a for a in argv[1:]]
    if args[:2] == ["-d", "0"] or (args and args[0] == "-d"):
        args = args[2:]
    if not args or args[0] not in ("size", "density"):
        io.out(
            "Window manager (window) commands:\n"
            "  size [reset|WxH|WdpxHdp]\n  density [reset|DENSITY]\n"
        )
        return 0 if not args else 255
    d = sh.ctx.display
    p = sh.ctx.props
    if args[0] == "size":
        physical = p.get("sim.physical_size", f"{d.width}x{d.height}")
        if len(args) == 1:
            io.out(f"Physical size: {physical}\n")
            if "sim.physical_size" in p and physical != f"{d.width}x{d.height}":
                io.out(f"Override size: {d.width}x{d.height}\n")
            return 0
        if args[1] == "reset":
            w, h = (int(x) for x in physical.split("x"))
            p.pop("sim.physical_size", None)
        else:
            m = re.fullmatch(r"(\d+)x(\d+)", args[1])
            if not m or not (1 <= int(m.group(1)) <= 8192 and 1 <= int(m.group(2)) <= 8192):
                raise CommandError(f"Error: bad size {args[1]}", 255)
            p["sim.physical_size"] = physical
            w, h = int(m.group(1)), int(m.group(2))
        d.width, d.height = w, h
        return 0
    physical_density = p.get("sim.physical_density", str(d.density))
    if len(args) == 1:
        io.out(f"Physical density: {physical_density}\n")
        if "sim.physical_density" in p and physical_density != str(d.density):
            io.out(f"Override density: {d.density}\n")
        return 0
    if args[1] == "reset":
        d.density = int(physical_density)
        p.pop("sim.physical_density", None)
        return 0
    if not args[1].isdigit() or not 72 <= int(args[1]) <= 1200:
        raise CommandError(f"Error: bad density {args[1]}", 255)
    p["sim.physical_density"] = physical_density
    d.density = int(args[1])
    return 0


# -- settings --------------------------------------------------------------------------
_NAMESPACES = ("system", "secure", "global")


def apply_setting_side_effects(sh: Interp, ns: str, name: str, value: str | None) -> None:
    """What writing a setting does beyond storing it: the clock follows ``auto_time`` (1:
    run from here) and ``sim_clock_speed`` (the virtual phone's own key: world seconds per
    second while it runs; deleted, 1; a value that is no speed changes nothing, as Android
    stores any string)."""
    if ns == "global" and name == "auto_time" and value in ("0", "1"):
        sh.ctx.clock.set_running(value == "1")
    if ns == "global" and name == "sim_clock_speed":
        with contextlib.suppress(ValueError):
            sh.ctx.clock.set_speed(1.0 if value is None else float(value))


@command("settings")
def settings(sh: Interp, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    while args and args[0] in ("--user", "--lineage"):
        args = args[2:] if args[0] == "--user" else args[1:]
    if len(args) < 2:
        io.err("usage:  settings [--user <USER_ID> | current] get namespace key\n")
        return 255
    verb, ns = args[0], args[1]
    if ns not in _NAMESPACES:
        raise CommandError(f"Invalid namespace '{ns}'", 255)
    prov = sh.ctx.providers
    rest = args[2:]
    if verb == "get":
        if not rest:
            raise CommandError("Invalid command: get needs a key", 255)
        value = prov.setting(ns, rest[0])
        io.out(("null" if value is None else value) + "\n")
    elif verb == "put":
        if len(rest) < 2:
            raise CommandError("Invalid command: put needs a key and a value", 255)
        prov.put_setting(ns, rest[0], rest[1])
        apply_setting_side_effects(sh, ns, rest[0], rest[1])
    elif verb == "delete":
        if not rest:
            raise CommandError("Invalid command: delete needs a key", 255)
        n = prov.delete_setting(ns, rest[0])
        apply_setting_side_effects(sh, ns, rest[0], None)
        io.out(f"Deleted {n} rows\n")
    elif verb == "list":
        rows = prov.query(f"content://settings/{ns}", ["name", "value"], sort="name")
        io.out(
            "".join(f"{r['name']}={'null' if r['value'] is None else r['value']}\n" for r in rows)
        )
    else:
        raise CommandError(f"Invalid command: {verb}", 255)
    return 0


@command("svc")
def svc(sh: Interp, io: Io, argv: list[str]) -> int:
    keys = {"wifi": "wifi_on", "data": "mobile_data", "bluetooth": "bluetooth_on"}
    if len(argv) >= 3 and argv[1] in keys and argv[2] in ("enable", "disable"):
        sh.ctx.providers.put_setting("global", keys[argv[1]], "1" if argv[2] == "enable" else "0")
        return 0
    if len(argv) >= 3 and argv[1] == "power" and argv[2] == "stayon":
        return 0
    io.out("Available commands:\n    data\n    wifi\n    bluetooth\n    power\n")
    return 0 if len(argv) == 1 else 1


@command("cmd")
def cmd(sh: Interp, io: Io, argv: list[str]) -> int:
    if len(argv) < 2:
        raise CommandError("cmd: No service specified; use -l to list all running services", 20)
    service = argv[1]
    aliases = {
        "package": "pm",
        "activity": "am",
        "settings": "settings",
        "window": "wm",
        "input": "input",
    }
    if service in aliases and aliases[service] in sh.commands:
        return sh.invoke([aliases[service], *argv[2:]], io)
    if service == "wifi" and len(argv) >= 4 and argv[2] == "set-wifi-enabled":
        sh.ctx.providers.put_setting("global", "wifi_on", "1" if argv[3] == "enabled" else "0")
        return 0
    raise CommandError(f"cmd: Can't find service: {service}", 20)


# -- processes and logs -------------------------------------------------------------
def processes(sh: Interp) -> list[tuple[str, int, int, str]]:
    """``(user, pid, ppid, name)`` of the processes a phone shows."""
    rows = [
        ("root", 1, 0, "init"),
        ("root", 312, 1, "zygote64"),
        ("system", 540, 312, "system_server"),
        ("u0_a143", 781, 312, "com.android.systemui"),
        ("u0_a120", 1210, 312, "com.android.launcher3"),
    ]
    ui = sh.ctx.ui
    if ui is not None:
        try:
            pkg, _act = ui.focus()
        except Exception:
            pkg = ""
        if pkg and pkg not in {r[3] for r in rows}:
            rows.append(("u0_a150", 2000 + (sum(map(ord, pkg)) % 7000), 312, pkg))
    rows.append(("shell", 4242, 1, "sh"))
    return rows


@command("ps")
def ps(sh: Interp, io: Io, argv: list[str]) -> int:
    rows = processes(sh)
    show_all = any(a in ("-A", "-e", "-ef", "aux") for a in argv[1:])
    if not show_all:
        rows = [r for r in rows if r[0] == "shell"]
    rows.append(("shell", 4300, 4242, "ps"))
    out = ["USER           PID  PPID     VSZ    RSS WCHAN            ADDR S NAME\n"]
    for user, pid, ppid, name in rows:
        out.append(f"{user:<10} {pid:>8} {ppid:>5} 1234567  12345 0                   0 S {name}\n")
    io.out("".join(out))
    return 0


@command("pidof")
def pidof(sh: Interp, io: Io, argv: list[str]) -> int:
    pids = [str(pid) for _u, pid, _pp, name in processes(sh) if name in argv[1:]]
    if pids:
        io.out(" ".join(pids) + "\n")
    return 0 if pids else 1


@command("kill", "killall")
def kill(sh: Interp, io: Io, argv: list[str]) -> int:
    targets = [a for a in argv[1:] if not a.startswith("-")]
    known = {str(pid): name for _u, pid, _pp, name in processes(sh)}
    status = 0
    for t in targets:
        name = known.get(t) if argv[0] == "kill" else (t if t in known.values() else None)
        if name is None:
            io.err(f"{argv[0]}: pid {t}: No such process\n")
            status = 1
        elif sh.ctx.ui is not None and "." in name and name != "com.android.systemui":
            sh.ctx.ui.force_stop(name)
    return status


@command("logcat")
def logcat(sh: Interp, io: Io, argv: list[str]) -> int:
    """The phone's system log in ``threadtime`` layout: ``-c`` clears it, ``-t N`` keeps the
    last N entries, filterspecs ``TAG:LEVEL`` (``*:W`` for every tag; a bare ``TAG`` is
    ``TAG:V``) set the lowest level per tag, and ``-s`` makes untagged ones silent (``*:S``),
    so ``logcat -s AlarmClock`` shows that tag alone. Without ``-d`` a phone would follow the
    log for ever; this one prints what it has and returns, so a caller that forgot ``-d``
    does not hang."""
    buf = sh.ctx.log
    tail: int | None = None
    default = "V"
    tags: dict[str, str] = {}
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-c":
            if buf is not None:
                buf.clear()
            return 0
        if a == "-s":
            default = "S"
            i += 1
            continue
        if a in ("-t", "-T", "-v", "-b"):
            if i + 1 >= len(args):
                io.err(f"logcat: option {a} needs an argument\n")
                return 1
            if a in ("-t", "-T"):
                try:
                    tail = int(args[i + 1])
                except ValueError:
                    io.err(f"logcat: -t {args[i + 1]!r}: not a count\n")
                    return 1
            i += 2
            continue
        if not a.startswith("-"):
            tag, _, level = a.partition(":")
            level = (level or "V").upper()[:1]
            if level not in "VDIWEFS":
                io.err(f"logcat: invalid filter expression {a!r}\n")
                return 1
            if tag == "*":
                default = level
            else:
                tags[tag] = level
        i += 1
    if buf is not None:
        io.out(buf.dump(tail=tail, min_level=default, tags=tags))
    return 0


@command("df")
def df(sh: Interp, io: Io, argv: list[str]) -> int:
    io.out(
        "Filesystem      1K-blocks    Used Available Use% Mounted on\n"
        "/dev/block/dm-5   6082212 1048576   5033636  18% /data\n"
        "/dev/fuse         6082212 1048576   5033636  18% /storage/emulated\n"
    )
    return 0


# -- input methods -----------------------------------------------------------------------
LATIN_IME = "com.android.inputmethod.latin/.LatinIME"


def _ime_ids(sh: Interp) -> list[str]:
    """Input methods the phone has: the stock keyboard (no other IME is installed)."""
    return [LATIN_IME]


@command("ime")
def ime(sh: Interp, io: Io, argv: list[str]) -> int:
    prov = sh.ctx.providers
    args = [a for a in argv[1:] if a not in ("--user", "current", "0")]
    if not args:
        io.out("ime <command>:\n  list [-a] [-s]\n  enable ID\n  disable ID\n  set ID\n")
        return 0
    verb, rest = args[0], [a for a in args[1:] if not a.startswith("-")]
    enabled = [x for x in (prov.setting("secure", "enabled_input_methods") or "").split(":") if x]
    if verb == "list":
        ids = _ime_ids(sh) if "-a" in args else [i for i in _ime_ids(sh) if i in enabled]
        if "-s" in args:
            io.out("".join(f"{i}\n" for i in ids))
        else:
            io.out("".join(f"{i}:\n  mId={i} mSettingsActivity=null\n" for i in ids))
        return 0
    if verb in ("enable", "disable", "set") and not rest:
        raise CommandError(f"Error: no input method given to ime {verb}", 255)
    target = rest[0] if rest else ""
    if verb in ("enable", "disable", "set") and target not in _ime_ids(sh):
        io.err(f"Unknown input method {target} cannot be {verb}d for user #0\n")
        return 255
    if verb == "enable":
        if target in enabled:
            io.out(f"Input method {target}: already enabled for user #0\n")
        else:
            prov.put_setting("secure", "enabled_input_methods", ":".join([*enabled, target]))
            io.out(f"Input method {target}: now enabled for user #0\n")
        return 0
    if verb == "disable":
        prov.put_setting(
            "secure", "enabled_input_methods", ":".join(x for x in enabled if x != target)
        )
        io.out(f"Input method {target}: now disabled for user #0\n")
        return 0
    if verb == "set":
        prov.put_setting("secure", "default_input_method", target)
        io.out(f"Input method {target} selected for user #0\n")
        return 0
    if verb == "reset":
        prov.put_setting("secure", "default_input_method", LATIN_IME)
        io.out(f"Reset input method for user #0\n  Selected: {LATIN_IME}\n")
        return 0
    raise CommandError(f"Unknown command: {verb}", 255)
