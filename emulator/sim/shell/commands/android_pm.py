"""``pm`` (and ``cmd package``): installed packages, their paths, clearing app data."""

from __future__ import annotations

import zlib

from emulator.sim import packages
from emulator.sim.shell.commands import command, options
from emulator.sim.shell.interp import CommandError, Interp, Io

# Packages a phone has even with no UI attached (the providers live in these).
BASE_PACKAGES = [
    ("android", "/system/framework/framework-res.apk"),
    ("com.android.shell", "/system/priv-app/Shell/Shell.apk"),
    ("com.android.providers.contacts", "/system/priv-app/ContactsProvider/ContactsProvider.apk"),
    ("com.android.providers.telephony", "/system/priv-app/TelephonyProvider/TelephonyProvider.apk"),
    ("com.android.providers.calendar", "/system/priv-app/CalendarProvider/CalendarProvider.apk"),
    ("com.android.providers.settings", "/system/priv-app/SettingsProvider/SettingsProvider.apk"),
]

# Clearing one of these wipes a provider's database, as `pm clear` does on a phone.
PROVIDER_PACKAGES = {
    "com.android.providers.contacts",
    "com.android.providers.telephony",
    "com.android.providers.calendar",
    "com.android.providers.settings",
}


def installed(sh: Interp) -> list[tuple[str, str]]:
    """``(package, apk path)`` pairs, the UI's apps first, then ``pm install``-ed ones,
    without duplicates."""
    seen: dict[str, str] = {}
    ui_pkgs = sh.ctx.ui.packages() if sh.ctx.ui is not None else []
    added = [(p.package, p.path) for p in packages.installed(sh.vfs).values()]
    removed = packages.removed_for_user(sh.vfs)
    for pkg, path in [*ui_pkgs, *BASE_PACKAGES, *added]:
        if pkg not in removed:
            seen.setdefault(pkg, path)
    return list(seen.items())


def is_system(path: str) -> bool:
    return not path.startswith("/data/")


def _unknown(verb: str, pkg: str) -> CommandError:
    return CommandError(
        f"Exception occurred while executing '{verb}':\n"
        f"java.lang.IllegalArgumentException: Unknown package: {pkg}",
        255,
    )


@command("pm")
def pm(sh: Interp, io: Io, argv: list[str]) -> int:
    if len(argv) < 2:
        io.out(
            "Package manager (package) commands:\n  list packages [-f] [-3] [-s] [FILTER]\n"
            "  path PACKAGE\n  clear PACKAGE\n  grant PACKAGE PERMISSION\n"
        )
        return 0
    verb, rest = argv[1], argv[2:]
    pkgs = installed(sh)
    paths = dict(pkgs)
    if verb == "list":
        if not rest or rest[0] not in ("packages", "package"):
            raise CommandError(f"Error: unknown list type '{rest[0] if rest else ''}'", 255)
        opts, filt = options.parse(
            ["pm list", *rest[1:]],
            flags="f3sdeUuiaAl",
            valued="",
            long={"user": "user", "show-versioncode": "V"},
        )
        out = []
        for pkg, path in sorted(pkgs):
            if (opts.get("3") and is_system(path)) or (opts.get("s") and not is_system(path)):
                continue
            if opts.get("d"):
                continue
            if filt and filt[0] not in pkg:
                continue
            line = f"package:{path}={pkg}" if opts.get("f") else f"package:{pkg}"
            if opts.get("U"):
                line += f" uid:10{zlib.crc32(pkg.encode()) % 1000:03d}"
            out.append(line + "\n")
        io.out("".join(out))
        return 0
    if verb == "path":
        if not rest:
            raise CommandError("Error: no package specified", 255)
        pkg = rest[-1]
        if pkg not in paths:
            return 1
        io.out(f"package:{paths[pkg]}\n")
        return 0
    if verb == "clear":
        pkg = next((a for a in rest if not a.startswith("-") and not a.isdigit()), None)
        if pkg is None:
            raise CommandError("Error: no package specified", 255)
        if pkg not in paths:
            io.out("Failed\n")
            return 1
        _clear(sh, pkg)
        io.out("Success\n")
        return 0
    if verb in (
        "grant",
        "revoke",
        "enable",
        "disable",
        "disable-user",
        "hide",
        "unhide",
        "set-permission-flags",
        "reset-permissions",
        "suspend",
        "unsuspend",
    ):
        pkg = next((a for a in rest if not a.startswith("-") and not a.isdigit()), None)
        if verb != "reset-permissions" and pkg is None:
            raise CommandError(f"Error: no package specified for {verb}", 255)
        if pkg is not None and pkg not in paths:
            raise _unknown(verb, pkg)
        if verb in ("enable", "disable", "disable-user"):
            state = (
                "enabled"
                if verb == "enable"
                else "disabled-user"
                if verb == "disable-user"
                else "disabled"
            )
            io.out(f"Package {pkg} new state: {state}\n")
        return 0
    if verb == "dump":
        if not rest or rest[0] not in paths:
            return 0
        return sh.invoke(["dumpsys", "package", rest[0]], io)
    if verb == "install":
        return _install(sh, io, rest)
    if verb == "uninstall":
        pkg = next(
            (
                a
                for i, a in enumerate(rest)
                if not a.startswith("-") and rest[i - 1 : i] != ["--user"]
            ),
            None,
        )
        if pkg is None:
            raise CommandError("Error: package name not specified", 255)
        if "--user" in rest and pkg not in packages.installed(sh.vfs):
            # A system app is removed for the user only (it stays on /system), as on a phone.
            if pkg not in dict(installed(sh)):
                io.out("Failure [not installed for 0]\n")
                return 1
            packages.remove_for_user(sh.vfs, pkg)
        elif not packages.uninstall(sh.vfs, pkg):
            io.out("Failure [DELETE_FAILED_INTERNAL_ERROR]\n")
            return 1
        _log(sh, f"uninstalled {pkg}")
        io.out("Success\n")
        return 0
    if verb in ("install-create", "install-multiple"):
        raise CommandError(
            f"Error: `pm {verb}` is not supported: the virtual phone installs one APK "
            "by path (pm install PATH)",
            1,
        )
    raise CommandError(f"Unknown command: {verb}", 255)


def _clear(sh: Interp, pkg: str) -> None:
    """Remove an app's private data (``/data/data/PKG``); providers lose their databases."""
    if pkg in PROVIDER_PACKAGES:
        close = getattr(sh.ctx.providers, "close", None)
        if close is not None:
            close()
    base = f"/data/data/{pkg}"
    if sh.vfs.exists(base):
        for name in sh.vfs.listdir(base):
            sh.vfs.remove(f"{base}/{name}", recursive=True)
    if sh.ctx.ui is not None:
        sh.ctx.ui.force_stop(pkg)


def _install(sh: Interp, io: Io, rest: list[str]) -> int:
    """``pm install [-r] [-t] [-g] [-d] PATH``: ``Success``, or ``Failure [CODE: why]``."""
    paths = [a for a in rest if not a.startswith("-")]
    if len(paths) != 1:
        raise CommandError("Error: pm install takes one APK path", 255)
    path = sh.path(paths[0])
    if not sh.vfs.exists(path):
        io.out(f"Failure [INSTALL_FAILED_INVALID_URI: Unable to open file: {paths[0]}]\n")
        return 1
    try:
        entry = packages.install(sh.vfs, sh.vfs.read_bytes(path), allow_downgrade="-d" in rest)
    except packages.ApkInvalid as exc:
        io.out(f"Failure [INSTALL_PARSE_FAILED_NOT_APK: {exc}]\n")
        return 1
    except PermissionError as exc:
        io.out(f"Failure [{exc}]\n")
        return 1
    _log(sh, f"installed {entry.package} versionCode={entry.version_code}")
    io.out("Success\n")
    return 0


def _log(sh: Interp, message: str) -> None:
    if sh.ctx.log is not None:
        sh.ctx.log.i("PackageManager", message)
