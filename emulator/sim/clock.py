"""The phone's clock: frozen at a task's "now" unless told to run.

A task freezes time so that "yesterday" in the seeded data means the same day
on every device and every run. A running clock runs at a speed (world seconds per
host second, 1 unless told otherwise: ``settings put global sim_clock_speed 60``, a
virtual-phone-only setting that a real Android stores and ignores), so that a world
whose clock runs fast has a phone that keeps up with it by itself. The clock keeps its
state under the ``clock`` key of a JSON file it shares with other parts
(``STATE/system.json``), so it survives restarts and goes into snapshots with the rest
of the phone.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A fresh phone's time: a fixed instant, so that two fresh phones agree.
DEFAULT_INSTANT_MS = 1_767_258_000_000  # 2026-01-01 09:00:00 UTC
DEFAULT_TIMEZONE = "UTC"
MAX_SPEED = 3600.0  # an hour a second: the fastest world clock a task may ask for


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ``ValueError`` naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown timezone {name!r} (expected an IANA name like Europe/Paris)"
        ) from exc


# One lock for every read-modify-write of a shared JSON file in this process: the
# clock and the phone both keep keys in STATE/system.json.
_JSON_LOCK = threading.Lock()


def update_json(path: Path, key: str, value: Any) -> None:
    """Set one top-level key of a JSON file atomically, keeping the other keys."""
    with _JSON_LOCK:
        data: dict[str, Any] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8") or "{}")
            except json.JSONDecodeError:
                data = {}
        data[key] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".json-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
        os.replace(tmp, path)


class PhoneClock:
    """A :class:`~emulator.sim.contracts.Clock` persisted in ``state_path``.

    Frozen: ``now()`` is always the set instant. Running: ``now()`` is the instant
    it was set to plus ``speed`` times the host time since (``host_ms``, when it was set).
    """

    def __init__(self, state_path: Path) -> None:
        self.state_path = Path(state_path)
        self._lock = threading.Lock()
        self._frozen = True
        self._instant_ms = DEFAULT_INSTANT_MS
        self._host_ms = 0
        self._speed = 1.0
        self._tz_name = DEFAULT_TIMEZONE
        self._load()

    def _load(self) -> None:
        if not self.state_path.exists():
            return
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8") or "{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"{self.state_path}: not valid JSON ({exc})") from exc
        state = data.get("clock") or {}
        self._frozen = bool(state.get("frozen", True))
        self._instant_ms = int(state.get("instant_ms", DEFAULT_INSTANT_MS))
        self._speed = float(state.get("speed", 1.0))
        if "host_ms" in state:
            self._host_ms = int(state["host_ms"])
        else:  # saved before speeds: running at host time plus an offset
            self._host_ms = int(time.time() * 1000)
            if not self._frozen:
                self._instant_ms = self._host_ms + int(state.get("offset_ms", 0))
        tz = str(state.get("timezone", DEFAULT_TIMEZONE))
        zone(tz)
        self._tz_name = tz

    def _save(self) -> None:
        update_json(
            self.state_path,
            "clock",
            {
                "frozen": self._frozen,
                "instant_ms": self._instant_ms,
                "host_ms": self._host_ms,
                "speed": self._speed,
                "timezone": self._tz_name,
            },
        )

    # -- reading -------------------------------------------------------------
    def now_ms(self) -> int:
        with self._lock:
            if self._frozen:
                return self._instant_ms
            return self._running_ms(int(time.time() * 1000))

    def _running_ms(self, host_ms: int) -> int:
        return self._instant_ms + round(self._speed * (host_ms - self._host_ms))

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms() / 1000, tz=UTC).astimezone(zone(self.timezone))

    @property
    def frozen(self) -> bool:
        return self._frozen

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def timezone(self) -> str:
        return self._tz_name

    @property
    def tzinfo(self) -> ZoneInfo:
        return zone(self._tz_name)

    # -- setting -------------------------------------------------------------
    def set(self, when: datetime, frozen: bool = True) -> None:
        """Set the time; a naive ``when`` is read in the phone's timezone."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.tzinfo)
        self.set_ms(int(when.timestamp() * 1000), frozen=frozen)

    def set_ms(self, epoch_ms: int, frozen: bool | None = None) -> None:
        """Set the time in epoch milliseconds, keeping frozen/running unless told."""
        with self._lock:
            if frozen is not None:
                self._frozen = frozen
            self._instant_ms, self._host_ms = int(epoch_ms), int(time.time() * 1000)
            self._save()

    def set_running(self, running: bool) -> None:
        """Start or stop the clock from where it is now (``settings put global auto_time``)."""
        current = self.now_ms()
        self.set_ms(current, frozen=not running)

    def set_speed(self, speed: float) -> None:
        """Run at ``speed`` from the time it says now (``settings put global sim_clock_speed``);
        ``ValueError`` unless 0 < speed <= :data:`MAX_SPEED`."""
        speed = float(speed)
        if not 0 < speed <= MAX_SPEED:  # also refuses NaN
            raise ValueError(f"clock speed must be above 0 and at most {MAX_SPEED:g}, not {speed}")
        with self._lock:
            host = int(time.time() * 1000)
            if not self._frozen:
                self._instant_ms, self._host_ms = self._running_ms(host), host
            self._speed = speed
            self._save()

    def advance(self, delta: timedelta) -> None:
        self.set_ms(self.now_ms() + int(delta.total_seconds() * 1000))

    def set_timezone(self, name: str) -> None:
        zone(name)
        with self._lock:
            self._tz_name = name
            self._save()
