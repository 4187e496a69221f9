"""Heartbeats on the virtual phone through every front end: ``TaskEnv.beats()``, the MCP
episode (each beat comes back as ``finish``'s result), ``rig run`` with the oracle and
noop, and the record (each beat's start in the trajectory, the report's heartbeat lane).

Real parts: the virtual phone behind the real adb server; its clock is read with ``date``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rig.api import TaskEnv
from rig.config import load_config
from rig.mcp_server.session import McpEpisode
from tasks.folder import load_task

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TASK = Path(__file__).parent / "fixtures" / "heartbeat-dentist"
ROOT = Path(__file__).parents[2]


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_taskenv_walks_the_beats_and_the_phone_clock_steps_with_them(tmp_path):
    out = tmp_path / "run"
    seen = []
    with TaskEnv(TASK, out=out) as env:
        obs, _ = env.reset()
        assert "Heartbeat 1/5" in obs.text
        for beat in env.beats():
            phone = int(env.episode.world["phone"].shell("date +%s", timeout=10).stdout)
            seen.append((beat.index, beat.at.strftime("%H:%M"), phone == beat.at.timestamp()))
            if beat.index == 5:
                env.step({"action": "launch", "device": "phone", "app": "com.android.calendar"})
                env.step({"action": "notify", "text": "Dentist – Dr. Baumann at 13:30 today."})
            # the loop finishes each beat it leaves open
    assert seen == [(k, f"{8 + k:02d}:00", True) for k in range(1, 6)]
    assert env.result.passed and env.result.done_reason == "finish"
    steps = _lines(out / "trajectory.jsonl")
    starts = [s["beat_start"] for s in steps if "beat_start" in s]
    assert [b["beat"] for b in starts] == [1, 2, 3, 4, 5]
    assert [b["world_time"][11:16] for b in starts] == ["09:00", "10:00", "11:00", "12:00", "13:00"]
    assert [s["beat"] for s in steps] == [1, 2, 3, 4, 5, 5, 5]  # launch, notify, finish
    marks = [e for e in _lines(out / "events.jsonl") if e["kind"] == "heartbeat"]
    assert [e["beat"] for e in marks] == [1, 2, 3, 4, 5]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "heartbeat: 5/5 13:00" in report  # a marker on the timeline's heartbeat lane


def test_mcp_finish_returns_the_next_beat_until_the_last(tmp_path):
    said: list[str] = []
    session = McpEpisode(load_task(TASK), load_config(), tmp_path / "mcp", say=said.append)
    session.start()
    try:
        task = session.call("get_task", {})
        texts = [c.text for c in task.content if c.type == "text"]
        assert "woken 5 times" in texts[0] and "Heartbeat 1/5" in texts[1]
        for k in range(2, 6):
            result = session.call("finish", {"reason": "nothing yet"})
            data = json.loads(result.content[0].text)
            assert not result.is_error and f"Heartbeat {k}/5" in data["text"], data
        assert "last heartbeat" in data["text"]
        session.call("notify", {"text": "Your Dentist appointment is at 13:30."})
        last = session.call("finish", {"reason": "done"})
        assert "recorded and scored" in last.content[0].text
    finally:
        result = session.end("test over")
    assert result.passed and result.steps == 6
    beats = json.loads((tmp_path / "mcp" / "beats.json").read_text(encoding="utf-8"))
    assert [b["world_time"][11:16] for b in beats] == ["09:00", "10:00", "11:00", "12:00", "13:00"]


@pytest.mark.parametrize(("agent", "passed", "steps"), [("oracle", True, 8), ("noop", False, 5)])
def test_rig_run_carries_the_beats(tmp_path, agent, passed, steps):
    out = tmp_path / agent
    run = subprocess.run(
        [sys.executable, "-m", "rig.cli", "run", str(TASK), "--agent", agent, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    score = json.loads((out / "score.json").read_text(encoding="utf-8"))
    assert (score["passed"], score["steps"], score["done_reason"]) == (passed, steps, "finish")
    assert len(json.loads((out / "beats.json").read_text(encoding="utf-8"))) == 5
