"""Is KVM usable here? Decided by booting a tiny guest, never by the mere ``/dev/kvm`` node.

Some hosts expose a ``/dev/kvm`` that opens but cannot run a stock kernel (a
software hypervisor nested in a VM): QEMU aborts or the guest crawls and dies.
The probe boots the image's kernel with its initramfs in probe mode, which
prints a marker as soon as userspace runs; no marker within a few seconds
means TCG. The verdict is cached per host kernel, QEMU version and image.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from filelock import FileLock

from linux_vm.errors import LinuxInputError, VMError
from linux_vm.image import Image
from linux_vm.qemu import QemuProcess, VMSpec, create_overlay, qemu_version

MARKER = b"CLAWRIG-PROBE-USERSPACE"
ACCELS = ("auto", "kvm", "tcg")


def kvm_device_usable(dev: Path = Path("/dev/kvm")) -> bool:
    return dev.exists() and os.access(dev, os.R_OK | os.W_OK)


def _verdict_file(cache: Path) -> Path:
    return Path(cache).expanduser() / "linux" / "accel.json"


def probe_kvm(image: Image, cache: Path, timeout: float = 20.0) -> bool:
    """Boot the image's kernel under KVM to userspace; cached. False without a usable node."""
    if not kvm_device_usable():
        return False
    path = _verdict_file(cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    ident = f"{platform.release()}|{qemu_version()}|{image.key}"
    with FileLock(str(path) + ".lock"):
        known = {}
        with contextlib.suppress(OSError, ValueError):
            known = json.loads(path.read_text())
        if ident in known:
            return bool(known[ident]["kvm"])
        started = time.monotonic()
        ok = _boot_probe(image, timeout)
        known[ident] = {"kvm": ok, "probe_seconds": round(time.monotonic() - started, 2)}
        path.write_text(json.dumps(known, indent=2) + "\n")
        return ok


def _boot_probe(image: Image, timeout: float, accel: str = "kvm") -> bool:
    """True when the image's kernel reaches its initramfs userspace under ``accel``."""
    with tempfile.TemporaryDirectory(prefix="clawrig-kvm-probe-") as tmp:
        disk = Path(tmp) / "probe.qcow2"
        create_overlay(image.base, disk)
        spec = VMSpec(
            vmlinux=image.vmlinux,
            initrd=image.initrd,
            disk=disk,
            workdir=Path(tmp),
            memory_mb=256,
            accel=accel,
            extra_append="CLAWRIG_PROBE=1",
        )
        vm = QemuProcess(spec)
        try:
            vm.start()
        except VMError:
            return False
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and vm.alive():
                with contextlib.suppress(OSError):
                    if MARKER in vm.console_log.read_bytes():
                        return True
                time.sleep(0.1)
            with contextlib.suppress(OSError):
                return MARKER in vm.console_log.read_bytes()
            return False
        finally:
            vm.kill()


def resolve_accel(requested: str, image: Image, cache: Path) -> str:
    """``kvm`` or ``tcg``: an explicit choice wins; ``auto`` asks the (cached) probe."""
    if requested not in ACCELS:
        raise LinuxInputError(f"accel {requested!r}: expected one of {', '.join(ACCELS)}")
    if requested != "auto":
        return requested
    return "kvm" if probe_kvm(image, cache) else "tcg"
