"""How far apart the world's clocks are: every device and service read against world time.

Each clock is read the way its users read it — ``date +%s.%N`` in the phone's shell,
``time.time()`` in the VM (its resident root python: no process to start, so a short
round trip), a service's own audit stamp for a request it just served — and compared with the world
time the controller (:class:`~rig.world_clock.WorldTime`) expects at the midpoint of the
read. Half the read's round trip bounds the error of that midpoint, so a slow shell
widens the error bar instead of passing for drift (a world clock at speed N turns it into
N times as much world time: the error bar says so); a device is read three times and the
read with the shortest round trip counts. Never in an agent's shell session. Used by the
running clock's trim (:meth:`rig.world_clock.WorldTime.trim`), the drift test and the
benchmark (``benchmarks/bench_always_on.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rig.services.audit import read_audit

# Services read through an audited HTTP request: (method, path) per kind.
_PROBES = {"bank": ("GET", "/accounts"), "shop": ("GET", "/"), "parcels": ("GET", "/")}


@dataclass(frozen=True)
class Reading:
    clock: str  # a device role, or ``service:NAME``
    offset_s: float  # what the clock said minus the world time expected at the midpoint
    error_s: float  # half the read's round trip on the host, in world seconds (x speed)
    said_s: float = float("nan")  # what the clock said (epoch seconds)


def spread(readings: list[Reading]) -> float:
    """The largest disagreement between any two clocks (seconds)."""
    offsets = [r.offset_s for r in readings]
    return max(offsets) - min(offsets) if offsets else 0.0


def _timed(read: Any) -> tuple[float, float, float]:
    before = time.time()
    value = read()
    return float(value), before, time.time()


def _device_s(device: Any, settled: bool = False) -> float:
    if settled and hasattr(device, "read_clock"):
        return device.read_clock()
    if hasattr(device, "privileged_python"):  # a VM: its resident root python, no new process
        out = device.privileged_python("import time\nprint(repr(time.time()))", timeout=30)
    else:
        out = device.shell("date +%s.%N", timeout=30)
    return float(out.stdout.strip())


def _service_s(service: Any, name: str) -> float:
    method, path = _PROBES.get(name, ("GET", "/"))
    if name in ("calendar", "contacts"):
        service.request("OPTIONS", service.path())
    else:
        service.request(method, path)
    last = read_audit(service.stack.audit_path(name))[-1]
    return datetime.fromisoformat(last["t"]).timestamp()


def device_offset(
    name: str, device: Any, clock: Any, samples: int = 3, settled: bool = False
) -> Reading:
    """One device's clock against world time (``clock``: a started WorldTime): the read
    with the shortest round trip of ``samples`` (a loaded host delays some reads, and the
    least delayed one brackets the clock best). A device a stepped world paused runs for
    the read. ``settled``: a VM that keeps its clock at a speed is read right after its
    helper set it (what a trim corrects), not somewhere between two settings."""
    with clock.running():
        reads = [_reading(name, lambda: _device_s(device, settled), clock) for _ in range(samples)]
    return min(reads, key=lambda r: r.error_s)


def kept_offset(role: str, clock: Any) -> Reading:
    """A device that the running clock keeps by trims from the host (an AVD, or a VM not
    kept by its own helper, at a speed other than 1), right at a trim: what the trim set
    it to against world time at the midpoint of the step's round trip
    (:meth:`~rig.world_clock.WorldTime.keep`); the error bar is half that round trip
    (x speed) plus the error of the read the step was reckoned from. Between trims it lags
    by (speed - 1) x the time since; :func:`device_offset` reads that."""
    clock.keep(role)
    trim = clock.trims[role]
    expected = clock.at((trim.host_before + trim.host_after) / 2)
    if expected is None:
        raise ValueError("clock agreement needs a running world clock")
    half = clock.speed * (trim.host_after - trim.host_before) / 2
    return Reading(role, trim.value - expected.timestamp(), half + trim.error_s, trim.value)


def _reading(name: str, read: Any, clock: Any) -> Reading:
    said, before, after = _timed(read)
    expected = clock.at((before + after) / 2)
    if expected is None:
        raise ValueError("clock agreement needs a running or stepped world clock")
    rate = clock.speed if getattr(clock, "mode", "") == "running" else 1.0
    return Reading(name, said - expected.timestamp(), rate * (after - before) / 2, said)


def read_clocks(world: Any, clock: Any) -> list[Reading]:
    """Read each device and each audited HTTP service of ``world`` once.

    ``clock`` is the running or stepped :class:`~rig.world_clock.WorldTime`.
    """
    out = [device_offset(role, device, clock) for role, device in world.devices.items()]
    for name, service in getattr(world, "services", {}).items():
        if name in _PROBES or name in ("calendar", "contacts"):
            read = lambda s=service, n=name: _service_s(s, n)  # noqa: E731
            out.append(_reading(f"service:{name}", read, clock))
    return out
