"""World time during the agent phase: one clock for the phone, the VM and the services.

Before the agent starts, devices are set to the task's ``now`` (:meth:`World.freeze_clocks`)
and seeding happens. At the agent's first step the clock is *started* in the task's mode:

* ``frozen`` — as before: nothing changes (the virtual phone stands at ``now``).
* ``running`` — every device is set to ``now`` and runs on, ``speed`` world seconds per
  real second; a device whose clock stands still after being set (the virtual phone) is
  told to run (``settings put global auto_time 1``, which the virtual phone reads as "run
  from here", at ``settings put global sim_clock_speed``); the services' clocks are
  anchored at ``now`` and run at the speed. A kernel clock cannot run fast: at a speed
  other than 1 a Linux VM's root helper sets it again every few milliseconds by a
  reference measured here every 30 s, and for an AVD the *keeper*, a thread
  (:mod:`rig.clock_keeper`), brings it to world time every :func:`keep_interval` seconds
  and :meth:`WorldTime.keep` right before each agent action on it (in between it lags
  by (speed − 1) × the time since).
* ``stepped`` — every device is set to ``now``; the services' clocks stand. Only
  :meth:`WorldTime.advance` moves them: it sets every device and the services to the
  new world time. A device whose clock runs by itself (a QEMU VM, an AVD) is *paused*
  between agent actions, its clock with it: whatever needs it (an action, a clock
  step, a delivery) runs inside :meth:`WorldTime.running`, which resumes it and pauses
  it again at the end; :meth:`WorldTime.release` ends that before scoring and teardown
  (:mod:`rig.clock_pause`).

:class:`WorldTime` is the one entry point: it says what world time it is and when it
moves; the two modules named do what that asks of the devices.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rig.clock_keeper import ClockKeeper, Trim, keep_interval
from rig.clock_pause import DevicePauses
from rig.services.audit import write_clock

__all__ = ["Trim", "WorldTime", "keep_interval"]


@dataclass
class WorldTime:
    world: Any  # rig.world.World
    mode: str = "frozen"
    speed: float = 1.0
    _anchor_world: datetime | None = None
    _anchor_host: float = 0.0
    # Stepped: pause the devices that can (a QEMU VM, an AVD) between agent actions.
    pause: bool = True
    _keeper: ClockKeeper = field(init=False, repr=False, compare=False)
    _pauses: DevicePauses = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._keeper = ClockKeeper(self)
        self._pauses = DevicePauses(self.world)

    @property
    def trims(self) -> dict[str, Trim]:
        """Each kept device's last trim (running, at a speed other than 1)."""
        return self._keeper.trims

    @property
    def keeps(self) -> int:
        """The keeper's rounds so far (each trims every device that cannot keep up)."""
        return self._keeper.keeps

    @property
    def pause_stats(self) -> dict[str, float]:
        """What pausing did in the episode (the record's agent phase): pauses, clock
        take-backs, catch-up syncs run and skipped, and the seconds those syncs took."""
        return self._pauses.stats

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
            self._pauses.begin(self.pause)
            return
        # Running: which devices stand when set (the virtual phone) — they are told to run.
        still = {
            r for r, d in self.world.devices.items() if d.kind == "android" and _stands_still(d)
        }
        with self._keeper.lock:
            self._anchor(self.world.now, time.time())
            self._keeper.set_devices(self._phones_first(), still)
        self._keeper.start()

    def trim(self, rounds: int = 3, within_s: float = 0.05) -> None:
        """Running: measure each clock that does not follow world time by itself against it
        and correct it (:meth:`rig.clock_keeper.ClockKeeper.trim`)."""
        if self.mode != "running":
            return
        self._keeper.trim(rounds, within_s)

    def keep(self, role: str | None = None) -> dict[str, float]:
        """Running at a speed other than 1: bring each device that cannot run at it (``role``
        alone, when given) to world time now — the keeper's round, and what the agent's
        every action on such a device is preceded by (:meth:`rig.env.Env.step`). Returns
        what each kept clock was set to (epoch seconds: a VM's own reading right after its
        step, an AVD's ``date`` as sent)."""
        if self.mode != "running" or self.speed == 1 or self._anchor_world is None:
            return {}
        return self._keeper.keep(role)

    def keep_in_guest(self, on: bool) -> None:
        """Running at a speed: whether a VM keeps its clock itself, by a reference measured
        every 30 s (the default), or is trimmed from the host by the keeper's rounds and
        before each agent action on it (how it was kept before; the benchmark compares)."""
        self._keeper.in_guest = on
        self.trim()

    def close(self) -> None:
        """Stop the keeper (idempotent)."""
        self._keeper.close()

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
        with self._keeper.lock:  # the keeper must not step a VM by its reckoning from before
            self._anchor(when, time.time())
            self._keeper.set_devices(self._phones_first())
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
                self._pauses.was_set(role)
            self._anchor(when, time.time())
            self._pauses.jumped()

    def running(self, roles: Iterable[str] | None = None) -> AbstractContextManager[None]:
        """Inside, devices run: wrap whatever uses one (an agent action, a clock step, a
        delivery, a read of its state). In a stepped world the devices that can pause are
        resumed when their outermost block starts and paused when it ends, so their clocks
        stand between agent actions as the world's does. ``roles``: only these devices (an
        action on one; ``()`` for none), else all. Blocks nest, across threads too."""
        return self._pauses.running(roles)

    def release(self) -> None:
        """The agent phase is over: resume every paused device and pause nothing again
        (scoring, snapshots and teardown read the devices). Never raises: a device that went away is
        found by whoever uses it next."""
        self._pauses.release()

    @property
    def paused(self) -> list[str]:
        """The roles paused now (stepped, between agent actions)."""
        return self._pauses.paused

    def _anchor(self, when: datetime, host: float) -> None:
        self._anchor_world, self._anchor_host = when, host
        path = self._clock_path()
        if path is not None:
            write_clock(path, when, self.mode != "running", self.speed, host)


def _stands_still(device: Any) -> bool:
    """Whether the device's clock is stopped (read twice, a second and a bit apart)."""
    first = device.shell("date +%s", timeout=10).stdout.strip()
    time.sleep(1.2)
    return device.shell("date +%s", timeout=10).stdout.strip() == first
