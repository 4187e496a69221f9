"""The world clock every service keeps, and the audit log each one appends to.

A world starts at the task's ``now``; services count world time from there with
the host's monotonic clock, so Date headers, INTERNALDATE, DTSTAMP and audit times
all agree with the devices' frozen (or running) clocks, never with the host's wall
clock. An audit record is one JSON line: world time, client address, operation,
object ids; secrets (passwords, AUTH payloads) never reach it. The client is the
device role when it came in on that role's own port, else its address.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


class WorldClock:
    """The world's time: the task's ``now`` plus the time the world has been up — until
    the controller writes ``state`` (:func:`write_clock`); from then on the world time it
    says: standing (frozen, stepped) or running from an anchor at a speed."""

    def __init__(self, now: datetime, state: Path | None = None) -> None:
        if now.tzinfo is None:
            raise ValueError("the world clock needs an aware datetime")
        self.start = now
        self._t0 = time.monotonic()
        self._state = state
        self._seen: tuple[int, dict[str, Any]] | None = None

    def _anchor(self) -> dict[str, Any] | None:
        if self._state is None:
            return None
        try:
            mtime = self._state.stat().st_mtime_ns
        except OSError:
            return None
        if self._seen is None or self._seen[0] != mtime:
            try:
                self._seen = (mtime, json.loads(self._state.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                return self._seen[1] if self._seen else None
        return self._seen[1]

    def now(self) -> datetime:
        anchor = self._anchor()
        if anchor is None:
            return self.start + timedelta(seconds=time.monotonic() - self._t0)
        world_s = anchor["world"]
        if not anchor["frozen"]:
            world_s += anchor["speed"] * (time.time() - anchor["host"])
        return datetime.fromtimestamp(world_s, tz=self.start.tzinfo)


def write_clock(
    path: Path, world: datetime, frozen: bool, speed: float = 1.0, host: float | None = None
) -> None:
    """Anchor every :class:`WorldClock` reading ``path``: world time ``world`` at host wall
    time ``host`` (default: now), standing or running at ``speed``. Atomic."""
    host = time.time() if host is None else host
    data = {"world": world.timestamp(), "host": host, "frozen": frozen, "speed": speed}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


class AuditLog:
    """Appends one JSON object per request to ``path`` (thread-safe, flushed per line)."""

    def __init__(self, path: Path, clock: WorldClock, service: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.clock, self.service = path, clock, service
        self.roles: dict[int, str] = {}  # the host's listening port -> the device role it serves
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def client(self, local_port: int | None, peer: Any) -> str:
        """Who is calling: the device role whose own port was used, else the peer address."""
        role = self.roles.get(local_port) if local_port is not None else None
        if role is not None:
            return role
        return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    def write(self, client: str, operation: str, **objects: Any) -> None:
        record = {"t": self.clock.now().isoformat(), "service": self.service}
        record.update(client=client, op=operation)
        record.update({k: v for k, v in objects.items() if v is not None})
        line = audit_line(record)
        with self._lock:
            if not self._file.closed:
                self._file.write(line)
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def audit_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=str) + "\n"


def ending_at(records: list[dict[str, Any]], end: datetime) -> list[dict[str, Any]]:
    """``records`` with their times moved back by one amount, so the latest is at ``end``
    (order and spacing kept; times are the host's pace, which differs in every world)."""
    times = [datetime.fromisoformat(r["t"]) for r in records if isinstance(r.get("t"), str)]
    shift = max(max(times, default=end) - end, timedelta(0))
    if not shift:
        return records
    return [
        {**r, "t": (datetime.fromisoformat(r["t"]) - shift).isoformat()}
        if isinstance(r.get("t"), str)
        else r
        for r in records
    ]


def read_audit(path: Path) -> list[dict[str, Any]]:
    """Every record of an audit log (a torn last line from a killed host is skipped)."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
