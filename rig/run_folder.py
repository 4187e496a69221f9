"""Reading a finished (or interrupted) suite run folder, for compare, replay and the nightly.

A run folder is what :func:`rig.suite.run_suite` writes (``results.jsonl``, ``suite.json``,
``trials/TASK/trial-K/``) plus what the nightly and replay add beside it:
``soundness.json`` (which tasks the night's oracle/noop pass found unsound: their
results are untrusted) and ``replay.json`` (how often replaying a trial changed its score).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rig.errors import RigError
from rig.suite import RESULTS, read_results

SOUNDNESS = "soundness.json"
REPLAY = "replay.json"
PHASES = ("allocate", "seed", "agent", "score")


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def infra_cause(text: str) -> str:
    """The kind of an infra error without its details: ``seed: SeedMismatch`` of
    ``seed: SeedMismatch: phone: 3 rows differ``, so that nights can be counted by cause."""
    parts = [p.strip() for p in str(text).split(": ")]
    return ": ".join(parts[:2])[:120] or "unknown"


@dataclass
class Run:
    path: Path
    trials: int
    agent: str
    rows: list[dict[str, Any]]  # the latest line per (task, trial)
    attempts: list[dict[str, Any]]  # every line, retries included
    phases: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # task->phase->secs
    soundness: dict[str, dict[str, Any]] | None = None
    flaky: dict[str, dict[str, Any]] | None = None

    def counts(self) -> dict[str, tuple[int, int]]:
        """Per task (valid trials, passes); trials with an infra or rig error are not trials."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in self.rows:
            entry = out[r["task_id"]]
            if r.get("infra_error") or r.get("error"):
                continue
            entry[0] += 1
            entry[1] += bool(r.get("passed"))
        return {t: (n, c) for t, (n, c) in sorted(out.items())}

    def unsound(self) -> set[str]:
        return {t for t, s in (self.soundness or {}).items() if s.get("status") == "unsound"}

    def flagged(self) -> set[str]:
        return {t for t, f in (self.flaky or {}).items() if f.get("flagged")}

    def infra_by_cause(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for r in self.attempts:
            if r.get("infra_error"):
                out[infra_cause(r["infra_error"])] += 1
        return dict(sorted(out.items()))


def load_run(path: Path) -> Run:
    """A run folder as compare needs it; a folder without results is a clear error."""
    if not (path / RESULTS).is_file():
        raise RigError(f"{path}: not a suite run folder (no {RESULTS})")
    meta = _json(path / "suite.json") or {}
    latest = read_results(path)
    attempts = []
    for line in (path / RESULTS).read_text(encoding="utf-8").splitlines():
        try:
            attempts.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line torn by a crash
    rows = [latest[k] for k in sorted(latest)]
    phases: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r.get("infra_error") or r.get("error"):
            continue  # an aborted episode's phase times say nothing about speed
        score = _json(path / Path(str(r.get("report", ""))).parent / "score.json") or {}
        for name, phase in (score.get("phases") or {}).items():
            if isinstance(phase, dict) and isinstance(phase.get("seconds"), int | float):
                phases[r["task_id"]][name].append(float(phase["seconds"]))
    soundness = _json(path / SOUNDNESS)
    flaky = _json(path / REPLAY)
    return Run(
        path=path,
        trials=int(meta.get("trials") or max((int(r["trial"]) + 1 for r in rows), default=1)),
        agent=str(meta.get("agent", "")),
        rows=rows,
        attempts=attempts,
        phases={t: dict(p) for t, p in phases.items()},
        soundness=(soundness or {}).get("tasks") if isinstance(soundness, dict) else None,
        flaky=(flaky or {}).get("tasks") if isinstance(flaky, dict) else None,
    )
