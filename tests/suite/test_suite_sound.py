"""CI proof that every suite task is sound on the default world (virtual phone + a real
QEMU VM): the oracle passes and noop fails, both through ``rig.suite.run_suite``."""

from __future__ import annotations

import json
import time

import pytest

from rig.config import parse_config
from rig.suite import run_suite
from tasks.folder import find_task_files, load_task

WORKERS = 2


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.vm
@pytest.mark.timeout(2400)
def test_every_suite_task_is_sound(suite_dir, private_adb, tmp_path):
    # A loaded 2-core CI machine boots TCG guests slowly; give the VM room, not the agent.
    config = parse_config({"linux": {"qemu": {"boot_timeout_s": 600}}})
    files, problems = find_task_files([suite_dir])
    assert not problems
    ids = sorted(load_task(p).task.id for p in files)
    rows = {}
    for agent in ("oracle", "noop"):
        started = time.monotonic()
        run_suite(suite_dir, agent, config, tmp_path / agent, workers=WORKERS, retries=1)
        lines = (tmp_path / agent / "results.jsonl").read_text(encoding="utf-8").splitlines()
        latest = {}
        for line in lines:
            row = json.loads(line)
            latest[row["task_id"]] = row
        rows[agent] = latest
        print(f"{agent}: {len(latest)} tasks in {time.monotonic() - started:.0f}s")
    problems = []
    for task_id in ids:
        oracle, noop = rows["oracle"].get(task_id), rows["noop"].get(task_id)
        print(
            f"{task_id}: oracle {oracle and oracle.get('seconds', 0):.0f}s, "
            f"noop {noop and noop.get('seconds', 0):.0f}s"
        )
        for agent, row, want in (("oracle", oracle, True), ("noop", noop, False)):
            if row is None:
                problems.append(f"{task_id}: no {agent} result")
            elif row.get("infra_error") or row.get("error"):
                problems.append(f"{task_id}: {agent}: {row.get('infra_error') or row['error']}")
            elif bool(row.get("passed")) != want:
                problems.append(f"{task_id}: {agent} {'fails' if want else 'passes'}")
    assert not problems, "\n".join(problems)
