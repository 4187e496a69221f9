"""Suites: every task × K trials across N worker processes, resumable.

Each trial runs in a worker process with a world of its own (the backends
pick free ports and per-episode disks, so workers never collide): local
processes by default, or Ray tasks on a cluster (``rig.farm``). The parent
appends one line per finished trial to ``results.jsonl`` — the only source of
truth for ``--resume``: a trial is done when its latest line is not an
infrastructure error. A trial killed half-way has no line and is simply run
again; its folder is cleared first. Infra errors are retried (``retries``)
and never counted against the agent.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import traceback
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.config import RigConfig
from rig.errors import InfraError
from rig.farm import LOCAL, hold_out_folder, open_farm
from rig.health import forgetting_probes
from rig.recorder import write_json
from rig.viewer import render_index
from scoring.metrics import Trial, summarize
from tasks.folder import find_task_files, load_task
from tasks.loader import ProblemsFound

RESULTS = "results.jsonl"
QUARANTINE = "quarantine.json"


@dataclass(frozen=True)
class TrialSpec:
    task_id: str
    task_path: str
    trial: int
    mode: str
    surfaces: tuple[str, ...]
    kinds: tuple[str, ...] = ()  # the device kinds the task needs (what a node's probe checks)

    @property
    def key(self) -> tuple[str, int]:
        return (self.task_id, self.trial)

    def folder(self, out: Path) -> Path:
        return out / "trials" / self.task_id / f"trial-{self.trial}"


def plan_trials(suite_dir: Path, trials: int) -> list[TrialSpec]:
    """Every task in the suite × ``trials``; a broken task stops the suite before it starts."""
    files, problems = find_task_files([suite_dir])
    if problems:
        raise ProblemsFound(problems)
    specs = []
    seen: dict[str, str] = {}
    for path in files:
        task = load_task(path).task
        if task.id in seen:
            raise ValueError(f"task id {task.id!r} is used by {seen[task.id]} and {path}")
        seen[task.id] = str(path)
        for k in range(trials):
            kinds = tuple(sorted(set(task.devices.values())))
            specs.append(TrialSpec(task.id, str(path), k, task.mode, tuple(task.surfaces), kinds))
    return specs


def run_order(specs: list[TrialSpec], checkpoint: bool) -> list[TrialSpec]:
    """The order trials start in: with checkpoints, every task's first trial before any
    task's second (a later trial then finds its world saved instead of waiting beside the
    trial building it); otherwise as planned, task by task."""
    if not checkpoint:
        return list(specs)
    return sorted(specs, key=lambda s: s.trial)  # stable: the tasks keep their order


def pick_trial(
    queue: list[TrialSpec], warm: str | None, started: set[str], others: set[str]
) -> int:
    """Which queued trial a free worker runs (its index in ``queue``): the next trial of
    the task whose world the worker kept warm; else a task's first trial not started yet
    (checkpoints are built early, as :func:`run_order` wants); else a trial of a task no
    other worker holds warm (``others``); else the first."""
    for test in (
        lambda s: s.task_id == warm,
        lambda s: s.task_id not in started,
        lambda s: s.task_id not in others,
    ):
        for i, spec in enumerate(queue):
            if test(spec):
                return i
    return 0


def read_results(out: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """The latest result line per (task, trial); a torn last line (a crash) is ignored."""
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    path = out / RESULTS
    if not path.is_file():
        return latest
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        latest[(row["task_id"], int(row["trial"]))] = row
    return latest


def _run_trial(
    spec: TrialSpec,
    agent: str,
    config_data: dict[str, Any],
    out: str,
    checkpoint: bool = False,
    probe: dict[str, Any] | None = None,
    reuse: bool = False,
) -> dict[str, Any]:
    """Worker-process entry point: one episode, returned as a results row.

    ``checkpoint``: restore the task's world checkpoint (the first worker to need it
    builds it under a lock; the others wait and restore it). ``reuse``: this process
    keeps the world for its next trial and resets it in place when the key is the same
    (rig/warm.py; local workers only). ``probe`` (``suite_id``,
    ``kinds``): this node must have passed the suite's quick conformance probe (run now
    if it has not been); a node that failed it runs nothing and the row is a
    ``quarantine`` notice for the driver instead of a result."""
    from rig.agents import make_agent
    from rig.config import parse_config
    from rig.episode import run_episode
    from rig.health import node_gate, node_identity

    if probe is not None:
        try:
            bad = node_gate(probe["suite_id"], probe["kinds"], parse_config(config_data))
        except Exception as exc:  # the probe itself broke: the node is not fit either
            node_id, label = node_identity()
            bad = {"node_id": node_id, "node": label, "check": "probe",
                   "evidence": f"{type(exc).__name__}: {exc}"}  # fmt: skip
        if bad is not None:
            return {"task_id": spec.task_id, "trial": spec.trial, "quarantine": bad}

    folder = spec.folder(Path(out))
    if folder.exists():
        shutil.rmtree(folder)  # what a killed run left half-written
    row: dict[str, Any] = {
        "task_id": spec.task_id,
        "trial": spec.trial,
        "mode": spec.mode,
        "surfaces": list(spec.surfaces),
        "report": str(folder.relative_to(out) / "report.html"),
        "worker": f"{socket.gethostname()}:{os.getpid()}",  # which node and process ran it
        "node_id": node_identity()[0],  # where a retry should not go again
    }
    try:
        config = parse_config(config_data)
        loaded = load_task(Path(spec.task_path))
        the_agent = make_agent(agent, loaded.path.parent, config)
        result = run_episode(loaded, the_agent, config, folder, checkpoint=checkpoint, reuse=reuse)
        row.update(
            passed=result.passed,
            score=result.score,
            infra_error=result.infra_error,
            error=result.error,
            agent_error=result.agent_error,
            steps=result.steps,
            seconds=sum(p.get("seconds", 0) for p in result.phases.values() if isinstance(p, dict)),
            world=result.setup.get("world"),
            # Why a checkpointed trial seeded fresh (a fallback, an unsupported backend).
            world_reason=result.setup.get("reason"),
            setup_s=result.setup.get("seconds"),
        )
    except Exception as exc:  # the rig itself broke for this trial: report it, keep the suite going
        row.update(
            passed=False,
            score=0.0,
            infra_error=None,
            error=f"{type(exc).__name__}: {exc}",
            trace=traceback.format_exc(),
        )
    return row


def run_suite(
    suite_dir: Path,
    agent: str,
    config: RigConfig,
    out: Path,
    trials: int = 1,
    workers: int | None = None,
    resume: bool = False,
    retries: int = 1,
    on_result: Callable[[dict[str, Any], int, int], None] | None = None,
    ray: str | None = None,
    ray_cpus: float | None = None,
    checkpoint: bool | None = None,
) -> dict[str, Any]:
    """Run the suite; returns the summary (also written to ``out/summary.json``).

    ``checkpoint`` (default: when a task runs more than once) restores each task's world
    checkpoint instead of seeding every trial; ``False`` seeds every trial fresh.

    ``ray`` (else ``[suite] ray`` in the config) sends trials to a Ray cluster instead
    of local processes; ``workers`` caps the trials in flight (default: 1 locally, the
    cluster's CPUs / ``ray_cpus`` on Ray). Paths are made absolute so that a worker
    on another node (same paths on a shared filesystem) finds the task and the out folder.
    """
    suite_dir, out = suite_dir.resolve(), out.resolve()
    specs = plan_trials(suite_dir, trials)
    if checkpoint is None:
        checkpoint = len({s.task_id for s in specs}) < len(specs)
    out.mkdir(parents=True, exist_ok=True)
    with hold_out_folder(out) as lock:
        return _run_suite(
            suite_dir, specs, agent, config, out, lock, trials, workers, resume, retries,
            on_result, ray, ray_cpus, checkpoint,
        )  # fmt: skip


def _run_suite(
    suite_dir: Path,
    specs: list[TrialSpec],
    agent: str,
    config: RigConfig,
    out: Path,
    lock: Path,
    trials: int,
    workers: int | None,
    resume: bool,
    retries: int,
    on_result: Callable[[dict[str, Any], int, int], None] | None,
    ray: str | None,
    ray_cpus: float | None,
    checkpoint: bool = False,
) -> dict[str, Any]:
    if not resume and (out / RESULTS).exists():
        raise ValueError(f"{out} already holds results; pass --resume to continue them")
    done = read_results(out)
    todo = [s for s in specs if s.key not in done or done[s.key].get("infra_error")]
    attempts = {s.key: 0 for s in todo}
    config_data = config.model_dump(mode="json")
    ray = ray if ray is not None else config.suite.ray
    ray_cpus = ray_cpus if ray_cpus is not None else config.suite.ray_cpus
    farm_name = ray if ray not in (None, LOCAL) else LOCAL
    write_json(
        out / "suite.json",
        {
            "suite": str(suite_dir),
            "agent": agent,
            "trials": trials,
            "farm": farm_name,
            "checkpoints": checkpoint,
        },
    )
    finished = len(specs) - len(todo)
    if not todo:  # nothing to run: no farm to start (a Ray connection costs seconds)
        return write_outputs(out, specs, trials)
    kinds = sorted({k for s in todo for k in s.kinds})
    suite_id = uuid.uuid4().hex[:12]
    probing = config.suite.probe == "always" or (config.suite.probe == "ray" and farm_name != LOCAL)
    probe = {"suite_id": suite_id, "kinds": kinds} if probing and kinds else None
    quarantined: dict[str, dict[str, Any]] = {}
    stranded: list[TrialSpec] = []
    avoid: dict[tuple[str, int], str] = {}  # a retried trial prefers another node
    (out / QUARANTINE).unlink(missing_ok=True)
    with forgetting_probes(suite_id), open_farm(workers, ray, ray_cpus, lock) as farm:
        farm.check_paths([out, suite_dir])  # before results.jsonl exists: a refusal leaves none
        with open(out / RESULTS, "a", encoding="utf-8") as results:
            pending: dict[Future, TrialSpec] = {}
            queue = run_order(todo, checkpoint)
            # A local worker keeps its last world warm for the same task's next trial.
            reuse = checkpoint and farm.affinity
            slot_task: dict[int, str] = {}  # the task each worker ran last
            started: set[str] = set()

            def submit() -> None:
                while queue and len(pending) < farm.slots:
                    slot = None
                    index = 0
                    if reuse:
                        slot = farm.idle_slots()[0]
                        others = {t for i, t in slot_task.items() if i != slot}
                        index = pick_trial(queue, slot_task.get(slot), started, others)
                    spec = queue.pop(index)
                    if slot is not None:
                        slot_task[slot] = spec.task_id
                    started.add(spec.task_id)
                    attempts[spec.key] += 1
                    job = (_run_trial, spec, agent, config_data, str(out), checkpoint, probe)
                    job += (reuse,)
                    pending[farm.submit(*job, avoid=avoid.get(spec.key), slot=slot)] = spec

            submit()
            while pending:
                complete, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in complete:
                    spec = pending.pop(future)
                    try:
                        row = future.result()
                    except Exception as exc:  # the worker process (or its node) died
                        row = {
                            "task_id": spec.task_id,
                            "trial": spec.trial,
                            "mode": spec.mode,
                            "surfaces": list(spec.surfaces),
                            "passed": False,
                            "score": 0.0,
                            "infra_error": farm.lost(exc),
                            "report": str(spec.folder(out).relative_to(out) / "report.html"),
                        }
                    if row.get("quarantine"):  # the node failed its probe: not this trial's turn
                        entry = row["quarantine"]
                        if entry["node_id"] not in quarantined:
                            quarantined[entry["node_id"]] = entry
                            farm.quarantine(entry["node_id"])
                            write_json(out / QUARANTINE, list(quarantined.values()))
                        attempts[spec.key] -= 1
                        (queue if farm.healthy() else stranded).append(spec)
                        continue
                    row["attempt"] = attempts[spec.key]
                    results.write(json.dumps(row, ensure_ascii=False) + "\n")
                    results.flush()
                    if row.get("infra_error") and attempts[spec.key] <= retries:
                        if row.get("node_id"):
                            avoid[spec.key] = row["node_id"]
                        queue.append(spec)
                    else:
                        finished += 1
                    if on_result is not None:
                        on_result(row, finished, len(specs))
                if not farm.healthy():
                    stranded += queue
                    queue.clear()
                submit()
    summary = write_outputs(out, specs, trials)
    if stranded:
        nodes = "; ".join(
            f"{q['node']}: {q['check']}: {q['evidence']}" for q in quarantined.values()
        )
        raise InfraError(
            f"every node failed its conformance probe and is quarantined ({nodes}); "
            f"{len(stranded)} trials were not run (summary: {out / 'summary.json'})"
        )
    return summary


def write_outputs(out: Path, specs: list[TrialSpec], trials: int) -> dict[str, Any]:
    """summary.json, trials.csv, junit.xml and index.html from the results store."""
    latest = read_results(out)
    rows = [latest[s.key] for s in specs if s.key in latest]
    summary = summarize(
        [
            Trial(
                r["task_id"],
                bool(r.get("passed")),
                float(r.get("score") or 0.0),
                r.get("infra_error") or None,
                r.get("mode", "reactive"),
                tuple(r.get("surfaces") or ()),
            )
            for r in rows
            if not r.get("error")
        ],
        ks=tuple(range(1, trials + 1)),
    ).to_dict()
    # A trial the rig could not judge (its own or the task's error) is neither a pass nor
    # a fail: it stays out of the rates, but is counted, listed and shown, never dropped.
    unjudged = [r for r in rows if r.get("error") and not r.get("infra_error")]
    summary["errors"] = len(unjudged)
    summary["error_trials"] = [
        {"task_id": r["task_id"], "trial": r["trial"], "error": str(r["error"])} for r in unjudged
    ]
    for r in unjudged:
        entry = summary["per_task"].setdefault(
            r["task_id"], {"trials": 0, "passed": 0, "mean_score": None}
        )
        entry["errors"] = entry.get("errors", 0) + 1
    summary["missing"] = len(specs) - len(rows)
    # Nodes (or this machine's devices) that failed the quick conformance probe this run.
    quarantine = out / QUARANTINE
    summary["quarantined"] = (
        json.loads(quarantine.read_text(encoding="utf-8")) if quarantine.is_file() else []
    )
    write_json(out / "summary.json", summary)
    with open(out / "trials.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["task_id", "trial", "passed", "score", "infra_error", "error", "attempt"])
        for r in rows:
            w.writerow(
                [
                    r["task_id"],
                    r["trial"],
                    r.get("passed"),
                    r.get("score"),
                    r.get("infra_error") or "",
                    r.get("error") or "",
                    r.get("attempt", 1),
                ]
            )
    _junit(out / "junit.xml", rows)
    (out / "index.html").write_text(render_index(out, rows, summary), encoding="utf-8")
    from rig.index_extras import annotate_index  # nightly sections: unsound, flaky, history

    annotate_index(out)
    return summary


def _junit(path: Path, rows: list[dict[str, Any]]) -> None:
    failures = sum(
        1 for r in rows if not r.get("passed") and not r.get("infra_error") and not r.get("error")
    )
    errors = sum(1 for r in rows if r.get("infra_error") or r.get("error"))
    suite = ET.Element(
        "testsuite",
        name="clawrig",
        tests=str(len(rows)),
        failures=str(failures),
        errors=str(errors),
    )
    for r in rows:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=r["task_id"],
            name=f"trial-{r['trial']}",
            time=f"{float(r.get('seconds') or 0):.3f}",
        )
        if r.get("infra_error"):
            ET.SubElement(case, "error", type="infra_error", message=str(r["infra_error"])[:500])
        elif r.get("error"):
            ET.SubElement(case, "error", type="error", message=str(r["error"])[:500])
        elif not r.get("passed"):
            ET.SubElement(case, "failure", message=f"score {r.get('score', 0):.2f}")
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
