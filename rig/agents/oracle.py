"""The task's reference solution, run through the same action interface an agent has.

A task folder's ``oracle.py`` defines ``solve(env)``; ``env`` is an
:class:`~rig.agents.kit.Actions` (``env.tap_text("phone", "Save")``,
``env.shell("laptop", "ls")`` …) whose verbs only call ``Env.step``. That is
what makes a passing oracle a proof that the task can be solved by an agent.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from rig.agents.kit import Actions
from rig.env import Env
from rig.errors import RigError
from rig.heartbeats import finish_all


class OracleAgent:
    name = "oracle"

    def __init__(self, task_dir: Path) -> None:
        path = task_dir / "oracle.py"
        if not path.is_file():
            raise RigError(f"{task_dir}: the task has no oracle.py")
        spec = importlib.util.spec_from_file_location(f"clawrig_oracle_{abs(hash(path))}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            raise RigError(f"{path}:{exc.lineno}: oracle.py does not compile: {exc.msg}") from None
        solve = getattr(module, "solve", None)
        if not callable(solve):
            raise RigError(f"{path}: oracle.py must define solve(env)")
        self._solve = solve

    def run(self, env: Env, instruction: str) -> None:
        self._solve(Actions(env))
        finish_all(env, "oracle done")  # with heartbeats: sleeps through the beats left
