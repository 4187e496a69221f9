"""``rig nightly run`` end to end on the virtual phone: a night killed with SIGKILL resumes
without repeating a finished trial; a task made unsound between two nights is reported
first, marks the agent's results untrusted and fails the night; history is charted."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rig.config import RigConfig
from rig.errors import ConfigInvalid
from rig.nightly import load_nightly_config, pick_night, previous_night, rig_config
from tests.nightly.helpers import ADD_CONTACT, ROOT, lines, rig

NIGHT_TOML = """
suite = "suite"
out = "nights"
trials = {trials}
workers = 1
replay = {{ enabled = false }}

[[agents]]
name = "ref"
agent = "oracle"
"""


def setup(tmp_path: Path, trials: int) -> Path:
    shutil.copytree(ADD_CONTACT, tmp_path / "suite" / "add-contact")
    config = tmp_path / "nightly.toml"
    config.write_text(NIGHT_TOML.format(trials=trials), encoding="utf-8")
    return config


@pytest.mark.integration
@pytest.mark.slow
def test_a_killed_night_resumes_without_repeating_finished_trials(private_adb, tmp_path):
    config = setup(tmp_path, trials=3)
    cmd = [sys.executable, "-m", "rig.cli", "nightly", "run", str(config)]
    # Its own session, so that SIGKILL takes the driver and its workers at once, as an
    # OOM kill or a reboot would.
    driver = subprocess.Popen(
        cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        results = None
        while True:
            assert driver.poll() is None, driver.communicate()
            assert time.monotonic() < deadline, "no agent trial finished in time"
            found = list(tmp_path.glob("nights/*/agents/ref/results.jsonl"))
            if found and found[0].read_text().strip():
                results = found[0]
                break
            time.sleep(0.1)
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    night = results.parents[2]
    assert json.loads((night / "night.json").read_text())["status"] == "running"
    before = results.read_text()
    done = lines(results)
    assert 1 <= len(done) < 3
    reports = {r["trial"]: (results.parent / r["report"]).stat().st_mtime_ns for r in done}
    soundness = {
        a: (night / "soundness" / a / "results.jsonl").read_text() for a in ("oracle", "noop")
    }

    res = rig("nightly", "run", str(config), cwd=tmp_path)  # no --date: the unfinished night
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"night {night}" in res.stderr
    after = results.read_text()
    assert after.startswith(before)  # the finished trials' lines are untouched
    rows = lines(results)
    assert sorted(r["trial"] for r in rows) == [0, 1, 2]  # each trial exactly once
    assert all(r["passed"] and r["attempt"] == 1 for r in rows)
    for trial, mtime in reports.items():
        report = results.parent / "trials" / "mcp-add-contact" / f"trial-{trial}" / "report.html"
        assert report.stat().st_mtime_ns == mtime  # not run again
    for agent, text in soundness.items():  # the soundness pass was not repeated either
        assert (night / "soundness" / agent / "results.jsonl").read_text() == text
    state = json.loads((night / "night.json").read_text())
    assert state["status"] == "complete" and state["runs"] == 2 and not state["regressed"]
    assert state["agents"]["ref"]["summary"]["passed"] == 3
    [row] = lines(tmp_path / "nights" / "history.jsonl")
    assert row["agent"] == "ref" and row["pass_at_1"] == 1.0 and row["pass_hat_k"] == 1.0
    assert row["infra_rate"] == 0.0 and row["wall_seconds"] > 0
    assert "<svg" in (night / "index.html").read_text()


@pytest.mark.integration
@pytest.mark.slow
def test_a_task_made_unsound_is_reported_first_and_gates(private_adb, tmp_path):
    config = setup(tmp_path, trials=1)
    res = rig("nightly", "run", str(config), "--date", "2026-03-15", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "no regression" in res.stdout

    # The task's check now holds before anyone acts: doing nothing passes, so it is unsound.
    task = tmp_path / "suite" / "add-contact" / "task.yaml"
    text = task.read_text().replace("data1: Ada Lovelace", "data1: Grace Hopper")
    task.write_text(text.replace('data1: "7946 0018"', 'data1: "555 0147"'))
    res = rig("nightly", "run", str(config), "--date", "2026-03-16", cwd=tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    err = res.stderr
    assert "NEWLY UNSOUND: mcp-add-contact: noop passes; it must fail" in err
    assert err.index("NEWLY UNSOUND") < err.index("agent ref")  # reported before the agents
    night = tmp_path / "nights" / "2026-03-16"
    state = json.loads((night / "night.json").read_text())
    assert state["regressed"] and state["newly_unsound"] == ["mcp-add-contact"]
    assert state["reasons"] == ["task mcp-add-contact became unsound"]
    compare = json.loads((night / "compare" / "ref.json").read_text())
    assert compare["unsound"]["newly"] == ["mcp-add-contact"]
    [row] = compare["tasks"]
    assert row["untrusted"] and "significant" not in row
    assert (
        "Unsound tasks: their results are untrusted"
        in (night / "agents" / "ref" / "index.html").read_text()
    )
    page = (night / "index.html").read_text()
    assert "unsound (new)" in page and "Regressed" in page
    assert page.count("<polyline") >= 3  # pass@1, pass^k and infra over two nights
    nights = (tmp_path / "nights" / "index.html").read_text()
    assert nights.index("2026-03-16/index.html") < nights.index("2026-03-15/index.html")
    assert "regressed" in nights and "task mcp-add-contact became unsound" in nights
    history = lines(tmp_path / "nights" / "history.jsonl")
    assert [(r["night"], r["untrusted"]) for r in history] == [("2026-03-15", 0), ("2026-03-16", 1)]

    # The next night compares with the last complete one; the task is still unsound but no
    # longer new, so it does not fail that night again.
    # (This night goes through scripts/nightly.sh, as cron runs it.)
    res = nightly_sh(str(config), "--date", "2026-03-17", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "NEWLY UNSOUND" not in res.stderr and "nightly: no regression" in res.stdout


def nightly_sh(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, RIG=str(Path(sys.executable).with_name("rig")))
    return subprocess.run(
        [str(ROOT / "scripts" / "nightly.sh"), *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=600,
    )  # fmt: skip


def test_example_config_and_the_script_on_bad_input(tmp_path):
    cfg = load_nightly_config(ROOT / "scripts" / "nightly.example.toml")
    assert cfg.suite == ROOT / "tasks" / "suite" and cfg.trials == 3
    tuned = rig_config(RigConfig(), cfg.config, cfg.agents[1].config, where="example")
    assert tuned.agent.max_images == 3
    shutil.copytree(ADD_CONTACT, tmp_path / "suite" / "add-contact")
    bad = tmp_path / "agent.toml"
    bad.write_text(
        'suite = "suite"\nout = "o"\n'
        '[[agents]]\nname = "a"\nagent = "noop"\n[agents.config.agent]\ntemprature = 1\n'
    )
    res = nightly_sh(str(bad), cwd=tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "agents.a" in res.stderr and "temprature" in res.stderr
    assert "nightly: failed with status 2" in res.stdout
    assert not (tmp_path / "o").exists()  # refused before anything ran
    assert nightly_sh(cwd=tmp_path).returncode == 2  # usage


def test_config_errors_name_the_file_and_key(tmp_path):
    (tmp_path / "suite").mkdir()
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'suite = "suite"\nout = "o"\ntrails = 3\n[[agents]]\nname = "a b"\nagent = "gpt"\n'
    )
    with pytest.raises(ConfigInvalid) as info:
        load_nightly_config(bad)
    text = str(info.value)
    assert str(bad) in text and "trails" in text and "agents.0.name" in text
    assert "agents.0.agent: Value error, 'gpt': expected oracle" in text
    dup = tmp_path / "dup.toml"
    dup.write_text(
        'suite = "suite"\nout = "o"\nray = "nowhere"\n'
        '[[agents]]\nname = "a"\nagent = "noop"\n[[agents]]\nname = "a"\nagent = "oracle"\n'
    )
    with pytest.raises(ConfigInvalid, match=r"(?s)agent names must be unique: a.*ray: .*nowhere"):
        load_nightly_config(dup)
    res = rig("nightly", "run", str(bad), cwd=tmp_path)
    assert res.returncode == 2 and "trails" in res.stderr and "Traceback" not in res.stderr


def test_which_night_runs(tmp_path):
    from datetime import UTC, datetime

    out = tmp_path / "nights"
    now = datetime(2026, 3, 17, 0, 30, tzinfo=UTC)
    assert pick_night(out, None, now).name == "2026-03-17"
    for name, status in (("2026-03-15", "complete"), ("2026-03-16", "running")):
        (out / name).mkdir(parents=True)
        (out / name / "night.json").write_text(json.dumps({"status": status}))
    # Past midnight, the night that started yesterday and was killed is the one resumed.
    assert pick_night(out, None, now).name == "2026-03-16"
    assert previous_night(out, out / "2026-03-17").name == "2026-03-15"
    assert previous_night(out, out / "2026-03-15") is None
    with pytest.raises(ConfigInvalid, match="YYYY-MM-DD"):
        pick_night(out, "tomorrow")


def test_a_night_still_running_is_not_started_twice(tmp_path):
    from rig.errors import RigError
    from rig.farm import hold_out_folder
    from rig.nightly import run_night

    config = setup(tmp_path, trials=1)
    night = tmp_path / "nights" / "2026-03-16"
    night.mkdir(parents=True)
    # The first driver holds the night; the second is refused.
    with hold_out_folder(night), pytest.raises(RigError, match="in use"):
        run_night(config, RigConfig(), "2026-03-16")
    assert not (night / "night.json").exists()  # the second driver touched nothing
