"""The agent that does nothing: a sound task must fail when nothing is done.

In a heartbeat episode it sleeps through every beat (``finish`` at each)."""

from __future__ import annotations

from rig.env import Env
from rig.heartbeats import finish_all


class NoopAgent:
    name = "noop"

    def run(self, env: Env, instruction: str) -> None:
        finish_all(env, "noop")
