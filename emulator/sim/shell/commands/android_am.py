"""``am`` and ``monkey``: starting apps the way clients and agents do, with Android's output."""

from __future__ import annotations

import zlib

from emulator.sim.shell.commands import command
from emulator.sim.shell.commands.android_pm import installed
from emulator.sim.shell.interp import CommandError, Interp, Io
from emulator.sim.sync import SYNC_ACTION

# Intent actions whose handler is found by what the app does (package name fragment).
_ACTION_HANDLERS = {
    "android.settings": "settings",
    "android.intent.action.DIAL": "dialer",
    "android.intent.action.CALL": "dialer",
    "android.intent.action.SENDTO": "messaging",
    "android.intent.action.INSERT": "contacts",
    "android.intent.action.SET_ALARM": "deskclock",
    "android.intent.action.SHOW_ALARMS": "deskclock",
}


def short_activity(package: str, activity: str) -> str:
    """``com.x.app.Main`` in package ``com.x.app`` prints as ``.Main``."""
    return activity[len(package) :] if activity.startswith(package + ".") else activity


def full_activity(package: str, activity: str) -> str:
    return package + activity if activity.startswith(".") else activity


def record_id(text: str) -> str:
    """A stable hex id for ``ActivityRecord{…}``/``Window{…}`` lines."""
    return f"{zlib.crc32(text.encode()) & 0xFFFFFFF:07x}"


def _need_ui(sh: Interp, name: str) -> object:
    if sh.ctx.ui is None:
        raise CommandError(f"{name}: this phone has no UI attached", 1)
    return sh.ctx.ui


def _intent(args: list[str]) -> tuple[dict[str, object], list[str]]:
    """Parse ``am start`` intent options; returns the intent and the leftover flags."""
    intent: dict[str, object] = {"cat": []}
    flags: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        if a in ("-n", "-a", "-d", "-t", "-f", "-p") and nxt is not None:
            intent[
                {"-n": "cmp", "-a": "act", "-d": "dat", "-t": "typ", "-f": "flg", "-p": "pkg"}[a]
            ] = nxt
            i += 2
        elif a == "-c" and nxt is not None:
            intent["cat"].append(nxt)  # type: ignore[union-attr]
            i += 2
        elif a in (
            "--es",
            "--ei",
            "--ez",
            "--el",
            "--ef",
            "--eu",
            "--user",
            "--display",
            "-e",
            "--activity-clear-task",
            "--windowingMode",
        ):
            i += 3 if a in ("--es", "--ei", "--ez", "--el", "--ef", "--eu", "-e") else 2
        elif a.startswith("-"):
            flags.append(a)
            i += 1
        else:
            if "/" in a and "cmp" not in intent:
                intent["cmp"] = a
            elif "dat" not in intent and ":" in a:
                intent["dat"] = a
            elif "pkg" not in intent:
                intent["pkg"] = a
            i += 1
    return intent, flags


def describe(intent: dict[str, object]) -> str:
    parts = []
    if intent.get("act"):
        parts.append(f"act={intent['act']}")
    if intent.get("cat"):
        parts.append("cat=[" + ",".join(intent["cat"]) + "]")  # type: ignore[arg-type]
    if intent.get("dat"):
        parts.append(f"dat={intent['dat']}")
    if intent.get("typ"):
        parts.append(f"typ={intent['typ']}")
    if intent.get("flg"):
        parts.append(f"flg={intent['flg']}")
    if intent.get("pkg"):
        parts.append(f"pkg={intent['pkg']}")
    if intent.get("cmp"):
        pkg, _, act = str(intent["cmp"]).partition("/")
        parts.append(f"cmp={pkg}/{short_activity(pkg, full_activity(pkg, act))}")
    return "Intent { " + " ".join(parts) + " }"


def _resolve(sh: Interp, intent: dict[str, object]) -> tuple[str, str | None] | None:
    """The ``(package, activity)`` an intent starts, or None when nothing handles it."""
    if intent.get("cmp"):
        pkg, _, act = str(intent["cmp"]).partition("/")
        return pkg, full_activity(pkg, act) if act else None
    if intent.get("pkg"):
        return str(intent["pkg"]), None
    action = str(intent.get("act") or "")
    names = [p for p, _ in installed(sh)]
    if action == "android.intent.action.MAIN" and "android.intent.category.HOME" in intent["cat"]:  # type: ignore[operator]
        hit = next((p for p in names if "launcher" in p), None)
        return (hit, None) if hit else None
    for prefix, fragment in _ACTION_HANDLERS.items():
        if action.startswith(prefix):
            hit = next((p for p in names if fragment in p), None)
            return (hit, None) if hit else None
    return None


@command("am")
def am(sh: Interp, io: Io, argv: list[str]) -> int:
    if len(argv) < 2:
        io.out(
            "Activity manager (activity) commands:\n  start [-W] [-S] [-n COMPONENT] "
            "[-a ACTION] [-d DATA] [-c CATEGORY]\n  force-stop PACKAGE\n"
            "  broadcast [-a ACTION] ...\n"
        )
        return 0
    verb, rest = argv[1], argv[2:]
    if verb in ("start", "start-activity"):
        return _start(sh, io, rest)
    if verb in ("force-stop", "kill", "stop-app"):
        pkgs = [a for a in rest if not a.startswith("-")]
        if not pkgs:
            raise CommandError(f"Error: no package specified for {verb}", 255)
        ui = sh.ctx.ui
        if ui is not None:
            ui.force_stop(pkgs[-1])
        return 0
    if verb == "broadcast":
        intent, _flags = _intent(rest)
        intent.setdefault("flg", "0x400000")
        io.out(f"Broadcasting: {describe(intent)}\n")
        sync = getattr(sh.ctx, "sync", None)
        if intent.get("act") == SYNC_ACTION and sync is not None:
            # The accounts' sync adapters run before the broadcast completes; a failed
            # sync is result=1 with the reason, as an ordered broadcast's result data.
            errors = {k: e for k, e in sync.sync_all().items() if e}
            if errors:
                data = "; ".join(f"{k}: {e}" for k, e in errors.items())
                io.out(f'Broadcast completed: result=1, data="{data}"\n')
                return 0
        io.out("Broadcast completed: result=0\n")
        return 0
    if verb == "get-current-user":
        io.out("0\n")
        return 0
    if verb in ("start-service", "startservice", "start-foreground-service"):
        intent, _flags = _intent(rest)
        io.out(f"Starting service: {describe(intent)}\n")
        io.err("Error: Not found; no service started.\n")
        return 255
    raise CommandError(f"Unknown command: {verb}", 255)


def _start(sh: Interp, io: Io, args: list[str]) -> int:
    ui = _need_ui(sh, "am")
    intent, flags = _intent(args)
    if not any(intent.get(k) for k in ("cmp", "act", "dat", "pkg")):
        raise CommandError("Error: Intent does not match any activities: Intent {  }", 255)
    io.out(f"Starting: {describe(intent)}\n")
    target = _resolve(sh, intent)
    if target is None:
        io.err(f"Error: Activity not started, unable to resolve {describe(intent)}\n")
        return 255
    pkg, activity = target
    if "-S" in flags:
        ui.force_stop(pkg)  # type: ignore[attr-defined]
    if not ui.start(pkg, activity):  # type: ignore[attr-defined]
        shown = activity or pkg
        io.err(f"Error type 3\nError: Activity class {{{pkg}/{shown}}} does not exist.\n")
        return 255
    if "-W" in flags:
        fpkg, fact = ui.focus()  # type: ignore[attr-defined]
        io.out(
            "Status: ok\nLaunchState: COLD\n"
            f"Activity: {fpkg}/{short_activity(fpkg, fact)}\n"
            "TotalTime: 120\nWaitTime: 125\nComplete\n"
        )
    return 0


@command("monkey")
def monkey(sh: Interp, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    packages: list[str] = []
    categories: list[str] = []
    count = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-p" and i + 1 < len(args):
            packages.append(args[i + 1])
            i += 2
        elif a == "-c" and i + 1 < len(args):
            categories.append(args[i + 1])
            i += 2
        elif a in (
            "-s",
            "--throttle",
            "--pct-touch",
            "--pct-motion",
            "--pct-syskeys",
            "--pct-appswitch",
        ) and i + 1 < len(args):
            i += 2
        elif a.startswith("-"):
            i += 1
        else:
            count = a
            i += 1
    if count is None or not count.isdigit():
        io.err(
            "** Error: Count not specified\nusage: monkey [-p ALLOWED_PACKAGE [-p ...]] "
            "[-c MAIN_CATEGORY [-c ...]] COUNT\n"
        )
        return 1
    out = [f"  bash arg: {a}\n" for a in args]
    out.append("args: [" + ", ".join(args) + "]\n")
    out += [f' arg: "{a}"\n' for a in args]
    out += [f'data="{d}"\n' for d in [*packages, *categories]]
    io.out("".join(out))
    ui = sh.ctx.ui
    names = {p for p, _ in installed(sh)}
    target = next((p for p in packages if p in names), None)
    if ui is None or target is None or not ui.start(target, None):
        io.err("** No activities found to run, monkey aborted.\n")
        return 252
    io.out(
        f"Events injected: {count}\n"
        "## Network stats: elapsed time=15ms (0ms mobile, 0ms wifi, 15ms not connected)\n"
    )
    return 0
