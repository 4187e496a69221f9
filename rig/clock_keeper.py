"""A running world's devices on world time: set, trimmed, and kept by a thread at a speed.

The virtual phone runs at the world's speed once told to; a kernel clock (a Linux VM, an
AVD) runs at real time whatever it is told, so at a speed other than 1 it is set again and
again: a VM by its resident root helper, every :func:`guest_interval` seconds by a
reference the controller measures (again every 30 s), an AVD by the *keeper*, a thread
here, every :func:`keep_interval` seconds.
:class:`~rig.world_clock.WorldTime` decides what world time it is; this module is how the
devices are brought to it (a reference per VM, reckoned in the guest), apart from it so
the clock's modes read without the per-device arithmetic and the thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rig.clock_agreement import device_offset

log = logging.getLogger(__name__)

KEEP_MIN_S, KEEP_MAX_S = 0.25, 5.0
REMEASURE_S = 30.0  # how long a VM's reference holds before the keeper reads it again
GUEST_LAG_S = 0.25  # how far a VM kept by its own helper may fall behind between settings
GUEST_MIN_S, GUEST_MAX_S = 0.002, 1.0


def keep_interval(speed: float) -> float | None:
    """Seconds between the keeper's trims at ``speed``: as often as a lag of 1 s needs, but
    never more than 4 times a second (each is a round trip to every VM) nor less than every
    5 s; None at speed 1 (a kernel clock keeps real time by itself)."""
    if speed == 1:
        return None
    return min(KEEP_MAX_S, max(KEEP_MIN_S, 1.0 / abs(speed - 1.0)))


def guest_interval(speed: float) -> float:
    """Seconds between a VM's own settings at ``speed`` (its root helper reckons them from
    its monotonic clock: no round trip): often enough that it falls at most
    :data:`GUEST_LAG_S` behind — 4.2 ms at speed 60 — but at most 500 times a second, so
    from speed 126 up the lag bound is (speed - 1) x 2 ms."""
    if speed == 1:
        return GUEST_MAX_S
    return min(GUEST_MAX_S, max(GUEST_MIN_S, GUEST_LAG_S / abs(speed - 1.0)))


@dataclass(frozen=True)
class Trim:
    """One trim of a device that cannot run at the world's speed (a VM, an AVD)."""

    host_before: float  # host time when the step (or the `date`) was sent
    host_after: float  # and when it came back: it took effect in between
    value: float  # what the device's clock was set to (epoch seconds)
    error_s: float  # the error of the reading it was reckoned from (world seconds)


@dataclass
class ClockKeeper:
    """The devices of ``clock``'s world in running mode (``clock``: the
    :class:`~rig.world_clock.WorldTime`, whose world time they are brought to)."""

    clock: Any = field(repr=False, compare=False)  # rig.world_clock.WorldTime
    _running_roles: set[str] = field(default_factory=set)
    # A VM's reference, from its last measured trim: (world time, the guest's monotonic
    # clock then, host time of the measure): each keeper step sets it to world + speed x
    # the monotonic seconds since — reckoned in the guest (LinuxDevice.run_clock).
    _kept: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    _lead: dict[str, float] = field(default_factory=dict)  # an AVD's last `date` one-way time
    trims: dict[str, Trim] = field(default_factory=dict)  # each kept device's last trim
    # Held while the world time is anchored anew and the devices set to it: the keeper
    # must not step a VM by its reckoning from before.
    lock: threading.RLock = field(default_factory=threading.RLock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    keeps: int = 0  # the keeper's rounds so far (each trims every device that cannot keep up)
    in_guest: bool = True  # a VM keeps itself between references (off: the host trims it)

    def set_devices(self, devices: Iterable[tuple[str, Any]], still: Iterable[str] = ()) -> None:
        """Set ``devices`` (in that order) to world time now, then trim them: a phone that
        runs at the world's speed (``still``: found standing when set, at the start) is
        made to run from there, any other is set. The VMs' references are forgotten (the
        world time they were reckoned from is gone)."""
        self._kept.clear()
        self._running_roles.update(still)
        for role, device in devices:
            if role in self._running_roles:
                self._run_phone(device)
            else:
                self._set_device(role, device)
        self.trim()

    def start(self) -> None:
        """Start the keeper, when the speed and a device need it."""
        world = self.clock.world
        if keep_interval(self.clock.speed) is not None and any(
            self._cannot_keep_up(r, d) for r, d in world.devices.items()
        ):
            self._thread = threading.Thread(
                target=self._keep_loop, name="clock-keeper", daemon=True
            )
            self._thread.start()

    def trim(self, rounds: int = 3, within_s: float = 0.05) -> None:
        """Measure each clock that does not follow world time by itself against it and
        correct it. A Linux VM is stepped in the guest by what it is off (plus what it
        lagged since the read, at a speed other than 1), a relative step that no transport
        delay spoils; the virtual phone, which runs at the world's speed from where it is
        set, is set again (the error left is the way's unknown delay x speed)."""
        with self.lock:
            for role, device in self.clock.world.devices.items():
                if hasattr(device, "step_clock"):
                    self._trim_vm(role, device, rounds, within_s)
                elif role in self._running_roles:
                    self._trim_phone(role, device, rounds, within_s)

    def _trim_vm(self, role: str, device: Any, rounds: int, within_s: float) -> None:
        # At a speed the reading is the reference every later step is reckoned from, and
        # its error bar is x speed: more reads, for one with a shorter round trip.
        # The guest then keeps it by that reference itself (guest_interval).
        speed = self.clock.speed
        samples = 3 if speed == 1 else 6
        # (Not once closed: nothing may go on keeping it after the agent phase.)
        in_guest = self.in_guest and not self._stop.is_set()
        keep = guest_interval(speed) if speed != 1 and in_guest else None
        for i in range(rounds):
            r = device_offset(role, device, self.clock, samples, settled=True)
            if (i or speed == 1) and abs(r.offset_s) <= max(within_s, r.error_s):
                return  # (at a speed, the first read is always stepped: it is the reference)
            before = time.time()
            value, mono = device.step_clock(-r.offset_s, speed - 1, r.said_s, keep=keep)
            self.trims[role] = Trim(before, time.time(), value, r.error_s)
            self._kept[role] = (value, mono, time.time())

    def _step(self, role: str, device: Any) -> float | None:
        """Set a VM to world time by its reference, reckoned in the guest; None when the
        guest keeps it so itself and the reference still holds (no round trip)."""
        world, mono, measured = self._kept[role]
        if time.time() - measured > REMEASURE_S:  # the kernel's rate is not the host's
            self._trim_vm(role, device, 3, 0.05)
            return self.trims[role].value
        if getattr(device, "clock_kept", False):
            return None
        before = time.time()
        value, _ = device.run_clock(world, mono, self.clock.speed)
        self.trims[role] = Trim(before, time.time(), value, self.trims[role].error_s)
        return value

    def _trim_phone(self, role: str, device: Any, rounds: int, within_s: float) -> None:
        for _ in range(rounds):
            r = device_offset(role, device, self.clock)
            if abs(r.offset_s) <= max(within_s, r.error_s):
                return
            # It runs at the world's speed: set it where the world will be half a read later.
            lead = r.error_s / self.clock.speed
            when = self.clock.at(time.time() + lead)
            assert when is not None
            device.shell(f"date @{when.timestamp():.6f} >/dev/null", timeout=10)

    def keep(self, role: str | None = None) -> dict[str, float]:
        """Bring each device that cannot run at the speed (``role`` alone, when given) to
        world time now; returns what each was set to (epoch seconds). A VM that keeps
        itself is left alone (and not in the result) until its reference is due again."""
        with self.lock:
            set_to = {
                r: self._keep_one(r, device)
                for r, device in self.clock.world.devices.items()
                if (role is None or r == role) and self._cannot_keep_up(r, device)
            }
        return {r: v for r, v in set_to.items() if v is not None}

    def _cannot_keep_up(self, role: str, device: Any) -> bool:
        """A Linux VM or an AVD: a kernel clock that runs at real time whatever it is told."""
        return hasattr(device, "step_clock") or (
            device.kind == "android" and role not in self._running_roles
        )

    def _keep_one(self, role: str, device: Any) -> float | None:
        if hasattr(device, "step_clock"):
            if role not in self._kept:
                self._trim_vm(role, device, 3, 0.05)
                return self.trims[role].value
            return self._step(role, device)
        # An AVD: no relative step in its shell; set where the world is on arrival.
        return self._set_device(role, device)

    def _set_device(self, role: str, device: Any) -> float:
        """Set a device that runs at real time to world time (an AVD: ``date`` takes
        fractions, sent to where the world will be when it arrives, by the last way's time).
        Returns the epoch it was set to."""
        clock = self.clock
        if device.kind != "android" or clock.speed == 1:
            when = clock.at(time.time())
            assert when is not None
            device.set_clock(when, clock.world.timezone)
            return when.timestamp()
        sent = time.time()
        when = clock.at(sent + self._lead.get(role, 0.0))
        assert when is not None
        device.shell(
            f"settings put global auto_time 0; date @{when.timestamp():.6f} >/dev/null",
            timeout=10,
        )
        self.trims[role] = Trim(sent, time.time(), when.timestamp(), 0.0)
        self._lead[role] = (time.time() - sent) / 2
        return when.timestamp()

    def _keep_loop(self) -> None:
        every = keep_interval(self.clock.speed)
        assert every is not None
        failed: set[str] = set()
        while not self._stop.wait(every):
            for role, device in list(self.clock.world.devices.items()):
                if role in failed or not self._cannot_keep_up(role, device):
                    continue
                try:
                    self.keep(role)
                except Exception:  # the device's next action reports it (infra), not the thread
                    log.warning("clock keeper: %s could not be kept on time", role, exc_info=True)
                    failed.add(role)
            self.keeps += 1

    def close(self) -> None:
        """Stop the keeper and the VMs' own keeping (idempotent; never raises: a device
        that went away is found by whoever uses it next)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
        with self.lock:
            for role, device in self.clock.world.devices.items():
                if getattr(device, "clock_kept", False):
                    try:
                        device.unkeep_clock()
                    except Exception:
                        log.warning("clock keeper: %s kept its clock on", role, exc_info=True)
                    self._kept.pop(role, None)

    def _run_phone(self, device: Any) -> None:
        """Make a phone whose clock stands run at the world's speed from world time now: one
        command (run, then set: a running phone set by ``date`` runs on from there), so no
        round trip falls between the set and the start."""
        when = self.clock.at(time.time())
        assert when is not None
        device.shell(
            f"settings put global sim_clock_speed {self.clock.speed!r}; "
            f"settings put global auto_time 1; date @{when.timestamp():.6f} >/dev/null",
            timeout=10,
        )
