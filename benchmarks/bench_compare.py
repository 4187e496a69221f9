"""``rig suite compare`` on a full-size night: 200 tasks x 5 trials per run, with phase
times per trial, as a nightly of the Claw-Anything size would leave them.

Prints the median time to read a run folder (results.jsonl + 1000 score.json files), to
compare two loaded runs, and the shares of the comparison the pass^k bootstrap and the
exact stratified test take, side by side, so that a slow morning report is traced to its
part.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

from _common import median_ms

import rig.compare as cmp
from rig.compare import compare_runs
from rig.run_folder import load_run

TASKS, TRIALS = 200, 5


def write_run(root: Path, rng: random.Random) -> Path:
    root.mkdir(parents=True)
    (root / "suite.json").write_text(json.dumps({"agent": "bench", "trials": TRIALS}))
    rows = []
    for t in range(TASKS):
        rate = rng.random()
        for k in range(TRIALS):
            report = f"trials/task-{t:03d}/trial-{k}/report.html"
            passed = rng.random() < rate
            rows.append(
                {"task_id": f"task-{t:03d}", "trial": k, "passed": passed,
                 "score": float(passed), "infra_error": None, "report": report}
            )  # fmt: skip
            folder = (root / report).parent
            folder.mkdir(parents=True)
            phases = {p: {"seconds": rng.uniform(1, 30)} for p in ("allocate", "seed", "agent")}
            (folder / "score.json").write_text(json.dumps({"phases": phases}))
    (root / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def main() -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        old = write_run(Path(tmp) / "old", rng)
        new = write_run(Path(tmp) / "new", rng)
        load = median_ms(lambda: load_run(new), rounds=5, warmup=1)
        a, b = load_run(old), load_run(new)
        full = median_ms(lambda: compare_runs(a, b), rounds=5, warmup=1)
        real_boot, real_strat = cmp.bootstrap_interval, cmp.stratified_exact
        cmp.bootstrap_interval = lambda values, **kw: (0.0, 0.0)  # the same work without it
        try:
            no_boot = median_ms(lambda: compare_runs(a, b), rounds=5, warmup=1)
            cmp.stratified_exact = lambda strata: (1.0, 0.0)
            neither = median_ms(lambda: compare_runs(a, b), rounds=5, warmup=1)
        finally:
            cmp.bootstrap_interval, cmp.stratified_exact = real_boot, real_strat
    print(f"{TASKS} tasks x {TRIALS} trials per run")
    print(f"read one run folder          {load:8.1f} ms")
    print(f"compare two runs             {full:8.1f} ms")
    boot, strat = full - no_boot, no_boot - neither
    print(f"  of which the bootstrap     {boot:8.1f} ms ({boot / full:.0%})")
    print(f"  of which the stratified p  {strat:8.1f} ms ({strat / full:.0%})")
    print(f"compare / read ratio         {full / load:8.2f}")


if __name__ == "__main__":
    main()
