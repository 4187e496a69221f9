"""One episode, end to end: world → clock → seed → agent → state → score → record.

Each phase is timed and recorded as it starts and ends, so a crash leaves an
honest record of how far the episode got. An infrastructure failure in any
phase (a device that would not boot or went away, a seed that did not read
back) ends the episode as ``infra_error`` with its cause; it is never scored
as the agent's failure. How the world is set up (fresh, restored from a checkpoint, or
reset in place) and kept or closed at the end is rig/world_setup.py's.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linux_vm.image import GUEST_PASSWORD
from linux_vm.terminal_keys import canonical as canonical_key
from linux_vm.terminal_keys import encode_key
from rig import snapshot
from rig.agents import Agent
from rig.config import RigConfig, parse_config
from rig.device_logs import explaining_log, save_logs
from rig.env import Env, Limits, StepRecord
from rig.errors import RigError, is_infra
from rig.heartbeats import finish_all
from rig.heartbeats import for_episode as heartbeats_for
from rig.recorder import Recorder
from rig.simulated_user import SimulatedUser
from rig.viewer import write_report
from rig.world import World
from rig.world_clock import WorldTime
from rig.world_setup import Progress, WorldSetup
from scoring.evaluate import Scorer
from tasks.folder import LoadedTask

PHASES = ("allocate", "clock", "seed", "baseline", "agent", "score")


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
    agent_error: str | None = None  # the agent raised: still scored, and always shown
    phases: dict[str, Any] = field(default_factory=dict)
    steps: int = 0
    done_reason: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)  # ask_user and replies
    live: list[dict[str, Any]] = field(default_factory=list)  # live events delivered
    # How the world came to be: {"world": "fresh" | "restored", "seconds", "reason"?, "key"?}
    setup: dict[str, Any] = field(default_factory=dict)

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
            "agent_error": self.agent_error,
            "phases": self.phases,
            "steps": self.steps,
            "done_reason": self.done_reason,
            "messages": self.messages,
            "questions": self.questions,
            "live": self.live,
            "setup": self.setup,
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


def _commands(records: list[StepRecord]) -> list[tuple[str, str]]:
    """``(role, command)`` for every shell command, and every line typed into a terminal
    (ended by Enter), so safety checks see what was run either way."""
    out = []
    typing: dict[str, str] = {}
    for rec in records:
        action = rec.action
        kind = getattr(action, "action", None)
        if kind == "shell":
            out.append((action.device, action.command))
        elif kind == "terminal_keys":
            for item in action.items():
                line = typing.get(action.device, "")
                if isinstance(item, tuple):
                    line += item[1]
                elif canonical_key(item) == "enter":
                    out.append((action.device, line))
                    line = ""
                elif encode_key(item) in ("\x03", "\x15"):  # C-c, C-u: the line is gone
                    line = ""
                elif encode_key(item) is None:
                    line += item
                typing[action.device] = line
    out.extend((role, line) for role, line in typing.items() if line)
    return out


class Episode:
    """One episode's life cycle, for every front end.

    ``setup()`` brings the world up, seeds it and returns the :class:`Env` the
    agent acts on; ``finish()`` scores and writes the record. ``rig run`` calls
    both around an agent; the MCP server and the Python API call them around a
    client that acts step by step. Any exception in between goes to
    :meth:`fail`, which classifies it; :meth:`close` always releases the world.
    """

    def __init__(
        self,
        loaded: LoadedTask,
        config: RigConfig,
        out: Path,
        agent_name: str = "agent",
        progress: Progress = lambda _msg: None,
        checkpoint: bool = False,
        reuse: bool = False,
    ) -> None:
        self.loaded, self.task, self.config, self.out = loaded, loaded.task, config, out
        self.progress = progress
        out.mkdir(parents=True, exist_ok=True)
        self.recorder = Recorder(out)
        task = self.task
        if "linux" in task.devices.values():
            # The laptop user's password (sudo asks it at the terminal) never reaches the record.
            self.recorder.redactor.add(GUEST_PASSWORD)
        self.recorder.json(
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
                "agent": agent_name,
                "path": str(loaded.path),
            },
        )
        # What each check reads, so the report can point a failed check at its evidence.
        self.recorder.json(
            "state/checks.json",
            {
                group: [
                    {"name": item.id or f"{item.kind}#{i}", **item.model_dump(mode="json")}
                    for i, item in enumerate(getattr(task, group))
                ]
                for group in ("checks", "safety")
            },
        )
        self.result = EpisodeResult(task.id)
        # checkpoint: restore (or reset) a saved world rather than seed; reuse: keep it.
        self.world_setup = WorldSetup(
            loaded, config, out, self.recorder, progress, self._start, checkpoint, reuse
        )
        self.env: Env | None = None
        self.clock: WorldTime | None = None  # the agent phase's world clock
        self.phase = "allocate"
        self.records: list[StepRecord] = []
        self.live: Any = None  # rig.live_events.LiveEvents when the task has live events
        self._closed = False
        self._logs: dict[str, Path] | None = None

    @property
    def world(self) -> World | None:
        """The devices and services, from the moment they are allocated."""
        return self.world_setup.world

    @property
    def scorer(self) -> Scorer | None:
        return self.world_setup.scorer

    @property
    def baseline(self) -> dict[str, Any] | None:
        """The state snapshot the world was seeded to (the final one is diffed against it)."""
        return self.world_setup.baseline

    def _save_logs(self) -> dict[str, Path]:
        """Write the devices' logs into ``logs/`` once, while the devices are still held."""
        if self._logs is None:
            devices = dict(self.world.devices) if self.world is not None else {}
            self._logs = save_logs(devices, self.out / "devices", self.out, self.recorder.redactor)
        return self._logs

    def _start(self, phase: str) -> None:
        self.phase = phase
        self.recorder.phase_start(phase)

    def setup(self) -> Env:
        """allocate → clock → seed (verified) → safety baseline; returns the reset Env.

        With checkpoints on, a world saved after an earlier trial's seed is restored
        instead of seeding (docs/checkpoints.md); the record says which, and how long.
        """
        info = self.world_setup.build()
        self.result.setup = info
        self.recorder.json("checkpoint.json", info)
        self.recorder.set(setup=info)
        if info.get("reason"):
            self.progress(f"checkpoint: {info['reason']}")
        return self._agent_env()

    def _agent_env(self) -> Env:
        task = self.task
        self._start("agent")
        clock = self.clock = WorldTime(self.world, task.clock.mode, task.clock.speed)
        clock.pause = self.config.clock.pause_devices
        clock.start()  # running/stepped: devices and services on one world time from here
        self.live = self._live_events(clock)
        limits = Limits(
            max_steps=task.limits.max_steps,
            max_seconds=task.limits.max_seconds,
            shell_timeout_s=self.config.limits.shell_timeout_s,
            shell_output_cap=self.config.limits.shell_output_cap,
        )
        beats = heartbeats_for(task, clock, self.recorder, self.progress)
        if beats is not None and self.live is not None:
            beats.advance = self.live.advance_to  # what falls due between beats fires on the way
        self.env = Env(
            self.world,
            task.instruction,
            limits=limits,
            on_step=self._on_step,
            record_before=True,
            on_terminal=self.recorder.terminal,
            user=SimulatedUser(task.user, self.config),
            clock=clock,
            beats=beats,
        )
        self.env.live = self.live
        self.env.reset()
        return self.env

    def _live_events(self, clock: WorldTime) -> Any:
        """The task's live events, delivered from now on (rig/live_events.py)."""
        if not self.loaded.live:
            return None
        from rig.live_events import LiveEvents

        live = LiveEvents(
            self.world, self.loaded.live, clock, self.task.timezone, self.out / "live.jsonl"
        )
        self.recorder.json(
            "live/plan.json", [e.model_dump(mode="json", exclude={"data"}) for e in live.events]
        )
        live.start()
        return live

    def _release_clock(self) -> None:
        """The agent phase is over: a stepped world's paused devices run again, for good, and
        so does any other paused one (scoring, the logs and teardown read them)."""
        if self.clock is not None:
            self.clock.release()  # (resumes every paused device: World.resume_all)
        elif self.world is not None:
            self.world.resume_all()

    def _stop_live(self) -> None:
        """Stop delivering; a path that went away mid-episode is the rig's problem."""
        live = getattr(self, "live", None)
        if live is None:
            return
        live.stop()
        self.result.live = list(live.deliveries)
        if live.failure is not None:
            raise live.failure

    def _stop_clock(self) -> None:
        """Stop the world clock's keeper (a running clock faster than real time)."""
        if self.clock is not None:
            self.clock.close()

    def _on_step(self, rec: StepRecord) -> None:
        self.records.append(rec)
        self.recorder.on_step(rec)
        self.progress(f"agent: step {rec.index + 1}/{self.task.limits.max_steps}")

    def agent_failed(self, exc: BaseException) -> None:
        """The agent (or oracle) raised: its failure, scored as such, noted in the record."""
        if is_infra(exc) or _is_api_outage(exc):
            raise exc
        self.result.agent_error = f"{type(exc).__name__}: {exc}"
        self.recorder.set(
            agent_error=self.result.agent_error, agent_traceback=traceback.format_exc()
        )

    def finish(self) -> EpisodeResult:
        """End the agent phase, score by device state, write the record; returns the result."""
        env, scorer, rec, result = self.env, self.scorer, self.recorder, self.result
        assert env is not None and scorer is not None, "finish() before setup()"
        finish_all(env, "agent returned")  # with heartbeats: the beats still to come too
        self._release_clock()  # scoring reads the devices: none stays paused
        result.steps, result.done_reason = env.steps, env.done_reason
        self._save_talk(env)
        self._stop_live()
        self._stop_clock()
        paused = dict(self.clock.pause_stats) if self.clock is not None else {}
        rec.phase_end("agent", steps=env.steps, done_reason=env.done_reason, **paused)

        self.progress("score: reading device state")
        self._start("score")
        assert self.world is not None
        self.world.check_services()  # a service gone mid-episode is infra, not the agent
        started = time.monotonic()
        rec.json("state/final.json", snapshot.take(self.world, self.task, self.baseline))
        snap_s = round(time.monotonic() - started, 3)
        scorer.live = self.loaded.live  # checks in time read the live events' due times
        verdict = scorer.score(env.messages, _commands(self.records), env.questions)
        rec.phase_end("score", snapshot_s=snap_s)
        result.passed, result.score = verdict.passed, verdict.score
        data = verdict.to_dict()
        result.checks, result.safety = data["checks"], data["safety"]
        rec.json("final_state.json", {"checks": data["checks"], "safety": data["safety"]})
        self.close("passed" if result.passed else "failed")
        return result

    def fail(self, exc: BaseException) -> EpisodeResult:
        """Record ``exc`` as an infra error (never the agent's) or as a rig/task error.

        What the agent did and said until then stays in the result and the record."""
        phase, rec, result = self.phase, self.recorder, self.result
        self._release_clock()  # the devices' logs and teardown need them running
        if self.env is not None and not self._closed:
            result.steps, result.done_reason = self.env.steps, self.env.done_reason
            self._save_talk(self.env)
        if is_infra(exc) or _is_api_outage(exc):
            result.infra_error = f"{phase}: {type(exc).__name__}: {exc}"
            hint = explaining_log(self._save_logs(), result.infra_error)
            if hint:  # the device's own log says why it went away
                result.infra_error += f" ({hint})"
            rec.phase_end(phase, status="infra_error")
            rec.set(infra_error=result.infra_error)
            status = "infra_error"
        else:
            detail = str(exc) if isinstance(exc, RigError | ValueError) else repr(exc)
            result.error = f"{phase}: {detail}"
            rec.phase_end(phase, status="error")
            rec.set(error=result.error, traceback=traceback.format_exc())
            status = "error"
        self.close(status)
        return result

    def _save_talk(self, env: Env) -> None:
        """What the agent told the user, and what it asked them (with the replies)."""
        self.result.messages = [m.__dict__ for m in env.messages]
        self.recorder.json("messages.json", self.result.messages)
        self.result.questions = [q.__dict__ for q in env.questions]
        if self.result.questions:
            self.recorder.json("questions.json", self.result.questions)
        if env.beats is not None:  # every heartbeat that opened, with its world time
            self.recorder.json("beats.json", [b.record() for b in env.beats.history])

    def close(self, status: str = "aborted") -> None:
        """Release the world and seal the record (idempotent)."""
        if self._closed:
            return
        self._closed = True
        live = getattr(self, "live", None)
        if live is not None:
            live.stop()
        self._stop_clock()
        self._release_clock()  # a paused device is resumed before its logs and teardown
        self._save_logs()
        self.world_setup.release(status)
        # Devices and services wrote their own files into the record (a phone's databases,
        # mail): what the agent typed there is redacted like everything the rig writes.
        for folder in ("devices", "services"):
            self.recorder.redactor.scrub_tree(self.out / folder)
        self.result.phases = self.recorder.phases
        self.recorder.json("score.json", self.result.to_dict())
        self.recorder.close(status)
        try:
            write_report(self.out)
        except Exception:  # the page is a view of the record: its failure never voids a verdict
            (self.out / "report_error.txt").write_text(traceback.format_exc(), encoding="utf-8")
            (self.out / "report.html").write_text(
                "<!doctype html><meta charset='utf-8'><title>no report</title>"
                "<p>The report could not be drawn; see report_error.txt. The record and "
                "score.json are complete.</p>",
                encoding="utf-8",
            )


def run_episode(
    loaded: LoadedTask,
    agent: Agent,
    config: RigConfig,
    out: Path,
    progress: Progress = lambda _msg: None,
    checkpoint: bool = False,
    reuse: bool = False,
) -> EpisodeResult:
    """Run one task with one agent; the record is written under ``out``.

    ``checkpoint``: restore the task's world checkpoint (built by the first trial that
    needs it) instead of seeding, when the world allows it (docs/checkpoints.md).
    ``reuse`` (a suite worker's): keep the phones for this process's next trial of the
    same checkpoint, and reset a world kept by the last one in place."""
    name = getattr(agent, "name", "agent")
    episode = Episode(loaded, config, out, name, progress, checkpoint=checkpoint, reuse=reuse)
    try:
        env = episode.setup()
        try:
            agent.run(env, loaded.task.instruction)
        except Exception as exc:
            episode.agent_failed(exc)
        return episode.finish()
    except Exception as exc:
        return episode.fail(exc)
    finally:
        episode.close()


def _is_api_outage(exc: BaseException) -> bool:
    """A model API that stays unreachable after retries is infrastructure, not the agent."""
    try:
        import openai
    except ImportError:  # pragma: no cover
        return False
    return isinstance(
        exc, openai.APIConnectionError | openai.RateLimitError | openai.InternalServerError
    )
