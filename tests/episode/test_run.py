"""`rig run` and `rig suite run` end to end on the virtual phone, through the real CLI."""

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

from hostproc.ports import free_port

FIXTURE = Path(__file__).parents[1] / "mcp" / "fixtures" / "add-contact"
pytestmark = [pytest.mark.integration, pytest.mark.slow]


ENV: dict[str, str] = {}


def rig(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rig.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=ENV,
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A scratch folder; every rig call talks to a private adb server, killed at the end."""
    port = free_port()
    ENV.clear()
    ENV.update(os.environ, ANDROID_ADB_SERVER_PORT=str(port))
    yield tmp_path_factory.mktemp("episodes")
    subprocess.run(["adb", "-P", str(port), "kill-server"], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def oracle_run(work: Path) -> Path:
    out = work / "oracle"
    res = rig("run", str(FIXTURE), "--agent", "oracle", "--out", str(out), cwd=work)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "PASS mcp-add-contact" in res.stderr
    return out


def test_oracle_passes_and_leaves_a_full_record(oracle_run: Path):
    score = json.loads((oracle_run / "score.json").read_text())
    assert score["passed"] is True and score["score"] == 1.0
    assert {c["name"] for c in score["checks"]} == {"name-saved", "number-saved"}
    assert set(score["phases"]) == {"allocate", "clock", "seed", "baseline", "agent", "score"}
    episode = json.loads((oracle_run / "episode.json").read_text())
    assert episode["status"] == "passed"
    steps = [
        json.loads(line) for line in (oracle_run / "trajectory.jsonl").read_text().splitlines()
    ]
    taps = [s for s in steps if s["action"]["action"] == "tap"]
    assert taps and all(s["files"].get("before") and s["files"].get("after") for s in taps)
    assert all((oracle_run / s["files"]["before"]).is_file() for s in taps)
    assert (oracle_run / "seed" / "phone-digest.json").is_file()
    assert json.loads((oracle_run / "seed" / "skipped.json").read_text())["skipped"] == {}
    assert (oracle_run / "report.html").read_text().count("mcp-add-contact") >= 1


def test_replay_of_the_oracle_passes_too(oracle_run: Path, work: Path):
    out = work / "replay"
    res = rig("run", str(FIXTURE), "--agent", f"replay:{oracle_run}", "--out", str(out), cwd=work)
    assert res.returncode == 0, res.stderr
    assert json.loads((out / "score.json").read_text())["passed"] is True


def test_noop_fails_but_the_episode_ran(work: Path):
    out = work / "noop"
    res = rig("run", str(FIXTURE), "--agent", "noop", "--out", str(out), cwd=work)
    assert res.returncode == 0, res.stderr  # the episode ran; the agent failed
    score = json.loads((out / "score.json").read_text())
    assert score["passed"] is False and score["infra_error"] is None
    assert "FAIL mcp-add-contact" in res.stderr


def test_infra_error_is_not_an_agent_failure(work: Path):
    out = work / "infra"
    # An attached serial that does not exist: the world cannot come up.
    res = rig(
        "run",
        str(FIXTURE),
        "--agent",
        "oracle",
        "--out",
        str(out),
        "--android",
        "attach:127.0.0.1:1",
        cwd=work,
    )
    assert res.returncode == 3, res.stdout + res.stderr
    score = json.loads((out / "score.json").read_text())
    assert score["infra_error"].startswith("allocate:")
    assert score["passed"] is False and score["checks"] == []
    assert json.loads((out / "episode.json").read_text())["phases"]["allocate"]["status"] == (
        "infra_error"
    )


def test_an_existing_episode_is_not_overwritten_silently(oracle_run: Path, work: Path):
    res = rig("run", str(FIXTURE), "--agent", "noop", "--out", str(oracle_run), cwd=work)
    assert res.returncode == 2 and "--overwrite" in res.stderr
    assert json.loads((oracle_run / "score.json").read_text())["passed"] is True


def test_bad_task_is_bad_input(work: Path, tmp_path: Path):
    bad = tmp_path / "bad"
    shutil.copytree(FIXTURE, bad)
    text = (bad / "task.yaml").read_text().replace("mode: reactive", "mode: sometimes")
    (bad / "task.yaml").write_text(text)
    res = rig("run", str(bad), "--out", str(tmp_path / "o"), cwd=work)
    assert res.returncode == 2
    assert "task.yaml:4: mode:" in res.stderr and "Traceback" not in res.stderr


def _suite(root: Path, n: int) -> Path:
    suite = root / "suite"
    for i in range(n):
        dest = suite / f"t{i}"
        shutil.copytree(FIXTURE, dest)
        yaml = (dest / "task.yaml").read_text().replace("id: mcp-add-contact", f"id: add-{i}")
        (dest / "task.yaml").write_text(yaml)
    return suite


def test_suite_with_two_workers_resumes_after_a_kill(work: Path):
    suite = _suite(work, 2)
    out = work / "suite-out"
    cmd = [
        sys.executable,
        "-m",
        "rig.cli",
        "suite",
        "run",
        str(suite),
        "--agent",
        "oracle",
        "--trials",
        "2",
        "--workers",
        "2",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=ENV,
    )
    results = out / "results.jsonl"
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and proc.poll() is None:
        if results.is_file() and results.read_text().count("\n") >= 1:
            break
        time.sleep(0.5)
    assert proc.poll() is None, "the suite finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)  # the parent and its workers, mid-suite
    proc.wait(timeout=60)
    before = [json.loads(x) for x in results.read_text().splitlines() if x.strip()]
    assert 1 <= len(before) < 4

    again = rig(
        "suite",
        "run",
        str(suite),
        "--agent",
        "oracle",
        "--trials",
        "2",
        "--workers",
        "2",
        "--out",
        str(out),
        "--resume",
        cwd=work,
    )
    assert again.returncode == 0, again.stderr
    rows = [json.loads(x) for x in results.read_text().splitlines() if x.strip()]
    keys = [(r["task_id"], r["trial"]) for r in rows]
    assert sorted(set(keys)) == [("add-0", 0), ("add-0", 1), ("add-1", 0), ("add-1", 1)]
    assert len(keys) == len(set(keys)) == 4  # finished trials were not run again
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trials"] == 4 and summary["passed"] == 4 and summary["missing"] == 0
    assert summary["pass_at_k"]["2"] == 1.0
    assert (out / "junit.xml").read_text().count("<testcase") == 4
    assert "add-1" in (out / "index.html").read_text()


def test_suite_refuses_to_overwrite_without_resume(work: Path):
    out = work / "suite-out"
    assert (out / "results.jsonl").is_file()
    res = rig("suite", "run", str(_suite(work / "again", 1)), "--out", str(out), cwd=work)
    assert res.returncode == 2 and "--resume" in res.stderr
