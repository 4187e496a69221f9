"""A task's event stream compiled into one seed plan per device role.

The runner seeds each role with ``world[role].seed(plan)``; plans are what the
devices' seeding primitives take (:class:`emulator.seeding.SeedPlan` for
Android roles, :class:`linux_vm.seeding.LinuxSeedPlan` for Linux ones). Where
each kind of event ends up is documented in :mod:`tasks.compile_android` and
:mod:`tasks.compile_linux`.

Compiling is a pure function of the stream and the task (same stream, same
plans, in the same order, with the same file names and bytes). Events aimed at a
service (``service:mail`` …) have no backend yet: they are returned in
``plans.skipped`` with a one-line :meth:`CompiledPlans.summary`, never dropped
without a trace; anything a primitive cannot hold (a calendar series rule, a
contact's org) is listed in ``plans.losses``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tasks.compile_android import AndroidFold
from tasks.compile_linux import LinuxFold
from tasks.compile_services import ServiceFold, service_of
from tasks.events import SERVICE_PREFIX, EventBase
from tasks.times import zone

if TYPE_CHECKING:
    from tasks.folder import LoadedTask


class CompileError(ValueError):
    """The stream cannot become device state (bad input, named by event id)."""


class CompiledPlans(dict[str, Any]):
    """``{role: plan}`` plus what was not seeded: ``skipped`` events and ``losses`` notes."""

    def __init__(
        self,
        plans: dict[str, Any],
        skipped: list[EventBase],
        losses: list[str],
        services: dict[str, Any] | None = None,
    ):
        super().__init__(plans)
        self.skipped = skipped
        self.losses = losses
        self.services: dict[str, Any] = services or {}

    def summary(self) -> str:
        """One line for the episode log, e.g. ``skipped 12 service events (service:mail 12)``."""
        if not self.skipped:
            return "skipped no events"
        counts = Counter(e.target for e in self.skipped)
        shown = ", ".join(f"{t} {n}" for t, n in sorted(counts.items()))
        return f"skipped {len(self.skipped)} service events of undeclared services ({shown})"

    def skipped_record(self) -> dict[str, Any]:
        """What the episode record keeps about unseeded events: counts and ids."""
        by_target: dict[str, list[str]] = {}
        for e in self.skipped:
            by_target.setdefault(e.target, []).append(e.id or e.kind)
        return {"skipped": by_target, "losses": list(self.losses)}


def compile_plans(loaded: LoadedTask, stream: Iterable[EventBase]) -> CompiledPlans:
    """One seed plan per device role of ``loaded``'s task, from ``stream`` (any order)."""
    task = loaded.task
    return compile_stream(
        task.devices, task.timezone, stream, services=tuple(task.services), now=task.now
    )


def compile_stream(
    devices: dict[str, str],
    timezone: str,
    stream: Iterable[EventBase],
    services: tuple[str, ...] = (),
    now: datetime | None = None,
) -> CompiledPlans:
    """The same as :func:`compile_plans` for a bare ``{role: kind}`` and IANA timezone;
    ``services`` are the declared ones and ``now`` the world's (DTSTAMP)."""
    tz = zone(timezone)
    stream = list(stream)
    if now is None:
        now = max((e.t for e in stream), default=datetime(2000, 1, 1, tzinfo=tz))
    service_fold = ServiceFold(tz, now, tuple(services))
    folds: dict[str, AndroidFold | LinuxFold] = {}
    for role, kind in devices.items():
        if kind == "android":
            folds[role] = AndroidFold(tz)
        elif kind == "linux":
            folds[role] = LinuxFold(tz)
        else:
            raise CompileError(f"device {role!r}: unknown kind {kind!r}")
    skipped: list[EventBase] = []
    # Python's sort is stable: events at the same instant keep their stream order.
    for e in sorted(stream, key=lambda e: e.t):
        if service_of(e, service_fold.declared) is not None:
            try:
                service_fold.add(e)
            except ValueError as exc:
                raise CompileError(str(exc)) from None
            continue
        if e.target.startswith(SERVICE_PREFIX):
            skipped.append(e)
            continue
        fold = folds.get(e.target)
        if fold is None:
            declared = ", ".join(sorted(devices)) or "none"
            raise CompileError(
                f"event {e.id} ({e.kind}): target {e.target!r} is not a device of the task "
                f"(devices: {declared})"
            )
        try:
            fold.add(e)
        except ValueError as exc:
            raise CompileError(str(exc)) from None
    plans: dict[str, Any] = {}
    losses: list[str] = []
    for role, fold in folds.items():
        plans[role] = fold.finish()
        losses += [f"{role}: {why}" for why in fold.losses]
    service_plans = service_fold.finish()
    losses += service_fold.losses
    return CompiledPlans(plans, skipped, losses, service_plans)


def plan_fingerprint(plan: Any) -> str:
    """A stable sha256 of a compiled plan (for determinism checks and the record)."""
    from emulator.seeding import SeedPlan, plan_digest

    if isinstance(plan, SeedPlan):
        return plan_digest(plan)
    # Files may hold any bytes (a bundled PDF): JSON carries them as base64, not UTF-8.
    blob = json.dumps(plan.model_dump(), sort_keys=True, default=_json_value).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)  # a path, an enum: their text is what they mean


__all__ = ["CompileError", "CompiledPlans", "compile_plans", "compile_stream", "plan_fingerprint"]
