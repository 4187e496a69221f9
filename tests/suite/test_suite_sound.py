"""CI proof that every suite task is sound on the default world (virtual phone + a real
QEMU VM): the oracle passes and noop fails, both through ``rig.suite.run_suite``.

One test per task, so ``-k TASK_ID`` proves one task; the selected tasks still run
together (two workers) in one suite run per agent, shared by their tests."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from rig.config import parse_config
from rig.suite import run_suite

WORKERS = 2
SUITE = Path(__file__).resolve().parents[2] / "tasks" / "suite"
IDS = sorted(p.name for p in SUITE.iterdir() if (p / "task.yaml").is_file())


@pytest.fixture(scope="session")
def suite_rows(request, private_adb, tmp_path_factory):
    """Oracle and noop results of every selected task, from one suite run per agent."""
    prefix = f"{__name__.rsplit('.', 1)[-1]}.py::test_suite_task_is_sound["
    chosen = sorted(
        {i.callspec.params["task_id"] for i in request.session.items if prefix in i.nodeid}
    )
    folder = tmp_path_factory.mktemp("selected")
    for task_id in chosen:
        shutil.copytree(SUITE / task_id, folder / task_id)
    # A loaded 2-core CI machine boots TCG guests slowly; give the VM room, not the agent.
    config = parse_config({"linux": {"qemu": {"boot_timeout_s": 600}}})
    out = tmp_path_factory.mktemp("runs")
    rows: dict[str, dict[str, dict]] = {}
    for agent in ("oracle", "noop"):
        started = time.monotonic()
        run_suite(folder, agent, config, out / agent, workers=WORKERS, retries=1)
        latest = {}
        for line in (out / agent / "results.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            latest[row["task_id"]] = row
        rows[agent] = latest
        print(f"{agent}: {len(latest)} tasks in {time.monotonic() - started:.0f}s")
    return rows


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.vm
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("task_id", IDS)
def test_suite_task_is_sound(task_id, suite_rows):
    oracle, noop = suite_rows["oracle"].get(task_id), suite_rows["noop"].get(task_id)
    print(
        f"{task_id}: oracle {oracle and oracle.get('seconds', 0):.0f}s, "
        f"noop {noop and noop.get('seconds', 0):.0f}s"
    )
    problems = []
    for agent, row, want in (("oracle", oracle, True), ("noop", noop, False)):
        if row is None:
            problems.append(f"no {agent} result")
        elif row.get("infra_error") or row.get("error"):
            problems.append(f"{agent}: {row.get('infra_error') or row['error']}")
        elif bool(row.get("passed")) != want:
            problems.append(f"{agent} {'fails' if want else 'passes'}")
    assert not problems, f"{task_id}: " + "; ".join(problems)
