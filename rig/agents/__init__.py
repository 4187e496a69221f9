"""Built-in agents. Each drives an :class:`~rig.env.Env` only through ``env.step``.

``oracle``   the task's reference solution (``oracle.py`` beside ``task.yaml``)
``noop``     does nothing and finishes (a sound task must fail it)
``replay:P`` replays the actions of a recorded ``trajectory.jsonl``
``openai:M`` a model behind an OpenAI-compatible chat-completions API
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from rig.env import Env
from rig.errors import RigError


class AgentInvalid(RigError):
    """An ``--agent`` value that names no agent, or one that cannot be set up."""


class Agent(Protocol):
    name: str

    def run(self, env: Env, instruction: str) -> None:
        """Act until ``env.done`` (the agent may stop earlier; the runner then finishes)."""
        ...


def make_agent(spec: str, task_dir: Path, config: Any = None) -> Agent:
    """Build the agent an ``--agent`` value names."""
    kind, _, arg = spec.partition(":")
    if kind == "noop":
        from rig.agents.noop import NoopAgent

        return NoopAgent()
    if kind == "oracle":
        from rig.agents.oracle import OracleAgent

        return OracleAgent(task_dir)
    if kind == "replay":
        if not arg:
            raise AgentInvalid("replay needs a path: --agent replay:RUN_DIR/trajectory.jsonl")
        from rig.agents.replay import ReplayAgent

        return ReplayAgent(Path(arg))
    if kind == "openai":
        if not arg:
            raise AgentInvalid("openai needs a model: --agent openai:MODEL")
        try:
            from rig.agents.openai_agent import OpenAIAgent
        except ImportError as exc:
            raise AgentInvalid(f"the openai agent is not available yet ({exc})") from None
        return OpenAIAgent(arg, config)
    raise AgentInvalid(
        f"unknown agent {spec!r}; expected oracle, noop, replay:PATH or openai:MODEL"
    )
