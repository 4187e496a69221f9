"""A stepped world's devices paused between agent actions, so their clocks stand with it.

A device whose clock runs by itself (a QEMU VM: QMP ``stop``/``cont``; an AVD: its
console's ``avd stop``/``avd start``) is paused while nothing uses it: whatever needs it
runs inside :meth:`DevicePauses.running`, which resumes it and pauses it again at the end
(its clock stepped back by what it ran; a VM first runs the mail and calendar sync its
cron would have run at a new minute). Apart from :class:`~rig.world_clock.WorldTime`,
which says when the world's time moves, because this is the part with locks and counts
across threads.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DevicePauses:
    """The pausable devices of ``world`` (a QEMU VM, an AVD), while the world is stepped."""

    world: Any  # rig.world.World
    _pausing: bool = False
    _holds: dict[str, int] = field(default_factory=dict)  # running blocks open, by role
    _paused: dict[str, Any] = field(default_factory=dict)
    _jumped: set[str] = field(default_factory=set)  # clock moved since their last catch-up
    _synced: dict[str, int | None] = field(default_factory=dict)  # at each VM's last sync
    # What pausing did in the episode (the record's agent phase): pauses, clock take-backs,
    # catch-up syncs run and skipped, and the seconds those syncs took.
    stats: dict[str, float] = field(default_factory=dict)
    _ran: dict[str, float] = field(default_factory=dict)  # host seconds run since set
    _since: dict[str, float] = field(default_factory=dict)  # monotonic: running since
    _hold_lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self, pause: bool) -> None:
        """The stepped world starts (its devices just set to ``now``): with ``pause``, the
        devices that can are paused from the end of the first `running` block on (the
        first observation)."""
        self._jumped.clear()  # seeding synced the devices' clients at `now`
        self._synced = {role: _synced_state(self.world) for role in self.pausable()}
        self._pausing = pause and any(_can_pause(d) for d in self.world.devices.values())

    def was_set(self, role: str) -> None:
        """``role``'s clock was just set to world time: it has run nothing since."""
        self._ran[role], self._since[role] = 0.0, time.monotonic()

    def jumped(self) -> None:
        """The world's clock moved: each VM catches up before it is paused next."""
        self._jumped.update(self.pausable())

    @contextlib.contextmanager
    def running(self, roles: Iterable[str] | None = None) -> Iterator[None]:
        """Inside, devices run (see :meth:`rig.world_clock.WorldTime.running`)."""
        held = self.pausable() if roles is None else [r for r in roles if r in self.pausable()]
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
        """Pause nothing again and resume every paused device (what this paused, and any
        other: :meth:`~rig.world.World.resume_all`). Never raises: a device that went away
        is found by whoever uses it next."""
        with self._hold_lock:
            self._pausing = False
            self._paused.clear()
            self.world.resume_all()

    def _count(self, what: str, n: float = 1) -> None:
        self.stats[what] = round(self.stats.get(what, 0) + n, 3)

    @property
    def paused(self) -> list[str]:
        """The roles paused now."""
        return sorted(self._paused)

    def pausable(self) -> list[str]:
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
