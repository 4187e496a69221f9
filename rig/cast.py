"""The agent's terminal recorded as an asciicast v2 file, redacted like the rest of the record.

Format (https://docs.asciinema.org/manual/asciicast/v2/): a JSON header line, then one
JSON array per event, ``[seconds, code, data]``: ``"o"`` output as the terminal drew it,
``"m"`` a marker (here one per agent step, ``"step 12"``, so the report can play the
part of the session that belongs to a step).

Output is written a line at a time (a partial line waits for its end, the next step
marker, or 8 KiB), so a secret is redacted whole even when the guest printed it in two
pieces. Past ``cap`` bytes (a flood) output is no longer written; at the next marker a
repaint of the screen's text takes its place, so playback still ends on the screen the
agent saw (colours aside).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rig.redact import Redactor

CAST_CAP_BYTES = 32 * 1024 * 1024
_PENDING_MAX = 8192


def read_cast(path: Path) -> tuple[dict, list[list]]:
    """The header and the events of a cast file (lines cut short by a crash are skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    events = []
    for line in lines[1:]:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return header, events


class CastWriter:
    """Appends one terminal's events to ``path`` as they happen (thread-safe)."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        redactor: Redactor,
        title: str = "",
        cap: int = CAST_CAP_BYTES,
        repaint: Callable[[], str] | None = None,
    ) -> None:
        self.path = path
        self.redactor = redactor
        self.cap = cap
        self.repaint = repaint
        self.start = time.time()
        self.written = 0
        self.dropped = 0
        self._dropped_since_repaint = False
        self._capped = False
        self._last = 0.0
        self._pending = ""
        self._pending_at = 0.0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "w", encoding="utf-8")  # noqa: SIM115
        header = {
            "version": 2,
            "width": width,
            "height": height,
            "timestamp": int(self.start),
            "title": title,
            "env": {"TERM": "xterm-256color", "SHELL": "/bin/bash"},
        }
        self._fh.write(json.dumps(header) + "\n")
        self._fh.flush()

    def output(self, at: float, text: str) -> None:
        """A chunk of terminal output that arrived at ``at`` (epoch seconds)."""
        with self._lock:
            if self._fh.closed:
                return
            if not self._pending:
                self._pending_at = at
            self._pending += text
            cut = self._pending.rfind("\n") + 1
            if cut == 0 and len(self._pending) >= _PENDING_MAX:
                cut = len(self._pending)
            if cut:
                self._out(self._pending_at, self._pending[:cut])
                self._pending = self._pending[cut:]
                self._pending_at = at
            self._fh.flush()

    def mark(self, label: str) -> float:
        """Flush, write a marker, and return its time (seconds since the cast began)."""
        with self._lock:
            now = time.time()
            if self._fh.closed:
                return now - self.start
            self._flush_pending()
            if self._dropped_since_repaint and self.repaint is not None:
                self._event(now, "o", self.repaint())
                self._dropped_since_repaint = False
            t = self._event(now, "m", label)
            self._fh.flush()
            return t

    def close(self) -> None:
        with self._lock:
            if self._fh.closed:
                return
            self._flush_pending()
            self._fh.close()

    def _flush_pending(self) -> None:
        if self._pending:
            self._out(self._pending_at, self._pending)
            self._pending = ""

    def _out(self, at: float, text: str) -> None:
        text = self.redactor.text(text)
        size = len(text.encode("utf-8", "replace"))
        if self._capped or self.written + size > self.cap:
            self._capped = True
            self.dropped += size
            self._dropped_since_repaint = True
            return
        self.written += size
        self._event(at, "o", text)

    def _event(self, at: float, code: str, data: str) -> float:
        # Never back in time (a cast player reads the times in order).
        t = self._last = round(max(self._last, at - self.start), 6)
        self._fh.write(json.dumps([t, code, data], ensure_ascii=False) + "\n")
        return t
