"""``rig doctor``: which of the rig's real parts this machine can run, measured, not assumed."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def doctor(
    ctx: typer.Context,
    android: str | None = typer.Option(
        None, "--android", help="run the conformance battery on sim | avd:NAME | attach:SERIAL"
    ),
    linux: str | None = typer.Option(
        None, "--linux", help="run the conformance battery on qemu | attach:USER@HOST:PORT"
    ),
    out: Path | None = typer.Option(
        None, "--out", help="where devices keep their files (default: a temporary folder)"
    ),
    farm: str | None = typer.Option(
        None,
        "--farm",
        help="run the quick conformance probe on every node of the Ray cluster at ADDRESS "
        "(auto | HOST:PORT), for --android/--linux (default: both configured backends)",
    ),
) -> None:
    cfg = ctx.obj["config"]
    if farm:
        raise typer.Exit(farm_probe(cfg, farm, android, linux))
    if android or linux:
        raise typer.Exit(battery(cfg, android, linux, out))
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


def battery(cfg: Any, android: str | None, linux: str | None, out: Path | None) -> int:
    """Bring each named device up (or attach), run its checks, print one table each;
    0 only when every check passed."""
    import tempfile

    from rig.conformance import bring_up, run_battery
    from rig.episode import backend_overrides

    console = Console()
    cfg = backend_overrides(cfg, android=android, linux=linux)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="clawrig-doctor-") as tmp:
        root = out or Path(tmp)
        for kind, spec in (("android", android), ("linux", linux)):
            if not spec:
                continue
            table = Table(title=f"conformance: {kind} {spec}")
            for col in ("check", "result", "evidence", "s"):
                table.add_column(col, overflow="fold")
            roles: dict[str, str | None] = {}
            try:
                with bring_up(kind, cfg, root / kind) as device:
                    checks = run_battery(device)
                    if getattr(device, "apps", None) is not None:
                        roles = device.apps.table()
            except Exception as exc:  # the device did not come up: one failed row says why
                table.add_row(
                    "bring up", "[red]FAIL[/red]", Text(f"{type(exc).__name__}: {exc}"), ""
                )
                console.print(table)
                failed += 1
                continue
            for c in checks:
                mark = "[green]pass[/green]" if c.ok else "[red]FAIL[/red]"
                table.add_row(c.name, mark, Text(c.evidence), f"{c.seconds:.1f}")
            console.print(table)
            bad = [c.name for c in checks if not c.ok]
            failed += len(bad)
            console.print(
                Text(f"{kind} {spec}: {len(checks) - len(bad)}/{len(checks)} checks passed")
            )
            if roles:
                print_roles(console, f"{kind} {spec}", device.apps.profile, roles)
    return 1 if failed else 0


def farm_probe(cfg: Any, address: str, android: str | None, linux: str | None) -> int:
    """The quick probe on every node of a Ray cluster, one row per node; 0 only when every
    node passed (the same probe a suite runs on a node before its first trial there)."""
    from rig.episode import backend_overrides
    from rig.farm import RayFarm
    from rig.health import PROBE_CHECKS, probe_here

    kinds = [k for k, spec in (("android", android), ("linux", linux)) if spec]
    kinds = kinds or list(PROBE_CHECKS)
    cfg = backend_overrides(cfg, android=android, linux=linux)
    console = Console()
    with RayFarm(address) as ray_farm:
        found = ray_farm.on_every_node(probe_here, cfg.model_dump(mode="json"), kinds)
    table = Table(title=f"farm probe: {address} ({', '.join(kinds)})")
    for col in ("node", "result", "checks", "failing check", "evidence", "s"):
        table.add_column(col, overflow="fold")
    bad = 0
    for node, res in sorted(found.items()):
        if isinstance(res, BaseException):
            bad += 1
            table.add_row(
                node, "[red]FAIL[/red]", "", "probe", Text(f"{type(res).__name__}: {res}"), ""
            )
            continue
        passed = sum(1 for c in res["checks"] if c["ok"])
        mark = "[green]pass[/green]" if res["ok"] else "[red]FAIL[/red]"
        bad += not res["ok"]
        table.add_row(
            res["node"], mark, f"{passed}/{len(res['checks'])}", res["failing"] or "",
            Text(res["evidence"]), f"{res['seconds']:.1f}",
        )  # fmt: skip
    console.print(table)
    for node, res in sorted(found.items()):  # one unwrapped line per failing node, for logs
        if isinstance(res, BaseException):
            console.print(Text(f"FAIL {node}: probe: {res}"), soft_wrap=True)
        elif not res["ok"]:
            line = f"FAIL {res['node']}: {res['failing']}: {res['evidence']}"
            console.print(Text(line), soft_wrap=True)
    console.print(Text(f"{len(found) - bad}/{len(found)} nodes passed"))
    return 1 if bad or not found else 0


def print_roles(console: Console, name: str, profile: str, roles: dict[str, str | None]) -> None:
    """Which app roles the device can fill (tasks name apps by role), and with what."""
    table = Table(title=f"app roles: {name} (profile {profile})")
    for col in ("role", "package"):
        table.add_column(col)
    for role, package in roles.items():
        table.add_row(role, package or "[yellow]none installed[/yellow]")
    console.print(table)
    filled = [r for r, p in roles.items() if p]
    console.print(Text(f"roles filled: {len(filled)}/{len(roles)}: {', '.join(filled)}"))
