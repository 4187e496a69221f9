"""A proactive episode as a stretch of simulated time: ``heartbeats:`` in ``task.yaml``.

An always-on assistant is not asked once; it is woken now and then to look around.
``heartbeats: {every: 30m, until: +8h, prompt: "…"}`` makes the episode a run of
beats at ``now``, ``now + 30m``, … (the last one before ``now + until``): at each the
agent gets the prompt and the world time, acts, and yields with ``finish``. The rig
(``rig/heartbeats.py``) moves the world clock to the next beat in between.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_SPAN = re.compile(r"^\s*(?:(\d+)\s*([mhd])\s*)+$")
_PART = re.compile(r"(\d+)\s*([mhd])")
_UNIT = {"m": 60, "h": 3600, "d": 86400}
MAX_BEATS = 1000


def span(text: str, signed: bool = False) -> timedelta:
    """``"30m"``, ``"1h 30m"`` (``signed``: ``"+8h"``) as a timedelta; a clear error else."""
    raw = str(text).strip()
    if signed:
        if not raw.startswith("+"):
            raise ValueError(f"{text!r} must be an offset after now, like '+8h'")
        raw = raw[1:]
    if not _SPAN.match(raw):
        example = "'+8h' or '+7h 30m'" if signed else "'30m' or '1h 30m'"
        raise ValueError(f"{text!r} is not a span of time; write it like {example}")
    return timedelta(seconds=sum(int(n) * _UNIT[u] for n, u in _PART.findall(raw)))


class HeartbeatSpec(BaseModel):
    """When the agent is woken, what it is told, and how much each beat may take.

    ``max_steps``/``max_seconds`` bound one beat (the beat ends there and the next one
    starts); the task's ``limits`` bound the whole episode."""

    model_config = ConfigDict(extra="forbid")
    every: str
    until: str
    prompt: str = Field(min_length=1)
    max_steps: int | None = Field(default=None, ge=1, le=10_000)
    max_seconds: float | None = Field(default=None, gt=0, le=86_400)

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        if span(value) <= timedelta(0):
            raise ValueError("must be longer than 0 minutes")
        return value

    @field_validator("until")
    @classmethod
    def _until(cls, value: str) -> str:
        if span(value, signed=True) <= timedelta(0):
            raise ValueError("must be after now (e.g. '+8h')")
        return value

    @model_validator(mode="after")
    def _count(self) -> HeartbeatSpec:
        n = -(-span(self.until, signed=True) // span(self.every))
        if n > MAX_BEATS:
            raise ValueError(f"{n} beats ({self.every} until {self.until}); at most {MAX_BEATS}")
        return self

    def offsets(self) -> list[timedelta]:
        """Each beat's offset from the episode's start: 0, every, 2·every, … < until."""
        step, end = span(self.every), span(self.until, signed=True)
        count = -(-end // step)  # ceil: the last beat is the one before `until`
        return [step * k for k in range(min(count, MAX_BEATS))]

    def times(self, now: datetime) -> list[datetime]:
        return [now + offset for offset in self.offsets()]
