"""Replays a recorded trajectory's actions, for debugging a task or a scoring change."""

from __future__ import annotations

import json
from pathlib import Path

from rig.actions import parse_action
from rig.env import Env
from rig.errors import RigError


class ReplayAgent:
    name = "replay"

    def __init__(self, path: Path) -> None:
        if path.is_dir():
            path = path / "trajectory.jsonl"
        if not path.is_file():
            raise RigError(f"replay: no trajectory at {path}")
        self.actions = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RigError(f"{path}:{number}: not JSON: {exc}") from None
            # Actions that failed validation when recorded are replayed as recorded too.
            self.actions.append(record.get("action"))

    def run(self, env: Env, instruction: str) -> None:
        for raw in self.actions:
            if env.done:
                return
            try:
                action = parse_action(raw)
            except RigError:
                action = raw
            env.step(action)
