"""``rig suite replay RUN``: the environment's share of the variance.

Every trial of a run that was scored is replayed — the same recorded actions, through
the ``replay`` agent — on a fresh world, ``times`` times. An agent that repeats itself
exactly would score the same each time on a deterministic world; when the same actions
score differently, the world (seeding, timing, a service, the scorer) is what varied,
not the agent. Per task, the share of replays whose score differs from the recorded one
is the flakiness; tasks above the threshold are flagged in ``RUN/replay.json``, which the
suite index and ``rig suite compare`` read.

Replays go through the suite's farm (local processes or Ray) and are resumable the same
way: ``RUN/replay/results.jsonl`` holds one line per replay; a replay with a line that is
not an infra error is done.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any

from rig.config import RigConfig
from rig.farm import hold_out_folder, open_farm
from rig.index_extras import annotate_index
from rig.recorder import write_json
from rig.run_folder import REPLAY, load_run
from rig.suite import TrialSpec, _run_trial

REPLAY_DIR = "replay"


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (
        bool(a.get("passed")) == bool(b.get("passed"))
        and abs(float(a.get("score") or 0.0) - float(b.get("score") or 0.0)) < 1e-9
    )


def _task_path(run: Path, row: dict[str, Any]) -> str | None:
    folder = run / Path(str(row.get("report", ""))).parent
    try:
        return json.loads((folder / "task.json").read_text(encoding="utf-8"))["path"]
    except (OSError, KeyError, json.JSONDecodeError):
        return None


def _read(path: Path) -> dict[tuple[str, int, int], dict[str, Any]]:
    latest: dict[tuple[str, int, int], dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            latest[(row["task_id"], int(row["trial"]), int(row["round"]))] = row
    return latest


def replay_run(
    run: Path,
    config: RigConfig,
    times: int = 1,
    threshold: float = 0.0,
    workers: int | None = None,
    ray: str | None = None,
    ray_cpus: float | None = None,
    retries: int = 1,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Replay every scored trial of ``run``; returns (and writes) ``replay.json``."""
    if times < 1:
        raise ValueError("times must be at least 1")
    run = run.resolve()
    source = load_run(run)
    out = run / REPLAY_DIR
    out.mkdir(exist_ok=True)
    plan: list[tuple[TrialSpec, int, str, dict[str, Any]]] = []
    skipped = []
    for row in source.rows:
        if row.get("infra_error") or row.get("error"):
            continue  # nothing was scored: nothing to compare a replay with
        folder = run / Path(str(row.get("report", ""))).parent
        trajectory = folder / "trajectory.jsonl"
        task_path = _task_path(run, row)
        if not trajectory.is_file() or task_path is None:
            skipped.append(f"{row['task_id']} #{row['trial']}: no trajectory or task.json")
            continue
        spec = TrialSpec(
            row["task_id"],
            task_path,
            int(row["trial"]),
            row.get("mode", "reactive"),
            tuple(row.get("surfaces") or ()),
        )
        for r in range(times):
            plan.append((spec, r, str(trajectory), row))
    results_path = out / "results.jsonl"
    done = _read(results_path)
    todo = [
        p
        for p in plan
        if (*p[0].key, p[1]) not in done or done[(*p[0].key, p[1])].get("infra_error")
    ]
    ray = ray if ray is not None else config.suite.ray
    ray_cpus = ray_cpus if ray_cpus is not None else config.suite.ray_cpus
    config_data = config.model_dump(mode="json")
    if todo:
        attempts: dict[tuple[str, int, int], int] = defaultdict(int)
        with hold_out_folder(out) as lock, open_farm(workers, ray, ray_cpus, lock) as farm:
            farm.check_paths([out, run])
            with open(results_path, "a", encoding="utf-8") as fh:
                pending: dict[Future, tuple[TrialSpec, int, str, dict[str, Any]]] = {}
                queue = list(todo)

                def submit() -> None:
                    while queue and len(pending) < farm.slots:
                        item = queue.pop(0)
                        spec, r, trajectory, _ = item
                        attempts[(*spec.key, r)] += 1
                        round_out = str(out / f"round-{r}")
                        future = farm.submit(
                            _run_trial, spec, f"replay:{trajectory}", config_data, round_out
                        )
                        pending[future] = item

                submit()
                while pending:
                    complete, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in complete:
                        item = pending.pop(future)
                        spec, r, _trajectory, recorded = item
                        try:
                            row = future.result()
                        except Exception as exc:  # the worker process (or its node) died
                            row = {
                                "task_id": spec.task_id,
                                "trial": spec.trial,
                                "passed": False,
                                "score": 0.0,
                                "infra_error": farm.lost(exc),
                            }
                        key = (*spec.key, r)
                        row.update(
                            round=r,
                            attempt=attempts[key],
                            recorded_passed=bool(recorded.get("passed")),
                            recorded_score=float(recorded.get("score") or 0.0),
                        )
                        fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                        fh.flush()
                        if row.get("infra_error") and attempts[key] <= retries:
                            queue.append(item)
                        if on_result is not None:
                            on_result(row)
                    submit()
    return write_replay_summary(run, threshold, times, skipped)


def write_replay_summary(
    run: Path, threshold: float, times: int, skipped: list[str] | None = None
) -> dict[str, Any]:
    """Per task: replays that ran, how many scored differently from the recording, the
    share, and whether it is above ``threshold``."""
    rows = _read(run / REPLAY_DIR / "results.jsonl")
    tasks: dict[str, dict[str, Any]] = {}
    for (task_id, trial, _round), row in sorted(rows.items()):
        entry = tasks.setdefault(
            task_id, {"replays": 0, "differ": 0, "infra_errors": 0, "errors": 0, "trials": []}
        )
        if row.get("infra_error"):
            entry["infra_errors"] += 1
            continue
        if row.get("error"):
            entry["errors"] += 1  # the rig broke on a replay: not a score to compare
            continue
        entry["replays"] += 1
        if not _same(row, {"passed": row["recorded_passed"], "score": row["recorded_score"]}):
            entry["differ"] += 1
            entry["trials"].append(
                {
                    "trial": trial,
                    "recorded": row["recorded_score"],
                    "replayed": row.get("score"),
                    "report": f"{REPLAY_DIR}/round-{_round}/{row.get('report', '')}",
                }
            )
    for entry in tasks.values():
        entry["rate"] = entry["differ"] / entry["replays"] if entry["replays"] else None
        entry["flagged"] = entry["rate"] is not None and entry["rate"] > threshold
    summary = {
        "threshold": threshold,
        "times": times,
        "tasks": tasks,
        "flagged": sorted(t for t, e in tasks.items() if e["flagged"]),
        "skipped": skipped or [],
    }
    write_json(run / REPLAY, summary)
    annotate_index(run)
    return summary
