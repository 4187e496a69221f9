"""The phone's clock: frozen at a task's "now" unless told to run.

A task freezes time so that "yesterday" in the seeded data means the same day
on every device and every run. The clock keeps its state under the ``clock``
key of a JSON file it shares with other parts (``STATE/system.json``), so it
survives restarts and goes into snapshots with the rest of the phone.
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

    Frozen: ``now()`` is always the set instant. Running: ``now()`` is host
    time plus the offset taken when the clock was set.
    """

    def __init__(self, state_path: Path) -> None:
        self.state_path = Path(state_path)
        self._lock = threading.Lock()
        self._frozen = True
        self._instant_ms = DEFAULT_INSTANT_MS
        self._offset_ms = 0
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
        self._offset_ms = int(state.get("offset_ms", 0))
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
                "offset_ms": self._offset_ms,
                "timezone": self._tz_name,
            },
        )

    # -- reading -------------------------------------------------------------
    def now_ms(self) -> int:
        with self._lock:
            if self._frozen:
                return self._instant_ms
            return int(time.time() * 1000) + self._offset_ms

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms() / 1000, tz=UTC).astimezone(zone(self.timezone))

    @property
    def frozen(self) -> bool:
        return self._frozen

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
            if self._frozen:
                self._instant_ms = int(epoch_ms)
            else:
                self._offset_ms = int(epoch_ms) - int(time.time() * 1000)
            self._save()

    def set_running(self, running: bool) -> None:
        """Start or stop the clock from where it is now (``settings put global auto_time``)."""
        current = self.now_ms()
        self.set_ms(current, frozen=not running)

    def advance(self, delta: timedelta) -> None:
        self.set_ms(self.now_ms() + int(delta.total_seconds() * 1000))

    def set_timezone(self, name: str) -> None:
        zone(name)
        with self._lock:
            self._tz_name = name
            self._save()
