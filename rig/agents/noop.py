"""The agent that does nothing: a sound task must fail when nothing is done."""

from __future__ import annotations

from rig.actions import Finish
from rig.env import Env


class NoopAgent:
    name = "noop"

    def run(self, env: Env, instruction: str) -> None:
        env.step(Finish(reason="noop"))
