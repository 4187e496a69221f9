"""Installed APKs of the virtual phone: what ``pm install`` adds and ``dumpsys package`` shows.

A real package manager parses the APK's binary manifest for its package name and
version; so does this one (with pyaxmlparser), and it keeps the APK at
``/data/app/PKG-1/base.apk`` and its record in ``/data/system/packages.json`` inside
the phone's own filesystem, so an installed app survives a restart. Nothing of the
APK runs: an installed package is listed, versioned and removable, not launchable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

REGISTRY = "/data/system/packages.json"


@dataclass(frozen=True)
class Installed:
    package: str
    version_code: int
    version_name: str
    path: str


class ApkInvalid(ValueError):
    """The file is not an APK whose manifest names a package and a version."""


def parse_apk(data: bytes) -> tuple[str, int, str]:
    """``(package, versionCode, versionName)`` from an APK's bytes."""
    try:
        from pyaxmlparser import APK
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise ApkInvalid(f"the phone cannot read APKs: {exc}") from exc
    try:
        apk = APK(data, raw=True)
        package = apk.package
        code = apk.version_code
        name = apk.version_name or ""
    except Exception as exc:
        raise ApkInvalid(f"{type(exc).__name__}: {exc}") from exc
    if not package or code is None or not str(code).isdigit():
        raise ApkInvalid(f"manifest names package {package!r}, versionCode {code!r}")
    return str(package), int(code), str(name)


def installed(vfs: Any) -> dict[str, Installed]:
    if not vfs.exists(REGISTRY):
        return {}
    raw = json.loads(vfs.read_bytes(REGISTRY).decode("utf-8"))
    return {
        pkg: Installed(pkg, int(r["versionCode"]), r["versionName"], r["path"])
        for pkg, r in raw.items()
    }


def _save(vfs: Any, packages: dict[str, Installed]) -> None:
    data = {
        p.package: {"versionCode": p.version_code, "versionName": p.version_name, "path": p.path}
        for p in packages.values()
    }
    vfs.mkdir("/data/system")
    vfs.write_bytes(REGISTRY, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"), 0o600)


def install(vfs: Any, data: bytes, allow_downgrade: bool = False) -> Installed:
    """Install (or replace) the APK ``data``; raises :class:`ApkInvalid` or ``PermissionError``
    (a downgrade without ``-d``) with the ``Failure [...]`` code a phone prints."""
    package, code, name = parse_apk(data)
    packages = installed(vfs)
    old = packages.get(package)
    if old is not None and old.version_code > code and not allow_downgrade:
        raise PermissionError(
            f"INSTALL_FAILED_VERSION_DOWNGRADE: Downgrade detected: Update version code {code} "
            f"is older than current {old.version_code}"
        )
    folder = f"/data/app/{package}-1"
    vfs.mkdir(folder)
    vfs.write_bytes(f"{folder}/base.apk", data, 0o644)
    packages[package] = Installed(package, code, name, f"{folder}/base.apk")
    _save(vfs, packages)
    return packages[package]


def uninstall(vfs: Any, package: str) -> bool:
    packages = installed(vfs)
    entry = packages.pop(package, None)
    if entry is None:
        return False
    folder = entry.path.rsplit("/", 1)[0]
    if vfs.exists(folder):
        vfs.remove(folder, recursive=True)
    _save(vfs, packages)
    return True


HIDDEN = "/data/system/removed-for-user.json"


def removed_for_user(vfs: Any) -> set[str]:
    """System packages ``pm uninstall --user 0`` removed for the user (still on /system)."""
    if not vfs.exists(HIDDEN):
        return set()
    return set(json.loads(vfs.read_bytes(HIDDEN).decode("utf-8")))


def remove_for_user(vfs: Any, package: str) -> None:
    gone = removed_for_user(vfs) | {package}
    vfs.mkdir("/data/system")
    vfs.write_bytes(HIDDEN, json.dumps(sorted(gone)).encode("utf-8"), 0o600)
