"""A task is sound when its oracle passes and doing nothing fails, on real devices."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from rig.agents import make_agent
from rig.config import RigConfig
from rig.episode import EpisodeResult, run_episode
from tasks.folder import load_task


@dataclass
class Soundness:
    task_id: str
    oracle: EpisodeResult
    noop: EpisodeResult

    @property
    def sound(self) -> bool:
        # An oracle that raised proves nothing, even if the state it left happens to pass.
        return (
            self.oracle.ran
            and self.oracle.passed
            and not self.oracle.agent_error
            and self.noop.ran
            and not self.noop.passed
        )

    def problems(self) -> list[str]:
        out = []
        for name, result, want in (("oracle", self.oracle, True), ("noop", self.noop, False)):
            if result.infra_error:
                out.append(f"{name}: infrastructure error: {result.infra_error}")
            elif result.error:
                out.append(f"{name}: error: {result.error}")
            elif result.agent_error:
                out.append(f"{name} raised {result.agent_error}; it must finish without an error")
            elif result.passed != want:
                failed = [c["name"] for c in result.checks + result.safety if not c["passed"]]
                verdict = "passes" if result.passed else f"fails ({', '.join(failed)})"
                out.append(f"{name} {verdict}; it must {'pass' if want else 'fail'}")
        return out


def check_soundness(task_path: Path, config: RigConfig, out: Path) -> Soundness:
    loaded = load_task(task_path)
    results = {}
    for agent in ("oracle", "noop"):
        # A fresh folder: the last validation's service state (its Maildir) would be
        # seeded into again, every mail twice.
        shutil.rmtree(out / agent, ignore_errors=True)
        results[agent] = run_episode(
            loaded, make_agent(agent, loaded.path.parent, config), config, out / agent
        )
    return Soundness(loaded.task.id, results["oracle"], results["noop"])
