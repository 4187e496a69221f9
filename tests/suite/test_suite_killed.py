"""A SIGKILLed `rig suite run` leaves nothing running, and its out folder is held while
anything of it lives (issue 12, item 6); trials the rig could not judge are counted and
shown (item 1)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from rig.errors import RigError
from rig.farm import LocalFarm, hold_out_folder

ROOT = Path(__file__).resolve().parents[2]
ADD_CONTACT = ROOT / "tests" / "mcp" / "fixtures" / "add-contact"

SLOW_ORACLE = """
import os, time
from pathlib import Path

HERE = Path(__file__).parent


def solve(env):
    if (HERE / "slow").exists():
        (HERE / "started").write_text(str(os.getpid()))
        time.sleep(600)
    env.launch("phone", "com.android.contacts")
    env.tap_desc("phone", "Add contact")
    env.tap_text("phone", "First name")
    env.type("phone", "Ada")
    env.tap_text("phone", "Last name")
    env.type("phone", "Lovelace")
    env.tap_text("phone", "Phone")
    env.type("phone", "+44 20 7946 0018")
    env.tap_text("phone", "Save")
    env.finish()
"""


def _rig(*args: str, cwd: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rig.cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the test can always clean up what it started
        **kw,
    )


def _wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.integration
@pytest.mark.slow
def test_sigkilled_suite_leaves_no_worker_or_phone_and_resume_waits_for_them(
    private_adb, tmp_path: Path
) -> None:
    suite = tmp_path / "suite"
    task = suite / "add-contact"
    shutil.copytree(ADD_CONTACT, task)
    (task / "oracle.py").write_text(SLOW_ORACLE, encoding="utf-8")
    (task / "slow").write_text("")
    out = tmp_path / "out"
    driver = _rig("suite", "run", str(suite), "--out", str(out), cwd=tmp_path)
    family: list[psutil.Process] = []
    try:
        _wait_for(lambda: (task / "started").exists() or driver.poll() is not None, 240, "trial")
        assert driver.poll() is None, driver.communicate()
        family = psutil.Process(driver.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in family)
        assert "emulator.sim" in names, names  # a worker and its virtual phone

        # While it runs, a second driver on the same folder is refused.
        second = _rig("suite", "run", str(suite), "--out", str(out), "--resume", cwd=tmp_path)
        _out, err = second.communicate(timeout=120)
        assert second.returncode == 2, err
        assert "in use by another `rig suite run`" in err

        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(10)
        _gone, alive = psutil.wait_procs(family, timeout=30)
        assert not alive, [(p.pid, p.cmdline()) for p in alive]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(driver.pid, signal.SIGKILL)
        for p in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        driver.communicate()

    # Nothing holds the folder now: --resume runs the unfinished trial to its end.
    (task / "slow").unlink()
    again = _rig("suite", "run", str(suite), "--out", str(out), "--resume", cwd=tmp_path)
    _stdout, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    [row] = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert row["passed"] is True, row


def _sleep_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_a_live_worker_of_a_dead_driver_still_holds_the_folder(tmp_path: Path) -> None:
    with hold_out_folder(tmp_path) as lock:
        farm = LocalFarm(1, lock)
        worker = farm.submit(_sleep_then_pid, 0).result(timeout=120)
    try:
        # The driver's own hold is gone; its worker is alive and keeps the folder.
        assert psutil.pid_exists(worker)
        with pytest.raises(RigError, match="in use by another"), hold_out_folder(tmp_path):
            pass
    finally:
        farm.close()
    psutil.wait_procs([psutil.Process(worker)] if psutil.pid_exists(worker) else [], timeout=10)
    with hold_out_folder(tmp_path):
        pass


@pytest.mark.integration
def test_trials_the_rig_could_not_judge_are_counted_and_shown(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    shutil.copytree(ADD_CONTACT, suite / "add-contact")
    out = tmp_path / "out"
    missing = tmp_path / "no-such-trajectory.jsonl"
    run = _rig(
        "suite", "run", str(suite), "--out", str(out), "--trials", "2",
        "--agent", f"replay:{missing}", cwd=tmp_path,
    )  # fmt: skip
    _stdout, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["errors"] == 2
    assert [(e["task_id"], e["trial"]) for e in summary["error_trials"]] == [
        ("mcp-add-contact", 0),
        ("mcp-add-contact", 1),
    ]
    assert summary["per_task"]["mcp-add-contact"]["errors"] == 2
    assert "2 not judged" in err
    assert err.count("not judged: mcp-add-contact #") == 2
    index = (out / "index.html").read_text()
    assert index.count("not judged:") == 2 and "2 not judged" in index
