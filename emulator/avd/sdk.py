"""The Android SDK: where it is, the AVDs it has, creating one from an installed image."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from emulator.errors import (
    AndroidError,
    SdkNotFound,
)


# -- the SDK ----------------------------------------------------------------------------
@dataclass
class Sdk:
    root: Path
    emulator: Path
    adb: Path | None
    avdmanager: Path | None
    avd_home: Path

    def env(self) -> dict[str, str]:
        """Environment the SDK tools run with (so they and we agree on the AVD home)."""
        env = dict(os.environ)
        env["ANDROID_HOME"] = str(self.root)
        env["ANDROID_SDK_ROOT"] = str(self.root)
        env["ANDROID_AVD_HOME"] = str(self.avd_home)
        return env


def avd_home() -> Path:
    """Where AVDs live, resolved as the SDK tools do."""
    if os.environ.get("ANDROID_AVD_HOME"):
        return Path(os.environ["ANDROID_AVD_HOME"])
    if os.environ.get("ANDROID_EMULATOR_HOME"):
        return Path(os.environ["ANDROID_EMULATOR_HOME"]) / "avd"
    if os.environ.get("ANDROID_SDK_HOME"):
        return Path(os.environ["ANDROID_SDK_HOME"]) / ".android" / "avd"
    return Path.home() / ".android" / "avd"


def find_sdk(explicit: Path | None = None) -> Sdk:
    """The SDK from ``explicit`` (config ``android.avd.sdk``), ``$ANDROID_HOME`` or
    ``$ANDROID_SDK_ROOT``; :class:`SdkNotFound` says what is missing."""
    root: Path | None = Path(explicit).expanduser() if explicit else None
    if root is None:
        for var in ("ANDROID_HOME", "ANDROID_SDK_ROOT"):
            if os.environ.get(var):
                root = Path(os.environ[var])
                break
    if root is None:
        raise SdkNotFound(
            "no Android SDK: set ANDROID_HOME (or android.avd.sdk in rig.toml), "
            "or use the virtual phone (devices.android = 'sim')"
        )
    emulator = root / "emulator" / "emulator"
    if not (emulator.is_file() and os.access(emulator, os.X_OK)):
        raise SdkNotFound(
            f"{root}: no executable emulator/emulator (install the 'emulator' package)"
        )
    adb = root / "platform-tools" / "adb"
    managers = sorted(root.glob("cmdline-tools/*/bin/avdmanager"))
    latest = [m for m in managers if m.parent.parent.name == "latest"]
    return Sdk(
        root=root,
        emulator=emulator,
        adb=adb if adb.is_file() else None,
        avdmanager=(latest or managers or [None])[-1],
        avd_home=avd_home(),
    )


def _read_ini(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            out[key.strip()] = value.strip()
    return out


def list_avds(sdk: Sdk) -> list[str]:
    return sorted(p.stem for p in sdk.avd_home.glob("*.ini")) if sdk.avd_home.is_dir() else []


def avd_dir(sdk: Sdk, name: str) -> Path:
    """The ``NAME.avd`` folder of an AVD (from ``NAME.ini``'s ``path``)."""
    ini = sdk.avd_home / f"{name}.ini"
    if not ini.is_file():
        known = ", ".join(list_avds(sdk)) or "none"
        raise SdkNotFound(f"no AVD named {name!r} in {sdk.avd_home} (AVDs: {known})")
    info = _read_ini(ini)
    path = Path(info.get("path", "")) if info.get("path") else sdk.avd_home / f"{name}.avd"
    if not path.is_absolute():
        path = sdk.avd_home / path
    if not (path / "config.ini").is_file():
        raise SdkNotFound(f"AVD {name!r}: {path}/config.ini is missing")
    return path


def avd_config(sdk: Sdk, name: str) -> dict[str, str]:
    return _read_ini(avd_dir(sdk, name) / "config.ini")


def has_snapshot(sdk: Sdk, name: str, snapshot: str) -> bool:
    return (avd_dir(sdk, name) / "snapshots" / snapshot).is_dir()


def installed_images(sdk: Sdk) -> list[str]:
    """Installed system images as sdkmanager package ids (``system-images;android-34;…``)."""
    base = sdk.root / "system-images"
    if not base.is_dir():
        return []
    return sorted(
        "system-images;" + ";".join(p.parent.relative_to(base).parts)
        for p in base.glob("*/*/*/source.properties")
    )


def create_avd(
    sdk: Sdk, name: str, image: str, device: str | None = None, force: bool = False
) -> Path:
    """Create AVD ``name`` from an installed system image (``avdmanager create avd``)."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise AndroidError(f"AVD name {name!r}: use letters, digits, '.', '_' and '-'")
    if name in list_avds(sdk) and not force:
        return avd_dir(sdk, name)
    images = installed_images(sdk)
    if image not in images:
        raise SdkNotFound(
            f"system image {image!r} is not installed in {sdk.root} "
            f"(installed: {', '.join(images) or 'none'}); install it with sdkmanager"
        )
    if sdk.avdmanager is None:
        raise SdkNotFound(f"{sdk.root}: no cmdline-tools/*/bin/avdmanager")
    cmd = [str(sdk.avdmanager), "create", "avd", "-n", name, "-k", image]
    if device:
        cmd += ["-d", device]
    if force:
        cmd.append("--force")
    sdk.avd_home.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        cmd, input="no\n", capture_output=True, text=True, timeout=300, env=sdk.env(), check=False
    )
    if out.returncode != 0:
        raise AndroidError(f"avdmanager create avd {name} failed", log_tail=out.stdout + out.stderr)
    return avd_dir(sdk, name)
