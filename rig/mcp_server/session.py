"""One MCP episode: tool calls from any thread, the world up in the background,
idle tracking, scored and released exactly once.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mcp_types as types

from rig.config import RigConfig
from rig.episode import Episode, EpisodeResult
from rig.errors import is_infra
from rig.heartbeats import finish_all
from rig.mcp_server.tools import (
    _TOOL_NAMES,
    GET_TASK,
    _error,
    _image,
    _text,
    observation_result,
    task_text,
)
from tasks.folder import LoadedTask

# How long past the task's time limit an idle client may keep the world before it is scored.
IDLE_GRACE_S = 60.0


Say = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class McpEpisode:
    """One episode driven by tool calls that may arrive from any thread.

    :class:`Env` is not thread-safe, so every step and every life-cycle
    transition holds one lock. The world comes up in :meth:`start`'s thread;
    :meth:`end` scores (when it can) and always releases it, exactly once.
    """

    def __init__(
        self, loaded: LoadedTask, config: RigConfig, out: Path, say: Say = _stderr
    ) -> None:
        self.loaded, self.task, self.out, self.say = loaded, loaded.task, out, say
        self.episode = Episode(loaded, config, out, "mcp", progress=say)
        self.result: EpisodeResult | None = None
        self.ended = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._started_at: float | None = None
        self.last_seen = time.monotonic()
        self._busy = 0  # requests in flight (an open event stream, a long shell command)
        self._busy_lock = threading.Lock()

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Bring the world up in the background; tool calls wait for it."""
        self._thread = threading.Thread(target=self._setup, name="world-setup", daemon=True)
        self._thread.start()

    def _setup(self) -> None:
        try:
            self.episode.setup()
            self._started_at = self.last_seen = time.monotonic()
            self.say(f"ready: {self.task.id} ({len(self.task.devices)} device(s))")
        except BaseException as exc:
            with self._lock:
                self._conclude(self.episode.fail(exc))
        finally:
            self._ready.set()

    def end(self, why: str, score: bool = True) -> EpisodeResult:
        """Score the episode (``score``) or abandon it with ``why``; the world is released."""
        if self._thread is not None and not self._ready.is_set():
            self.say(f"{why}: waiting for the world to finish coming up before releasing it")
            self._thread.join()
        with self._lock:
            if self.result is not None:
                return self.result
            episode = self.episode
            if episode.env is None:  # never came up (its failure is already recorded)
                episode.close("aborted")
                return self._conclude(episode.result)
            if not score:
                episode.result.error = f"agent: {why} before the episode finished"
                episode.recorder.set(error=episode.result.error)
                episode.recorder.phase_end(episode.phase, status="aborted")
                episode.close("aborted")
                return self._conclude(episode.result)
            if not episode.env.done:
                self.say(f"{why}: scoring the episode")
                try:
                    finish_all(episode.env, why)  # with heartbeats: through the last beat
                except Exception as exc:
                    return self._conclude(episode.fail(exc))
            try:
                result = episode.finish()
            except Exception as exc:
                result = episode.fail(exc)
            return self._conclude(result)

    def _conclude(self, result: EpisodeResult) -> EpisodeResult:
        self.result = result
        self.ended.set()
        for line in summary(self.task.id, result, self.out):
            self.say(line)
        return result

    @contextlib.contextmanager
    def activity(self) -> Iterator[None]:
        """Marks a request in flight: the client is not idle while it lasts."""
        with self._busy_lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._busy_lock:
                self._busy -= 1
                self.last_seen = time.monotonic()

    def idle_for(self, seconds: float) -> bool:
        """True once the world is up, nothing is in flight and no request came for ``seconds``."""
        if self._started_at is None or self.result is not None or self._busy:
            return False
        return time.monotonic() - self.last_seen > seconds

    def overdue(self) -> bool:
        """True once the task's time limit (plus grace) has passed and the client went quiet."""
        if self._started_at is None or self.result is not None:
            return False
        past_limit = time.monotonic() - self._started_at > self.task.limits.max_seconds
        return past_limit and self.idle_for(IDLE_GRACE_S)

    # -- tools --------------------------------------------------------------------------------

    def call(self, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        """Carry out one tool call (blocking); never raises for the client's mistakes."""
        with self.activity():
            self._ready.wait()
            return self._call(name, arguments)

    def _call(self, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        with self._lock:
            if name == GET_TASK:
                return self._task_result()
            if self.result is not None:
                return _error(f"the episode is over: {self._verdict_note()}")
            env = self.episode.env
            assert env is not None
            if name not in _TOOL_NAMES:
                known = ", ".join(sorted(_TOOL_NAMES | {GET_TASK}))
                return _error(f"unknown tool {name!r}; the tools are: {known}")
            action = {**(arguments or {}), "action": name}
            try:
                obs, done, info = env.step(action)
            except Exception as exc:  # a device went away: infrastructure, never the agent's
                self._conclude(self.episode.fail(exc))
                kind = "infrastructure error" if is_infra(exc) else "error"
                return _error(f"{kind}: {exc}; the episode is over")
            result = observation_result(obs, info)
            if done:
                self.end(info.get("done_reason") or "done")
                if name == "finish":
                    result = _text("episode finished; it has been recorded and scored")
                else:
                    note = f"the episode is over ({info.get('done_reason')})"
                    result.content.append(types.TextContent(text=note))
            return result

    def _verdict_note(self) -> str:
        result = self.result
        if result is None:
            return "running"
        return result.infra_error or result.error or (result.done_reason or "finished")

    def _task_result(self) -> types.CallToolResult:
        env = self.episode.env
        if env is None:
            return _error(f"the world did not come up: {self._verdict_note()}")
        content: list[Any] = [types.TextContent(text=task_text(self.loaded))]
        if env.beats is not None and env.beats.current is not None and not env.done:
            content.append(types.TextContent(text=env.beats.current.text()))
        first = env.first_observation
        if first is not None and first.screenshot_png:
            content.append(_image(first.screenshot_png))
        return types.CallToolResult(content=content, is_error=self.result is not None)


def summary(task_id: str, result: EpisodeResult, out: Path) -> list[str]:
    """Lines for stderr: the verdict, each check, where the record is."""
    if result.infra_error:
        head = f"INFRA ERROR {task_id}: {result.infra_error}"
    elif result.error:
        head = f"ERROR {task_id}: {result.error}"
    else:
        word = "PASS" if result.passed else "FAIL"
        head = f"{word} {task_id}: score {result.score:.2f} in {result.steps} steps"
    lines = [head]
    for check in result.checks + result.safety:
        mark = "ok  " if check.get("passed") else "FAIL"
        lines.append(f"  {mark} {check.get('name')}: {check.get('detail')}")
    lines.append(f"record: {out}")
    return lines


class Stop(threading.Event):
    """Set when serving should end; ``signum`` says which signal asked, if one did."""

    signum: int | None = None
