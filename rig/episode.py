"""One episode, end to end: world → clock → seed → agent → state → score → record.

Each phase is timed and recorded as it starts and ends, so a crash leaves an
honest record of how far the episode got. An infrastructure failure in any
phase (a device that would not boot or went away, a seed that did not read
back) ends the episode as ``infra_error`` with its cause; it is never scored
as the agent's failure.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rig.agents import Agent
from rig.config import RigConfig, parse_config
from rig.env import Env, Limits, StepRecord
from rig.errors import RigError, is_infra
from rig.recorder import Recorder
from rig.viewer import write_report
from rig.world import DeviceKind, World, make_backend
from scoring.evaluate import Scorer
from tasks.folder import LoadedTask

PHASES = ("allocate", "clock", "seed", "baseline", "agent", "score")
Progress = Callable[[str], None]


@dataclass
class EpisodeResult:
    """What ``score.json`` holds: the verdict, per-check results, and how long each phase took."""

    task_id: str
    passed: bool = False
    score: float = 0.0
    checks: list[dict[str, Any]] = field(default_factory=list)
    safety: list[dict[str, Any]] = field(default_factory=list)
    infra_error: str | None = None
    error: str | None = None
    phases: dict[str, Any] = field(default_factory=dict)
    steps: int = 0
    done_reason: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ran(self) -> bool:
        """True when the agent's attempt was scored (pass or fail)."""
        return self.infra_error is None and self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "passed": self.passed,
            "score": self.score,
            "checks": self.checks,
            "safety": self.safety,
            "infra_error": self.infra_error,
            "error": self.error,
            "phases": self.phases,
            "steps": self.steps,
            "done_reason": self.done_reason,
            "messages": self.messages,
        }


def backend_overrides(
    config: RigConfig, android: str | None = None, linux: str | None = None
) -> RigConfig:
    """Apply ``--android sim|avd:NAME|attach:SERIAL`` and ``--linux qemu|attach:U@H:P``."""
    data = config.model_dump()
    if android:
        name, _, arg = android.partition(":")
        data["devices"]["android"] = name
        if name == "avd" and arg:
            data["android"]["avd"]["name"] = arg
        elif name == "attach" and arg:
            data["android"]["attach"]["serials"] = arg.split(",")
    if linux:
        name, _, arg = linux.partition(":")
        data["devices"]["linux"] = name
        if name == "attach" and arg:
            user, _, hostport = arg.rpartition("@")
            host, _, port = hostport.partition(":")
            data["linux"]["attach"].update({k: v for k, v in (("user", user), ("host", host)) if v})
            if port:
                data["linux"]["attach"]["port"] = int(port)
    return parse_config(data, config.source)


def allocate(task: Any, config: RigConfig, workdir: Path) -> World:
    """Bring up one device per task role with the configured backend for its kind."""
    world = World(now=task.now, timezone=task.timezone)
    backends: dict[DeviceKind, Any] = {}
    try:
        for role, kind in task.devices.items():
            if kind not in backends:
                name = config.devices.android if kind == "android" else config.devices.linux
                backends[kind] = make_backend(kind, name, config)
            backend = backends[kind]
            role_dir = workdir / role
            role_dir.mkdir(parents=True, exist_ok=True)
            world.add(backend.acquire(role, role_dir), owner=backend)
    except BaseException:
        world.close()
        raise
    return world


def _plans(loaded: LoadedTask, progress: Progress) -> dict[str, Any]:
    from tasks.compile import compile_plans

    stream = loaded.stream()
    progress(f"seed: {len(stream)} events")
    return compile_plans(loaded, stream)


def _commands(records: list[StepRecord]) -> list[tuple[str, str]]:
    out = []
    for rec in records:
        action = rec.action
        if getattr(action, "action", None) == "shell":
            out.append((action.device, action.command))
    return out


def run_episode(
    loaded: LoadedTask,
    agent: Agent,
    config: RigConfig,
    out: Path,
    progress: Progress = lambda _msg: None,
) -> EpisodeResult:
    """Run one task with one agent; the record is written under ``out``."""
    task = loaded.task
    out.mkdir(parents=True, exist_ok=True)
    recorder = Recorder(out)
    recorder.json(
        "task.json",
        {
            "id": task.id,
            "title": task.title,
            "mode": task.mode,
            "surfaces": list(task.surfaces),
            "instruction": task.instruction,
            "now": task.now.isoformat(),
            "timezone": task.timezone,
            "devices": dict(task.devices),
            "agent": getattr(agent, "name", "agent"),
            "path": str(loaded.path),
        },
    )
    result = EpisodeResult(task.id)
    world: World | None = None
    phase = "allocate"
    records: list[StepRecord] = []
    try:
        progress(
            "allocate: bringing up " + ", ".join(f"{r} ({k})" for r, k in task.devices.items())
        )
        recorder.phase_start(phase)
        world = allocate(task, config, out / "devices")
        recorder.phase_end(phase)

        phase = "clock"
        recorder.phase_start(phase)
        world.freeze_clocks()
        recorder.phase_end(phase)

        phase = "seed"
        recorder.phase_start(phase)
        plans = _plans(loaded, progress)
        digests = {}
        for role, plan in plans.items():
            progress(f"seed: {role}")
            recorder.json(f"seed/{role}-plan.json", _jsonable(plan))
            digests[role] = dict(world[role].seed(plan))
            recorder.json(f"seed/{role}-digest.json", digests[role])
        recorder.phase_end(phase, digests={r: d.get("digest") for r, d in digests.items()})

        phase = "baseline"
        recorder.phase_start(phase)
        scorer = Scorer(task, world)
        scorer.baseline()
        recorder.phase_end(phase)

        phase = "agent"
        recorder.phase_start(phase)

        def on_step(rec: StepRecord) -> None:
            records.append(rec)
            recorder.on_step(rec)
            progress(f"agent: step {rec.index + 1}/{task.limits.max_steps}")

        limits = Limits(
            max_steps=task.limits.max_steps,
            max_seconds=task.limits.max_seconds,
            shell_timeout_s=config.limits.shell_timeout_s,
            shell_output_cap=config.limits.shell_output_cap,
        )
        env = Env(world, task.instruction, limits=limits, on_step=on_step, record_before=True)
        env.reset()
        try:
            agent.run(env, task.instruction)
        except Exception as exc:
            if is_infra(exc) or _is_api_outage(exc):
                raise
            # The agent (or the oracle) broke: that is its failure, scored as such.
            recorder.set(agent_error=f"{type(exc).__name__}: {exc}")
        if not env.done:
            env.step({"action": "finish", "reason": "agent returned"})
        result.steps, result.done_reason = env.steps, env.done_reason
        result.messages = [m.__dict__ for m in env.messages]
        recorder.json("messages.json", result.messages)
        recorder.phase_end(phase, steps=env.steps, done_reason=env.done_reason)

        phase = "score"
        progress("score: reading device state")
        recorder.phase_start(phase)
        verdict = scorer.score(env.messages, _commands(records))
        recorder.phase_end(phase)
        result.passed, result.score = verdict.passed, verdict.score
        data = verdict.to_dict()
        result.checks, result.safety = data["checks"], data["safety"]
        recorder.json("final_state.json", {"checks": data["checks"], "safety": data["safety"]})
        status = "passed" if result.passed else "failed"
    except Exception as exc:
        if is_infra(exc) or _is_api_outage(exc):
            result.infra_error = f"{phase}: {type(exc).__name__}: {exc}"
            recorder.phase_end(phase, status="infra_error")
            recorder.set(infra_error=result.infra_error)
            status = "infra_error"
        elif isinstance(exc, RigError | ValueError):
            result.error = f"{phase}: {exc}"
            recorder.phase_end(phase, status="error")
            recorder.set(error=result.error)
            status = "error"
        else:
            result.error = f"{phase}: {type(exc).__name__}: {exc}"
            recorder.phase_end(phase, status="error")
            recorder.set(error=result.error, traceback=traceback.format_exc())
            status = "error"
    finally:
        if world is not None:
            try:
                world.close()
            except Exception as exc:  # a device that will not stop is worth a note, not a verdict
                recorder.set(release_error=f"{type(exc).__name__}: {exc}")
    result.phases = recorder.phases
    recorder.json("score.json", result.to_dict())
    recorder.close(status)
    write_report(out)
    return result


def _is_api_outage(exc: BaseException) -> bool:
    """A model API that stays unreachable after retries is infrastructure, not the agent."""
    try:
        import openai
    except ImportError:  # pragma: no cover
        return False
    return isinstance(
        exc, openai.APIConnectionError | openai.RateLimitError | openai.InternalServerError
    )


def _jsonable(plan: Any) -> Any:
    if hasattr(plan, "model_dump"):
        return plan.model_dump(mode="json")
    try:
        from dataclasses import asdict, is_dataclass

        if is_dataclass(plan):
            return json.loads(json.dumps(asdict(plan), default=str))
    except TypeError:
        pass
    return repr(plan)
