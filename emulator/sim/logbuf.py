"""The virtual phone's system log: what ``adb logcat -d`` shows and records keep.

A bounded ring of entries in logcat's ``threadtime`` layout, stamped with the
phone's own clock, so a record's ``<role>-logcat.txt`` tells when an app started,
which activity came to the front, what a provider wrote and why an app crashed.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

LEVELS = "VDIWEF"
FILTER_LEVELS = LEVELS + "S"  # S: silent, above every level a message can have
_MAX_ENTRIES = 5000


@dataclass(frozen=True)
class LogEntry:
    ms: int
    level: str
    tag: str
    message: str
    pid: int
    tid: int

    def threadtime(self, tz: tzinfo | None = None) -> str:
        """One line per message line, as ``logcat -v threadtime`` prints them."""
        when = datetime.fromtimestamp(self.ms / 1000, tz or UTC)
        stamp = when.strftime("%m-%d %H:%M:%S.") + f"{self.ms % 1000:03d}"
        head = f"{stamp} {self.pid:5d} {self.tid:5d} {self.level} {self.tag}: "
        return "".join(head + line + "\n" for line in self.message.split("\n"))


class LogBuffer:
    """Thread-safe ring of log entries, stamped and shown in the phone's clock and zone."""

    def __init__(self, clock: Any = None, size: int = _MAX_ENTRIES) -> None:
        self._clock = clock
        self._now_ms: Callable[[], int] = (
            clock.now_ms if clock is not None else lambda: int(time.time() * 1000)
        )
        self._entries: deque[LogEntry] = deque(maxlen=size)
        self._lock = threading.Lock()

    def write(self, level: str, tag: str, message: str, pid: int = 0) -> None:
        if level not in LEVELS:
            raise ValueError(f"log level {level!r}: expected one of {LEVELS}")
        try:
            ms = int(self._now_ms())
        except Exception:  # a log line is never worth failing the action that wrote it
            ms = int(time.time() * 1000)
        entry = LogEntry(ms, level, tag, message, pid or os.getpid(), threading.get_native_id())
        with self._lock:
            self._entries.append(entry)

    def i(self, tag: str, message: str) -> None:
        self.write("I", tag, message)

    def e(self, tag: str, message: str) -> None:
        self.write("E", tag, message)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def dump(
        self, tail: int | None = None, min_level: str = "V", tags: dict[str, str] | None = None
    ) -> str:
        """The entries at or above ``min_level`` (``tags``: a level per tag instead), the
        last ``tail`` of them, as logcat filters: ``S`` shows nothing."""
        tags = tags or {}

        def shown(e: LogEntry) -> bool:
            level = tags.get(e.tag, min_level)
            return LEVELS.index(e.level) >= FILTER_LEVELS.index(level)

        rows = [e for e in self.entries() if shown(e)]
        if tail is not None:
            rows = rows[-tail:] if tail > 0 else []
        try:
            tz = self._clock.tzinfo if self._clock is not None else None
        except Exception:
            tz = None
        return "".join(e.threadtime(tz) for e in rows)
