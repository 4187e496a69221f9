"""Farm health: the quick conformance probe each node runs before it takes trials, and
the quarantine of a node that fails it.

A suite's trials carry a probe request (the suite's id and the device kinds its tasks
need). The first trial that reaches a node runs the probe there, under a lock, and
leaves the result in a node-local file; every later trial on that node reads it. A node
whose probe failed runs no trial: the trial comes back to the driver as a quarantine
notice (not a result), and the driver keeps that node out of the rest of the suite and
runs the trial elsewhere. ``rig doctor --farm`` runs the same probe on every node.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rig.config import RigConfig

# The probe: a few checks of the battery per kind, the ones every episode leans on.
PROBE_CHECKS: dict[str, tuple[str, ...]] = {
    "android": (
        "screen size",
        "screenshot raw",
        "clock and time zone",
        "seed files with mtimes",
        "uiautomator dump",
    ),
    "linux": ("exec exit codes", "sftp", "clock and time zone"),
}
PROBE_DIR = "clawrig-probe"


@dataclass
class ProbeResult:
    """One node's probe: ``failing`` names the first failed check (``kind: check``)."""

    node_id: str
    node: str  # host and short node id, for people
    ok: bool
    checks: list[dict[str, Any]]
    failing: str | None = None
    evidence: str = ""
    seconds: float = 0.0
    attempts: int = 1
    first_failure: str | None = None  # a first probe that failed when the second passed

    def quarantine(self) -> dict[str, Any]:
        return {"node_id": self.node_id, "node": self.node, "check": self.failing,
                "evidence": self.evidence}  # fmt: skip


def node_identity() -> tuple[str, str]:
    """``(node id, label)`` of where this process runs: the Ray node it is a worker of, else
    this host (local worker processes share one node: this machine)."""
    host = socket.gethostname()
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        node_id = ray.get_runtime_context().get_node_id()
        return node_id, f"{host} (node {node_id[:8]})"
    return f"local-{host}", host


def probe(kinds: list[str], config: RigConfig, workdir: Path | None = None) -> ProbeResult:
    """Bring up each kind's configured device here and run its probe checks."""
    from rig.conformance import Check, bring_up, run_battery

    node_id, label = node_identity()
    started = time.monotonic()
    checks: list[tuple[str, Check]] = []
    with contextlib.ExitStack() as stack:
        root = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="probe-")))
        for kind in kinds:
            try:
                with bring_up(kind, config, root / kind) as device:
                    checks += [(kind, c) for c in run_battery(device, PROBE_CHECKS[kind])]
            except Exception as exc:  # the device did not come up: that is the finding
                checks.append((kind, Check("bring up", False, f"{type(exc).__name__}: {exc}")))
    failed = [(k, c) for k, c in checks if not c.ok]
    return ProbeResult(
        node_id=node_id,
        node=label,
        ok=not failed,
        checks=[{"kind": k, **asdict(c)} for k, c in checks],
        failing=f"{failed[0][0]}: {failed[0][1].name}" if failed else None,
        evidence=failed[0][1].evidence[:400] if failed else "",
        seconds=round(time.monotonic() - started, 2),
    )


def probe_here(config_data: dict[str, Any], kinds: list[str]) -> dict[str, Any]:
    """Runs on a node (``rig doctor --farm``): the probe, as plain data."""
    from rig.config import parse_config

    return asdict(probe(kinds, parse_config(config_data)))


def node_gate(suite_id: str, kinds: list[str], config: RigConfig) -> dict[str, Any] | None:
    """Before a trial on this node: None when the node passed this suite's probe (run now
    if no trial here ran it yet), else its quarantine entry."""
    if not kinds:
        return None
    node_id, _ = node_identity()
    folder = Path(tempfile.gettempdir()) / PROBE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{suite_id}-{node_id}")
    path = folder / f"{name}.json"
    with open(folder / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one probe per node; the other trials wait for it
        if not path.exists():
            result = probe(kinds, config)
            if not result.ok:
                # One failure on a loaded node may be the load, not the node: one more try
                # before the node is out for the whole suite.
                first = result
                result = probe(kinds, config)
                result.attempts = 2
                result.first_failure = f"{first.failing}: {first.evidence}"[:400]
                result.seconds = round(first.seconds + result.seconds, 2)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(asdict(result)), encoding="utf-8")
            os.replace(tmp, path)
        found = json.loads(path.read_text(encoding="utf-8"))
    if found["ok"]:
        return None
    return ProbeResult(**found).quarantine()


@contextlib.contextmanager
def forgetting_probes(suite_id: str) -> Iterator[None]:
    """Remove this suite's node-local probe files on this machine (the driver's node) when
    the suite ends, however it ends."""
    try:
        yield
    finally:
        folder = Path(tempfile.gettempdir()) / PROBE_DIR
        for path in folder.glob(f"{re.sub(r'[^A-Za-z0-9_.-]', '_', suite_id)}-*"):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()


__all__ = ["PROBE_CHECKS", "ProbeResult", "forgetting_probes", "node_gate", "probe", "probe_here"]
