"""World time during the agent phase: one clock for the phone, the VM and the services.

Before the agent starts, devices are set to the task's ``now`` (:meth:`World.freeze_clocks`)
and seeding happens. At the agent's first step the clock is *started* in the task's mode:

* ``frozen`` — as before: nothing changes (the virtual phone stands at ``now``).
* ``running`` — every device is set to ``now`` and runs on, ``speed`` world seconds per
  real second; a device whose clock stands still after being set (the virtual phone) is
  told to run (``settings put global auto_time 1``, which the virtual phone reads as "run
  from here", at ``settings put global sim_clock_speed``); the services' clocks are
  anchored at ``now`` and run at the speed. A kernel clock cannot run fast (a Linux VM,
  an AVD): at a speed other than 1 the *keeper*, a thread of this object, brings each
  such device to world time every :func:`keep_interval` seconds, and :meth:`WorldTime.keep`
  does it again right before each agent action on it; in between it lags by
  (speed − 1) × the time since.
* ``stepped`` — every device is set to ``now``; the services' clocks stand. Only
  :meth:`WorldTime.advance` moves them: it sets every device and the services to the
  new world time. A device whose clock runs by itself (a QEMU VM, an AVD) is *paused*
  between agent actions, its clock with it: whatever needs it (an action, a clock
  step, a delivery) runs inside :meth:`WorldTime.running`, which resumes it and pauses
  it again at the end; :meth:`WorldTime.release` ends that before scoring and teardown.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rig.clock_agreement import device_offset
from rig.services.audit import write_clock

log = logging.getLogger(__name__)

KEEP_MIN_S, KEEP_MAX_S = 0.25, 5.0
REMEASURE_S = 30.0  # how long a VM's reference holds before the keeper reads it again


def keep_interval(speed: float) -> float | None:
    """Seconds between the keeper's trims at ``speed``: as often as a lag of 1 s needs, but
    never more than 4 times a second (each is a round trip to every VM) nor less than every
    5 s; None at speed 1 (a kernel clock keeps real time by itself)."""
    if speed == 1:
        return None
    return min(KEEP_MAX_S, max(KEEP_MIN_S, 1.0 / abs(speed - 1.0)))


@dataclass(frozen=True)
class Trim:
    """One trim of a device that cannot run at the world's speed (a VM, an AVD)."""

    host_before: float  # host time when the step (or the `date`) was sent
    host_after: float  # and when it came back: it took effect in between
    value: float  # what the device's clock was set to (epoch seconds)
    error_s: float  # the error of the reading it was reckoned from (world seconds)


@dataclass
class WorldTime:
    world: Any  # rig.world.World
    mode: str = "frozen"
    speed: float = 1.0
    _anchor_world: datetime | None = None
    _anchor_host: float = 0.0
    _running_roles: set[str] = field(default_factory=set)
    # A VM's reference, from its last measured trim: (world time, the guest's monotonic
    # clock then, host time of the measure): each keeper step sets it to world + speed x
    # the monotonic seconds since — reckoned in the guest (LinuxDevice.run_clock).
    _kept: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    _lead: dict[str, float] = field(default_factory=dict)  # an AVD's last `date` one-way time
    trims: dict[str, Trim] = field(default_factory=dict)  # each kept device's last trim
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _keeper: threading.Thread | None = None
    keeps: int = 0  # the keeper's rounds so far (each trims every device that cannot keep up)
    # Stepped: pause the devices that can (a QEMU VM, an AVD) between agent actions.
    pause: bool = True
    _pausing: bool = False
    _holds: dict[str, int] = field(default_factory=dict)  # running blocks open, by role
    _paused: dict[str, Any] = field(default_factory=dict)
    _jumped: set[str] = field(default_factory=set)  # clock moved since their last catch-up
    _synced: dict[str, int | None] = field(default_factory=dict)  # at each VM's last sync
    # What pausing did in the episode (the record's agent phase): pauses, clock take-backs,
    # catch-up syncs run and skipped, and the seconds those syncs took.
    pause_stats: dict[str, float] = field(default_factory=dict)
    _ran: dict[str, float] = field(default_factory=dict)  # host seconds run since set
    _since: dict[str, float] = field(default_factory=dict)  # monotonic: running since
    _hold_lock: threading.Lock = field(default_factory=threading.Lock)

    def _clock_path(self) -> Any:
        stack = getattr(self.world, "_service_stack", None)
        return None if stack is None or not stack.names else stack.clock_path

    def now(self) -> datetime | None:
        """World time now (None before :meth:`start` or in frozen mode)."""
        return self.at(time.time())

    def at(self, host: float) -> datetime | None:
        """World time at host wall time ``host`` (None before :meth:`start` or frozen)."""
        if self._anchor_world is None:
            return None
        if self.mode == "running":
            return self._anchor_world + timedelta(seconds=self.speed * (host - self._anchor_host))
        return self._anchor_world

    def start(self) -> None:
        """Set every device and service to the task's ``now`` and let time move per mode."""
        if self.mode == "frozen" or self.world.now is None:
            return
        if self.mode == "stepped":
            self._set_all(self.world.now)
            self._jumped.clear()  # seeding synced the devices' clients at `now`
            self._synced = {role: _synced_state(self.world) for role in self._pausable()}
            # Paused from the end of the first `running` block on (the first observation).
            self._pausing = self.pause and any(_can_pause(d) for d in self.world.devices.values())
            return
        # Running: which devices stand when set (the virtual phone) — they are told to run.
        still = {
            r for r, d in self.world.devices.items() if d.kind == "android" and _stands_still(d)
        }
        with self._lock:
            self._anchor(self.world.now, time.time())
            for role, device in self._phones_first():
                if role in still:
                    self._run_phone(device)
                    self._running_roles.add(role)
                else:
                    self._set_device(role, device)
            self.trim()
        if keep_interval(self.speed) is not None and any(
            self._cannot_keep_up(r, d) for r, d in self.world.devices.items()
        ):
            self._keeper = threading.Thread(
                target=self._keep_loop, name="clock-keeper", daemon=True
            )
            self._keeper.start()

    def trim(self, rounds: int = 3, within_s: float = 0.05) -> None:
        """Running: measure each clock that does not follow world time by itself against it
        and correct it. A Linux VM is stepped in the guest by what it is off (plus what it
        lagged since the read, at a speed other than 1), a relative step that no transport
        delay spoils; the virtual phone, which runs at the world's speed from where it is
        set, is set again (the error left is the way's unknown delay x speed)."""
        if self.mode != "running":
            return
        with self._lock:
            for role, device in self.world.devices.items():
                if hasattr(device, "step_clock"):
                    self._trim_vm(role, device, rounds, within_s)
                elif role in self._running_roles:
                    self._trim_phone(role, device, rounds, within_s)

    def _trim_vm(self, role: str, device: Any, rounds: int, within_s: float) -> None:
        # At a speed the reading is the reference every later step is reckoned from, and
        # its error bar is x speed: more reads, for one with a shorter round trip.
        samples = 3 if self.speed == 1 else 6
        for i in range(rounds):
            r = device_offset(role, device, self, samples)
            if (i or self.speed == 1) and abs(r.offset_s) <= max(within_s, r.error_s):
                return  # (at a speed, the first read is always stepped: it is the reference)
            before = time.time()
            value, mono = device.step_clock(-r.offset_s, self.speed - 1, r.said_s)
            self.trims[role] = Trim(before, time.time(), value, r.error_s)
            self._kept[role] = (value, mono, time.time())

    def _step(self, role: str, device: Any) -> float:
        """Set a VM to world time by its reference, reckoned in the guest."""
        world, mono, measured = self._kept[role]
        if time.time() - measured > REMEASURE_S:  # the kernel's rate is not the host's
            self._trim_vm(role, device, 3, 0.05)
            return self.trims[role].value
        before = time.time()
        value, _ = device.run_clock(world, mono, self.speed)
        self.trims[role] = Trim(before, time.time(), value, self.trims[role].error_s)
        return value

    def _trim_phone(self, role: str, device: Any, rounds: int, within_s: float) -> None:
        for _ in range(rounds):
            r = device_offset(role, device, self)
            if abs(r.offset_s) <= max(within_s, r.error_s):
                return
            # It runs at the world's speed: set it where the world will be half a read later.
            lead = r.error_s / self.speed
            when = self.at(time.time() + lead)
            assert when is not None
            device.shell(f"date @{when.timestamp():.6f} >/dev/null", timeout=10)

    def keep(self, role: str | None = None) -> dict[str, float]:
        """Running at a speed other than 1: bring each device that cannot run at it (``role``
        alone, when given) to world time now — the keeper's round, and what the agent's
        every action on such a device is preceded by (:meth:`rig.env.Env.step`). Returns
        what each kept clock was set to (epoch seconds: a VM's own reading right after its
        step, an AVD's ``date`` as sent)."""
        if self.mode != "running" or self.speed == 1 or self._anchor_world is None:
            return {}
        with self._lock:
            return {
                r: self._keep_one(r, device)
                for r, device in self.world.devices.items()
                if (role is None or r == role) and self._cannot_keep_up(r, device)
            }

    def _cannot_keep_up(self, role: str, device: Any) -> bool:
        """A Linux VM or an AVD: a kernel clock that runs at real time whatever it is told."""
        return hasattr(device, "step_clock") or (
            device.kind == "android" and role not in self._running_roles
        )

    def _keep_one(self, role: str, device: Any) -> float:
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
        if device.kind != "android" or self.speed == 1:
            when = self.at(time.time())
            assert when is not None
            device.set_clock(when, self.world.timezone)
            return when.timestamp()
        sent = time.time()
        when = self.at(sent + self._lead.get(role, 0.0))
        assert when is not None
        device.shell(
            f"settings put global auto_time 0; date @{when.timestamp():.6f} >/dev/null",
            timeout=10,
        )
        self.trims[role] = Trim(sent, time.time(), when.timestamp(), 0.0)
        self._lead[role] = (time.time() - sent) / 2
        return when.timestamp()

    def _keep_loop(self) -> None:
        every = keep_interval(self.speed)
        assert every is not None
        failed: set[str] = set()
        while not self._stop.wait(every):
            for role, device in list(self.world.devices.items()):
                if role in failed or not self._cannot_keep_up(role, device):
                    continue
                try:
                    self.keep(role)
                except Exception:  # the device's next action reports it (infra), not the thread
                    log.warning("clock keeper: %s could not be kept on time", role, exc_info=True)
                    failed.add(role)
            self.keeps += 1

    def close(self) -> None:
        """Stop the keeper (idempotent)."""
        self._stop.set()
        if self._keeper is not None:
            self._keeper.join(timeout=60)
            self._keeper = None

    def _run_phone(self, device: Any) -> None:
        """Make a phone whose clock stands run at the world's speed from world time now: one
        command (run, then set: a running phone set by ``date`` runs on from there), so no
        round trip falls between the set and the start."""
        when = self.at(time.time())
        assert when is not None
        device.shell(
            f"settings put global sim_clock_speed {self.speed!r}; "
            f"settings put global auto_time 1; date @{when.timestamp():.6f} >/dev/null",
            timeout=10,
        )

    def advance(self, seconds: float) -> datetime | None:
        """Stepped mode: move the world ``seconds`` ahead (devices and services)."""
        if self.mode != "stepped" or self._anchor_world is None:
            return None
        self._set_all(self._anchor_world + timedelta(seconds=seconds))
        return self._anchor_world

    def advance_to(self, when: datetime) -> datetime | None:
        """Move the world forward to ``when`` (a due live event, a heartbeat): a stepped
        world is set there and stands; a running one is set there and runs on. Never
        backwards."""
        now = self.now()
        if now is None or when <= now:
            return now
        if self.mode == "stepped":
            self._set_all(when)
            return when
        with self._lock:  # the keeper must not step a VM by its reckoning from before the jump
            self._anchor(when, time.time())
            self._kept.clear()
            for role, device in self._phones_first():
                if role in self._running_roles:
                    self._run_phone(device)
                else:
                    self._set_device(role, device)
            self.trim()
        return when

    def _phones_first(self) -> list[tuple[str, Any]]:
        """Android devices first: ``date @EPOCH`` takes whole seconds, so a phone set after a
        slow VM would start up to a second behind; set first, it is off by milliseconds."""
        return sorted(self.world.devices.items(), key=lambda kv: kv[1].kind != "android")

    def host_time(self, when: datetime) -> float | None:
        """Running mode: the host's ``time.time()`` at which the world reaches ``when``."""
        if self.mode != "running" or self._anchor_world is None:
            return None
        return self._anchor_host + (when - self._anchor_world).total_seconds() / self.speed

    def _set_all(self, when: datetime) -> None:
        with self.running():
            # Devices that pause last: their clocks then run the least before they stand.
            for role, device in self._phones_first():
                device.set_clock(when, self.world.timezone)
                self._ran[role], self._since[role] = 0.0, time.monotonic()
            self._anchor(when, time.time())
            self._jumped.update(self._pausable())

    @contextlib.contextmanager
    def running(self, roles: Iterable[str] | None = None) -> Iterator[None]:
        """Inside, devices run: wrap whatever uses one (an agent action, a clock step, a
        delivery, a read of its state). In a stepped world the devices that can pause are
        resumed when their outermost block starts and paused when it ends, so their clocks
        stand between agent actions as the world's does. ``roles``: only these devices (an
        action on one; ``()`` for none), else all. Blocks nest, across threads too."""
        held = self._pausable() if roles is None else [r for r in roles if r in self._pausable()]
        with self._hold_lock:
            resumed = []
            try:
                for role in held:
                    self._holds[role] = self._holds.get(role, 0) + 1
                    resumed.append(role)
                    if self._holds[role] == 1:
                        self._resume(role)
            except BaseException:
                for role in resumed:
                    self._holds[role] -= 1
                raise
        try:
            yield
        finally:
            with self._hold_lock:
                free = []
                for role in held:
                    self._holds[role] -= 1
                    if self._holds[role] == 0:
                        free.append(role)
                if self._pausing and free:
                    self._catch_up(free)
                    self._pause(free)

    def release(self) -> None:
        """The agent phase is over: resume what is paused and pause nothing again (scoring,
        snapshots and teardown read the devices). Never raises: a device that went away is
        found by whoever uses it next."""
        with self._hold_lock:
            self._pausing = False
            for role, device in list(self._paused.items()):
                with contextlib.suppress(Exception):
                    device.resume()
                self._paused.pop(role, None)

    def _count(self, what: str, n: float = 1) -> None:
        self.pause_stats[what] = round(self.pause_stats.get(what, 0) + n, 3)

    @property
    def paused(self) -> list[str]:
        """The roles paused now (stepped, between agent actions)."""
        return sorted(self._paused)

    def _pausable(self) -> list[str]:
        return [r for r, d in self.world.devices.items() if _can_pause(d)]

    def _resume(self, role: str) -> None:
        device = self._paused.get(role)
        if device is not None:
            device.resume()  # a device gone is the step's infra error, as its next use is
            del self._paused[role]
            self._since[role] = time.monotonic()

    def _pause(self, roles: list[str]) -> None:
        for role in roles:
            device = self.world.devices.get(role)
            if device is None or role in self._paused:
                continue
            try:
                self._take_back(role, device)
                device.pause()
            except Exception:  # gone: its next use says so, not this
                continue
            self._paused[role] = device
            self._count("pauses")

    def _take_back(self, role: str, device: Any, least_s: float = 0.1) -> None:
        """Step a device's clock back by the host time it ran since it was set (its actions
        took that long; the world's clock stood), so each action finds it at world time."""
        now = time.monotonic()
        ran = self._ran.get(role, 0.0) + now - self._since.pop(role, now)
        step = getattr(device, "step_clock", None)
        if step is not None and ran >= least_s:
            step(-ran)
            self._count("take_backs")
            ran = 0.0
        self._ran[role] = ran

    def _catch_up(self, roles: list[str]) -> None:
        """After the clock jumped: a VM runs now what its cron would have run at the new
        minute (the mail and calendar sync), before it is paused — the guest's cron counts
        in time the VM ran, so it would otherwise fire only during later actions."""
        for role in roles:
            if role not in self._jumped:
                continue
            self._jumped.discard(role)
            run = getattr(self.world.devices.get(role), "run_periodic_jobs", None)
            if run is None:
                continue
            # Nothing on the services the laptop syncs with changed since its last sync:
            # it would fetch nothing (each sync costs seconds under TCG).
            seen = _synced_state(self.world)
            if seen is not None and seen == self._synced.get(role):
                self._count("syncs_skipped")
                continue
            started = time.monotonic()
            with contextlib.suppress(Exception):  # the sync's failure is the laptop's
                run()
            self._count("syncs")
            self._count("sync_s", time.monotonic() - started)
            self._synced[role] = _synced_state(self.world)

    def _anchor(self, when: datetime, host: float) -> None:
        self._anchor_world, self._anchor_host = when, host
        path = self._clock_path()
        if path is not None:
            write_clock(path, when, self.mode != "running", self.speed, host)


SYNCED = ("mail", "calendar", "contacts")  # what the laptop's cron syncs with


def _synced_state(world: Any) -> int | None:
    """A fingerprint of the stored mail, calendar and contacts of the world's services (names,
    sizes, times of the files; the servers' own index and cache files left out), or None
    when there are none."""
    stack = getattr(world, "service_stack", None)
    names = [n for n in SYNCED if n in getattr(world, "services", {})]
    if stack is None or not names:
        return None
    entries = []
    for name in names:
        # The mail store may be a link into the server's runtime folder: followed.
        for folder, _dirs, files in os.walk(stack.state_dir(name), followlinks=True):
            for file in files:
                if file.startswith((".", "dovecot")) or file == "audit.jsonl":
                    continue
                with contextlib.suppress(OSError):
                    st = os.stat(os.path.join(folder, file))
                    entries.append((folder, file, st.st_size, st.st_mtime_ns))
    return hash(tuple(sorted(entries)))


def _can_pause(device: Any) -> bool:
    return bool(getattr(device, "can_pause", False))


def _stands_still(device: Any) -> bool:
    """Whether the device's clock is stopped (read twice, a second and a bit apart)."""
    first = device.shell("date +%s", timeout=10).stdout.strip()
    time.sleep(1.2)
    return device.shell("date +%s", timeout=10).stdout.strip() == first
