"""Device logs in the record: ``logs/<role>-<name>`` (logcat, serial console, the
emulator's or virtual phone's stderr), redacted, and the one that explains an infra error.

Devices hand their logs over with ``logs()`` while they are still held; when
allocation itself failed there is no device object, so the host-side files its
backend left in the role's workdir are picked up instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rig.redact import Redactor

# Host files a backend leaves in a role's workdir, and the name the record keeps.
_LEFT_BEHIND = (
    ("phone/phone.log", "sim-stderr.txt"),
    ("console.log", "serial.log"),
    ("qemu.log", "qemu-stderr.txt"),
    ("emulator-*.log", "emulator-stderr.txt"),
)
# The process's own log says why a device went away better than what it logged inside.
_EXPLAINS = ("sim-stderr.txt", "emulator-stderr.txt", "serial.log", "qemu-stderr.txt")
_CAP = 2 * 1024 * 1024


def save_logs(
    devices: Mapping[str, Any], devices_dir: Path, out: Path, redactor: Redactor
) -> dict[str, Path]:
    """Write every device's logs under ``out/logs``; returns ``{"<role>-<name>": path}``."""
    logs: dict[str, bytes] = {}
    for role, device in devices.items():
        getter = getattr(device, "logs", None)
        if getter is None:
            continue
        try:
            for name, data in getter().items():
                logs[f"{role}-{name}"] = data
        except Exception as exc:  # a log is evidence, never a reason to lose the record
            logs[f"{role}-logs-error.txt"] = f"{type(exc).__name__}: {exc}\n".encode()
    if devices_dir.is_dir():
        for role_dir in sorted(p for p in devices_dir.iterdir() if p.is_dir()):
            for pattern, name in _LEFT_BEHIND:
                key = f"{role_dir.name}-{name}"
                found = sorted(role_dir.glob(pattern))
                if key not in logs and found:
                    logs[key] = b"".join(_tail(p) for p in found)
    saved = {}
    for key, data in logs.items():
        path = out / "logs" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        text = data.decode("utf-8", "replace")
        path.write_text(redactor.text(text), encoding="utf-8")
        saved[key] = path
    return saved


def explaining_log(saved: Mapping[str, Path], message: str, lines: int = 5) -> str:
    """``see logs/X, which ends: ...`` for the log most likely to explain ``message``."""
    roles = {k.split("-", 1)[0] for k in saved}
    named = [r for r in roles if re.search(rf"\b{re.escape(r)}\b", message)]
    order = sorted(
        saved,
        key=lambda k: (
            k.split("-", 1)[0] not in named,
            k.split("-", 1)[1] not in _EXPLAINS,
            _EXPLAINS.index(k.split("-", 1)[1]) if k.split("-", 1)[1] in _EXPLAINS else 0,
            k,
        ),
    )
    for key in order:
        tail = [ln for ln in saved[key].read_text(encoding="utf-8").splitlines() if ln.strip()]
        if tail:
            return f"see logs/{key}, which ends: " + " | ".join(tail[-lines:])
    return ""


def _tail(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, fh.seek(0, 2) - _CAP))
            return fh.read()
    except OSError:
        return b""
