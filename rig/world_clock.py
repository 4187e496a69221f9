"""World time during the agent phase: one clock for the phone, the VM and the services.

Before the agent starts, devices are set to the task's ``now`` (:meth:`World.freeze_clocks`)
and seeding happens. At the agent's first step the clock is *started* in the task's mode:

* ``frozen`` — as before: nothing changes (the virtual phone stands at ``now``).
* ``running`` — every device is set to ``now`` and runs on with real time; a device whose
  clock stands still after being set (the virtual phone) is told to run
  (``settings put global auto_time 1``, which the virtual phone reads as "run from here");
  the services' clocks are anchored at ``now`` and run.
* ``stepped`` — every device is set to ``now``; the services' clocks stand. Only
  :meth:`WorldTime.advance` moves them: it sets every device and the services to the
  new world time. A Linux VM's kernel clock cannot be stopped: it ticks on from each
  step (at most the time between two steps ahead).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rig.clock_agreement import device_offset
from rig.services.audit import write_clock


@dataclass
class WorldTime:
    world: Any  # rig.world.World
    mode: str = "frozen"
    speed: float = 1.0
    _anchor_world: datetime | None = None
    _anchor_host: float = 0.0
    _running_roles: set[str] = field(default_factory=set)

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
            return
        # Running: which devices stand when set (the virtual phone) — they are told to run.
        still = {
            r for r, d in self.world.devices.items() if d.kind == "android" and _stands_still(d)
        }
        t0 = time.time()
        for role, device in self._phones_first():
            device.set_clock(
                self.world.now + timedelta(seconds=time.time() - t0), self.world.timezone
            )
            if role in still:
                device.shell("settings put global auto_time 1", timeout=10)
                self._running_roles.add(role)
        self._anchor(self.world.now, t0)
        self.trim()

    def trim(self, rounds: int = 3, within_s: float = 0.05) -> None:
        """Running: measure each clock that can step (a Linux VM) against world time and step
        it by what it is off. Setting a clock takes the transport's delay (a loaded host: half
        a second and more), which a relative step in the guest does not."""
        if self.mode != "running":
            return
        for role, device in self.world.devices.items():
            if not hasattr(device, "step_clock"):
                continue
            for _ in range(rounds):
                r = device_offset(role, device, self)
                if abs(r.offset_s) <= max(within_s, r.error_s):
                    break
                device.step_clock(-r.offset_s)

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
        t0 = time.time()
        for role, device in self._phones_first():
            device.set_clock(when + timedelta(seconds=time.time() - t0), self.world.timezone)
            if role in self._running_roles:
                device.shell("settings put global auto_time 1", timeout=10)
        self._anchor(when, t0)
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
        for device in self.world.devices.values():
            device.set_clock(when, self.world.timezone)
        self._anchor(when, time.time())

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
