"""Heartbeats: a proactive episode as a run of wake-ups in simulated time.

The task's ``heartbeats:`` (``tasks/heartbeats.py``) gives the beats' world times. The
:class:`~rig.env.Env` owns one :class:`Heartbeats`: the first beat opens at ``reset()``;
``finish`` (or a beat's own step or time limit) ends the current beat, the world clock
moves to the next beat's time — what falls due in between fires on the way — and the
next beat's prompt and world time come back as that step's observation text. Only
``finish`` in the last beat ends the episode (then it is scored), so every front end
that loops "step until done" carries beats without knowing about them: the MCP
``finish`` tool returns the next beat, the built-in agent reads it as a tool result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rig.actions import Finish
from tasks.heartbeats import HeartbeatSpec


@dataclass(frozen=True)
class Beat:
    """One wake-up: ``index`` counts from 1; ``due`` is the schedule's world time, ``at``
    the world time when it really opened (later than ``due`` if the agent's own ``wait``
    had already moved the world past it)."""

    index: int
    total: int
    due: datetime
    at: datetime
    prompt: str
    why: str  # how the beat before ended: "start", "finish", "beat step limit", ...

    @property
    def last(self) -> bool:
        return self.index >= self.total

    def text(self) -> str:
        """What the agent is told when it is woken."""
        head = f"Heartbeat {self.index}/{self.total}: it is {self.at:%A %d %B %Y, %H:%M}"
        tail = (
            "This is the last heartbeat: finish ends the episode."
            if self.last
            else "Act, then call finish to sleep until the next heartbeat."
        )
        return f"{head} ({self.at.isoformat()}) on the devices. {self.prompt}\n{tail}"

    def record(self) -> dict[str, Any]:
        return {
            "beat": self.index,
            "of": self.total,
            "due": self.due.isoformat(),
            "world_time": self.at.isoformat(),
            "why": self.why,
            "prompt": self.prompt,
        }


# Moves the world to a time: the clock, and whatever falls due on the way (live events).
Advance = Callable[[datetime], None]


@dataclass
class Heartbeats:
    """The beats of one episode and the current one's step and time budget."""

    spec: HeartbeatSpec
    start: datetime  # the task's now
    timezone: str
    clock: Any  # rig.world_clock.WorldTime
    on_beat: Callable[[Beat], None] | None = None  # the recorder: each beat as it opens
    advance: Advance | None = None  # default: the clock alone (live events plug in here)
    current: Beat | None = None
    steps: int = 0  # steps in the current beat
    began: float = 0.0  # host monotonic time the current beat opened
    history: list[Beat] = field(default_factory=list)
    pending: Beat | None = None  # opened, not yet on a recorded step

    def __post_init__(self) -> None:
        self.due = self.spec.times(self.start)

    @property
    def total(self) -> int:
        return len(self.due)

    @property
    def last(self) -> bool:
        return self.current is not None and self.current.last

    def begin(self) -> Beat:
        """Open the first beat (at ``reset()``; the clock already stands at ``now``)."""
        self.current, self.history = None, []
        return self._open(1, "start")

    def count_step(self) -> None:
        self.steps += 1

    def over(self) -> str | None:
        """Why the current beat must end now (its own limits), or None."""
        if self.spec.max_steps is not None and self.steps >= self.spec.max_steps:
            return "beat step limit"
        limit = self.spec.max_seconds
        if limit is not None and time.monotonic() - self.began >= limit:
            return "beat time limit"
        return None

    def next(self, why: str) -> Beat:
        """End the current beat (``why``), move the world to the next one's time, open it."""
        assert self.current is not None and not self.current.last
        index = self.current.index + 1
        due = self.due[index - 1]
        now = self._world_now()
        if now is None or due > now:
            (self.advance or self._clock_to)(due)
        return self._open(index, why)

    def take_pending(self) -> dict[str, Any] | None:
        """The beat opened since the last recorded step (for that step's record)."""
        beat, self.pending = self.pending, None
        return None if beat is None else beat.record()

    def _open(self, index: int, why: str) -> Beat:
        tz = ZoneInfo(self.timezone)
        at = (self._world_now() or self.due[index - 1]).astimezone(tz)
        due = self.due[index - 1].astimezone(tz)
        beat = Beat(index, self.total, due, at, self.spec.prompt, why)
        self.current = self.pending = beat
        self.history.append(beat)
        self.steps, self.began = 0, time.monotonic()
        if self.on_beat is not None:
            self.on_beat(beat)
        return beat

    def _world_now(self) -> datetime | None:
        return None if self.clock is None else self.clock.now()

    def _clock_to(self, when: datetime) -> None:
        if self.clock is not None:
            self.clock.advance_to(when)


def finish_all(env: Any, reason: str) -> None:
    """End the episode: ``finish`` every beat still to come (the clock walks through them,
    so what falls due still happens before scoring). Without beats, one ``finish``."""
    beats = getattr(env, "beats", None)
    bound = 1 + (beats.total if beats is not None else 0)
    for _ in range(bound):
        if env.done:
            return
        env.step(Finish(reason=reason))


def for_episode(task: Any, clock: Any, recorder: Any, progress: Callable[[str], None]) -> Any:
    """The episode's :class:`Heartbeats` (None for a task without ``heartbeats:``); each
    beat is a line of ``events.jsonl`` (the report's heartbeat lane) as it opens."""
    if task.heartbeats is None:
        return None

    def opened(beat: Beat) -> None:
        recorder.event(
            kind="heartbeat", lane="heartbeats", text=f"{beat.index}/{beat.total} "
            f"{beat.at:%H:%M}", **beat.record()
        )  # fmt: skip
        progress(f"agent: heartbeat {beat.index}/{beat.total} at {beat.at:%H:%M} (world)")

    return Heartbeats(task.heartbeats, task.now, task.timezone, clock, on_beat=opened)
