"""APKs a device must have (``[android] apks``), installed at allocate unless the device
already has that version.

The version is read from the APK's own manifest (pyaxmlparser) and from the device's
package manager (``dumpsys package``); the install is the one every device has: push,
then ``pm install -r -t``, then ``dumpsys package`` again to prove it took.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from emulator.errors import DeviceUnfit

_VERSION = re.compile(r"versionCode=(\d+)")
STAGING = "/data/local/tmp/clawrig-install.apk"


@dataclass(frozen=True)
class ApkInfo:
    path: Path
    package: str
    version_code: int
    version_name: str


@dataclass(frozen=True)
class ApkResult:
    apk: ApkInfo
    action: Literal["installed", "skipped"]
    had: int | None  # the device's versionCode before, None when not installed


def read_apk(path: Path | str) -> ApkInfo:
    """Package name and version from an APK's manifest; a clear error for anything else."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DeviceUnfit(f"[android] apks: {path} does not exist")
    try:
        from pyaxmlparser import APK

        apk = APK(str(path))
        package, code, name = apk.package, apk.version_code, apk.version_name or ""
    except Exception as exc:
        raise DeviceUnfit(f"[android] apks: {path} is not a readable APK: {exc}") from exc
    if not package or code is None or not str(code).isdigit():
        raise DeviceUnfit(f"[android] apks: {path}: manifest gives no package and versionCode")
    return ApkInfo(path, str(package), int(code), str(name))


def device_version(device: Any, package: str) -> int | None:
    """The installed ``versionCode`` of ``package`` (``dumpsys package``), None if absent."""
    if not device.has_package(package):
        return None
    out = device.shell(f"dumpsys package {shlex.quote(package)}", timeout=60).stdout
    found = _VERSION.search(out)
    return int(found.group(1)) if found else None


def install_apks(device: Any, paths: list[Path]) -> list[ApkResult]:
    """Install every APK of ``paths`` the device lacks at that version, in order."""
    results = []
    for path in paths:
        info = read_apk(path)
        had = device_version(device, info.package)
        if had == info.version_code:
            results.append(ApkResult(info, "skipped", had))
            continue
        device.push(info.path, STAGING)
        out = device.shell(f"pm install -r -t {STAGING}; rm -f {STAGING}", timeout=300)
        text = (out.stdout + out.stderr).strip()
        now = device_version(device, info.package)
        if "Success" not in text or now != info.version_code:
            raise DeviceUnfit(
                f"{device.serial}: installing {info.path.name} ({info.package} "
                f"versionCode {info.version_code}) failed: {text[:300] or 'no output'}; "
                f"the device now has versionCode {now}"
            )
        results.append(ApkResult(info, "installed", had))
    return results
