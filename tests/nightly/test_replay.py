"""``rig suite replay``: a deterministic task replays to the same score; a task whose seed
is written from the clock does not, and is flagged in replay.json, the index and compare."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from rig.compare import compare_folders
from tests.nightly.helpers import ADD_CONTACT, CLOCK_SEEDED, lines, rig


def seed_from_clock(task: Path, record: bool = False) -> str:
    """Write the task's seed from the clock; with ``record`` also make its check expect it."""
    name = f"Clock {time.time_ns()}"
    plot = (CLOCK_SEEDED / "plot.yaml").read_text(encoding="utf-8")
    (task / "plot.yaml").write_text(plot.replace("Clock RECORDED", name), encoding="utf-8")
    if record:
        text = (CLOCK_SEEDED / "task.yaml").read_text(encoding="utf-8")
        (task / "task.yaml").write_text(text.replace("Clock RECORDED", name), encoding="utf-8")
    return name


@pytest.mark.integration
@pytest.mark.slow
def test_replay_separates_a_deterministic_task_from_a_clock_seeded_one(private_adb, tmp_path):
    suite = tmp_path / "suite"
    shutil.copytree(ADD_CONTACT, suite / "add-contact")
    shutil.copytree(CLOCK_SEEDED, suite / "clock-seeded")
    recorded = seed_from_clock(suite / "clock-seeded", record=True)
    run = tmp_path / "run"
    res = rig("suite", "run", str(suite), "--workers", "2", "--out", str(run), cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert all(r["passed"] for r in lines(run / "results.jsonl"))

    later = seed_from_clock(suite / "clock-seeded")  # the next world is seeded at a later time
    assert later != recorded
    res = rig("suite", "replay", str(run), "--workers", "2", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr

    summary = json.loads((run / "replay.json").read_text())
    steady, clock = summary["tasks"]["mcp-add-contact"], summary["tasks"]["clock-seeded"]
    assert (steady["replays"], steady["differ"], steady["flagged"]) == (1, 0, False)
    assert (clock["replays"], clock["differ"], clock["flagged"]) == (1, 1, True)
    assert clock["trials"][0]["recorded"] == 1.0 and clock["trials"][0]["replayed"] == 0.0
    assert summary["flagged"] == ["clock-seeded"]
    replays = {r["task_id"]: r for r in lines(run / "replay" / "results.jsonl")}
    # The deterministic task's replay took the recorded actions, step for step.
    recorded_rows = {r["task_id"]: r for r in lines(run / "results.jsonl")}
    assert replays["mcp-add-contact"]["steps"] == recorded_rows["mcp-add-contact"]["steps"] > 1
    assert (run / "replay" / "round-0" / replays["clock-seeded"]["report"]).is_file()
    assert "clock-seeded: 1/1 replays differ  FLAKY" in res.stderr

    index = (run / "index.html").read_text()
    assert "Replay: same actions, fresh world" in index and "flaky" in index
    report = compare_folders(run, run)
    assert report["flaky"]["new"] == ["clock-seeded"]
    assert {r["task_id"]: r["flaky"] for r in report["tasks"]} == {
        "clock-seeded": True,
        "mcp-add-contact": False,
    }

    # Resume: a second replay command has nothing left to run.
    before = (run / "replay" / "results.jsonl").read_text()
    res = rig("suite", "replay", str(run), cwd=tmp_path)
    assert res.returncode == 0 and (run / "replay" / "results.jsonl").read_text() == before
