"""``rig doctor``: which of the rig's real parts this machine can run, measured, not assumed."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text


@dataclass
class Finding:
    name: str
    ok: bool
    detail: str
    needed_for: str


def _version(cmd: list[str]) -> tuple[bool, str]:
    exe = shutil.which(cmd[0])
    if exe is None:
        return False, "not found on PATH"
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{exe}: {exc}"
    text = (out.stdout or out.stderr).strip().splitlines()
    return out.returncode == 0, f"{exe}: {text[0] if text else 'no output'}"


def _sdk() -> tuple[bool, str]:
    for var in ("ANDROID_HOME", "ANDROID_SDK_ROOT"):
        root = os.environ.get(var)
        if root:
            emu = Path(root) / "emulator" / "emulator"
            return emu.is_file(), f"${var}={root}" + (
                "" if emu.is_file() else " (no emulator/emulator)"
            )
    return False, "ANDROID_HOME / ANDROID_SDK_ROOT unset (the virtual phone needs no SDK)"


def findings() -> list[Finding]:
    """Probe the host; each finding says what it is needed for."""
    out: list[Finding] = []
    ok, detail = _version(["adb", "version"])
    out.append(Finding("adb", ok, detail, "every Android backend"))
    ok, detail = _version(["qemu-system-x86_64", "--version"])
    out.append(Finding("qemu-system-x86_64", ok, detail, "Linux VMs"))
    ok, detail = _version(["qemu-img", "--version"])
    out.append(Finding("qemu-img", ok, detail, "VM overlays"))
    deb = shutil.which("debootstrap")
    out.append(Finding("debootstrap", deb is not None, deb or "not found", "building the VM image"))
    kvm = Path("/dev/kvm")
    kvm_ok = kvm.exists() and os.access(kvm, os.R_OK | os.W_OK)
    out.append(
        Finding(
            "/dev/kvm",
            kvm_ok,
            "present (usable only if a boot probe succeeds)"
            if kvm_ok
            else "absent: VMs run under TCG",
            "fast VMs, AVDs",
        )
    )
    ok, detail = _sdk()
    out.append(Finding("Android SDK", ok, detail, "the avd backend only"))
    return out


def doctor(ctx: typer.Context) -> None:
    cfg = ctx.obj["config"]
    table = Table(title="clawrig doctor")
    for col in ("part", "ok", "detail", "needed for"):
        table.add_column(col)
    results = findings()
    for f in results:
        # Details quote tools' own output: literal text, not markup.
        table.add_row(f.name, "yes" if f.ok else "no", Text(f.detail), f.needed_for)
    console = Console()
    console.print(table)
    console.print(
        Text(
            f"backends in force: android={cfg.devices.android}, linux={cfg.devices.linux} "
            f"(config: {cfg.source or 'defaults'})"
        )
    )
    required = {"adb"} | (
        {"qemu-system-x86_64", "qemu-img"} if cfg.devices.linux == "qemu" else set()
    )
    missing = [f.name for f in results if f.name in required and not f.ok]
    if missing:
        console.print(f"[red]missing for the configured world:[/red] {', '.join(missing)}")
        raise typer.Exit(1)
