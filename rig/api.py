"""The Python environment API: a task as a ``reset``/``step`` environment.

    from rig.api import TaskEnv
    with TaskEnv("tasks/suite/mail-to-calendar") as env:
        obs, instruction = env.reset()
        obs, done, info = env.step({"action": "ui_tree", "device": "phone"})
        ...
    print(env.result.score)

``reset()`` brings the world up and seeds it; ``step()`` takes an action (a
dict, JSON text, or a :mod:`rig.actions` model) and never raises for a bad
one; ``close()`` (or leaving the ``with`` block) scores the episode by the
devices' real state and writes the record. A task with heartbeats is walked beat by
beat with ``for beat in env.beats():`` (docs/always-on.md).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rig.config import RigConfig, load_config
from rig.episode import Episode, EpisodeResult
from rig.errors import EpisodeOver, RigError
from rig.heartbeats import Beat
from rig.observation import Observation
from tasks.folder import load_task


class TaskEnv:
    def __init__(
        self,
        task_dir: str | Path,
        config: RigConfig | None = None,
        out: str | Path | None = None,
        agent_name: str = "python-api",
    ) -> None:
        self.loaded = load_task(Path(task_dir))
        self.config = config or load_config()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.out = Path(out) if out else Path(tempfile.mkdtemp(prefix=f"clawrig-{stamp}-"))
        self.agent_name = agent_name
        self.episode: Episode | None = None
        self.result: EpisodeResult | None = None

    @property
    def instruction(self) -> str:
        return self.loaded.task.instruction

    def reset(self) -> tuple[Observation, str]:
        """A fresh world for the task: the first observation and the instruction."""
        if self.episode is not None:
            self.close()
        self.result = None
        self.episode = Episode(self.loaded, self.config, self.out, self.agent_name)
        try:
            env = self.episode.setup()
        except Exception as exc:
            self.result = self.episode.fail(exc)
            raise RigError(
                f"the world did not come up: {self.result.infra_error or self.result.error}"
            ) from exc
        assert env.first_observation is not None
        return env.first_observation, env.instruction

    def step(self, action: Any) -> tuple[Observation, bool, dict[str, Any]]:
        """One action. A bad action is an error observation; an infrastructure failure
        raises (the device layer's error), and every later step raises :class:`EpisodeOver`."""
        if self.episode is None or self.episode.env is None:
            raise RigError("call reset() before step()")
        if self.result is not None:
            why = self.result.infra_error or self.result.error or "it was scored"
            raise EpisodeOver(
                f"the episode is over ({why}); call reset() for a new one", self.result
            )
        try:
            return self.episode.env.step(action)
        except Exception as exc:
            self.result = self.episode.fail(exc)
            raise

    @property
    def beat(self) -> Beat | None:
        """The heartbeat the episode is in (None without ``heartbeats:`` or once over)."""
        env = self.episode.env if self.episode is not None else None
        if env is None or env.beats is None or env.done:
            return None
        return env.beats.current

    def beats(self) -> Iterator[Beat]:
        """The episode's heartbeats in order, after :meth:`reset`.

        Each beat is yielded while it is open: act with :meth:`step`, then ``finish``
        (or just go on to the next iteration, which finishes the beat for you). The
        world clock moves to the next beat's time in between, and what falls due fires.
        ``step(finish)`` in the last beat ends the episode; :meth:`close` scores it.
        A task without heartbeats has none: iterate ``step`` as usual."""
        while (beat := self.beat) is not None:
            yield beat
            if self.beat is beat:  # the caller left the beat open: sleep until the next
                self.step({"action": "finish", "reason": "beat done"})

    def close(self) -> EpisodeResult | None:
        """Score the episode (once) and release the world."""
        episode, self.episode = self.episode, None
        if episode is None:
            return self.result
        if self.result is None:
            try:
                self.result = episode.finish()
            except Exception as exc:
                self.result = episode.fail(exc)
        episode.close()
        return self.result

    def __enter__(self) -> TaskEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
