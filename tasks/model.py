"""The task format: what ``task.yaml`` may say, as pydantic models.

A task folder holds ``task.yaml``, an ``oracle.py`` (the reference solution,
``def solve(env)``), and any fixtures. ``task.yaml`` names devices by role and
kind only; which backend plays a role is configuration, never the task's call.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tasks.checks import CheckSpec, SafetySpec
from tasks.generator import GeneratorSettings
from tasks.heartbeats import HeartbeatSpec
from tasks.times import TimeInvalid, in_range, zone
from tasks.user import UserSpec

Role = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
DeviceKind = Literal["android", "linux"]
Surface = Literal["gui", "cli", "cross-device"]
# The world's services a task may declare (rig/services/base.py SERVICES has one module each).
ServiceName = Literal["mail", "calendar", "contacts", "bank", "shop", "parcels", "chat"]
ORACLE_FILE = "oracle.py"


def _iana(value: str) -> str:
    try:
        zone(value)
    except TimeInvalid as exc:
        raise ValueError(str(exc)) from None
    return value


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Limits(_M):
    max_steps: int = Field(default=60, ge=1, le=10_000)
    max_seconds: float = Field(default=900.0, gt=0, le=86_400)


MAX_CLOCK_SPEED = 3600.0


class ClockSpec(_M):
    """How world time moves during the agent phase (docs/always-on.md).

    ``frozen``: as before (the phone stands at ``now``). ``running``: every device and
    service runs on from ``now``, ``speed`` world seconds per real second (1 unless
    told; at most 3600, an hour a second). ``stepped``: the world stands still until the
    controller advances it (a ``wait`` action advances it by its seconds)."""

    mode: Literal["frozen", "running", "stepped"] = "frozen"
    speed: float = 1.0

    @field_validator("speed", mode="before")
    @classmethod
    def _speed_number(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"must be a number of world seconds per real second, not {v!r}")
        if not v > 0:  # NaN too
            raise ValueError(f"must be a positive number (world seconds per real second), not {v}")
        if v > MAX_CLOCK_SPEED:
            raise ValueError(
                f"{v:g} is too fast: at most {MAX_CLOCK_SPEED:g} (an hour of world time a second)"
            )
        return v

    @model_validator(mode="after")
    def _speed(self) -> ClockSpec:
        if self.speed != 1.0 and self.mode != "running":
            raise ValueError(f"speed applies to the running clock, not {self.mode}")
        return self


class EventsSpec(_M):
    """The task's world before it starts: a persona's generated life plus the task's plot.

    ``plot`` lists events inline; ``plot_file`` names a YAML file (a list of events)
    beside ``task.yaml``. ``phone``/``laptop`` say which roles the generator fills;
    by default the first declared android and linux roles.
    """

    # A bundled persona's name or a file, or {base: NAME, FACT: VALUE, …} overriding facts.
    persona: str | dict[str, Any] | None = None
    generator: GeneratorSettings = Field(default_factory=GeneratorSettings)
    plot: list[dict[str, Any]] = Field(default_factory=list)
    plot_file: str | None = None
    phone: Role | None = None
    laptop: Role | None = None


class Task(_M):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")
    title: str = Field(min_length=1)
    mode: Literal["reactive", "proactive"]
    surfaces: list[Surface] = Field(min_length=1)
    instruction: str = Field(min_length=1)
    heartbeat_minutes: int | None = Field(default=None, ge=1, le=1440)
    now: datetime
    timezone: Annotated[str, AfterValidator(_iana)]
    devices: dict[Role, DeviceKind] = Field(min_length=1)
    services: list[ServiceName] = Field(default_factory=list)
    events: EventsSpec = Field(default_factory=EventsSpec)
    limits: Limits = Field(default_factory=Limits)
    checks: list[CheckSpec] = Field(min_length=1)
    safety: list[SafetySpec] = Field(default_factory=list)
    user: UserSpec = Field(default_factory=UserSpec)
    clock: ClockSpec = Field(default_factory=ClockSpec)
    # Events delivered while the agent works (tasks/live.py validates each one).
    live: list[dict[str, Any]] = Field(default_factory=list)
    heartbeats: HeartbeatSpec | None = None  # after mode and clock: its check reads both

    _folder: Path | None = PrivateAttr(default=None)

    @field_validator("now")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2026-03-16T09:00:00+01:00")
        try:
            return in_range(value)
        except TimeInvalid as exc:
            raise ValueError(str(exc)) from None

    @field_validator("surfaces", "services")
    @classmethod
    def _distinct(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"{info.field_name} are listed more than once")
        return value

    @field_validator("heartbeats")
    @classmethod
    def _beats_need_time(
        cls, value: HeartbeatSpec | None, info: ValidationInfo
    ) -> HeartbeatSpec | None:
        if value is None:
            return value
        if info.data.get("mode") == "reactive":
            raise ValueError("heartbeats only apply to proactive tasks (mode: proactive)")
        clock = info.data.get("clock")
        if clock is not None and clock.mode == "frozen":
            raise ValueError(
                "heartbeats need a clock that moves between beats: "
                "clock: {mode: stepped} (or running)"
            )
        return value

    @model_validator(mode="after")
    def _proactive_heartbeat(self) -> Task:
        if self.mode == "reactive" and self.heartbeat_minutes is not None:
            raise ValueError("heartbeat_minutes only applies to proactive tasks")
        return self

    @model_validator(mode="after")
    def _live_needs_time(self) -> Task:
        if self.live and self.clock.mode == "frozen":
            raise ValueError(
                "live events need time to pass: set clock: {mode: running} or {mode: stepped}"
            )
        return self

    @property
    def folder(self) -> Path | None:
        return self._folder

    @property
    def oracle_path(self) -> Path | None:
        return None if self._folder is None else self._folder / ORACLE_FILE

    @property
    def has_oracle(self) -> bool:
        """Whether an ``oracle.py`` sits beside ``task.yaml`` (it is never run by loading)."""
        path = self.oracle_path
        return path is not None and path.is_file()

    def roles_of(self, kind: DeviceKind) -> list[str]:
        return [role for role, k in self.devices.items() if k == kind]
