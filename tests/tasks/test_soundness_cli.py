"""`rig tasks validate --run`: real episodes on the virtual phone prove soundness."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from emulator.adb import AdbServer

TASK = """\
id: {id}
title: Tell the user the pick-up code from the SMS
mode: reactive
surfaces: [gui]
instruction: What is the pick-up code the parcel locker sent me?
now: 2026-03-16T09:00:00+01:00
timezone: Europe/Berlin
devices: {{phone: android}}
events:
  persona: maya
  generator: {{days: 2, seed: 1}}
  plot:
    - {{t: -1h, kind: sms.received, target: phone, address: ParcelPoint,
       body: "Pick-up code 483920. Your order is ready at locker 12."}}
limits: {{max_steps: 10, max_seconds: 120}}
checks:
  - {{kind: message, channel: answer, numbers: [{{value: 483920}}]}}
"""


@pytest.fixture(scope="module")
def adb_env(tmp_path_factory):
    """A private adb server and no user config; only this server is killed afterwards."""
    server = AdbServer.private()
    env = dict(os.environ)
    env["ANDROID_ADB_SERVER_PORT"] = str(server.port)
    env.pop("ADB_SERVER_SOCKET", None)
    env["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg"))
    yield env
    server.kill()


def _task(root, task_id: str, answer: str):
    folder = root / task_id
    folder.mkdir()
    (folder / "task.yaml").write_text(TASK.format(id=task_id), encoding="utf-8")
    (folder / "oracle.py").write_text(f"def solve(env):\n    env.answer({answer!r})\n")
    return folder


@pytest.mark.slow
@pytest.mark.integration
def test_validate_run_judges_soundness(tmp_path, adb_env):
    sound = _task(tmp_path, "code-right", "The pick-up code is 483920.")
    unsound = _task(tmp_path, "code-wrong", "The code is 483902.")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rig.cli",
            "tasks",
            "validate",
            "--run",
            "--android",
            "sim",
            str(sound),
            str(unsound),
            "--out",
            str(tmp_path / "runs"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=adb_env,
    )
    assert out.returncode == 2, out.stderr
    assert "sound: code-right" in out.stdout
    assert f"{unsound / 'task.yaml'}:1: soundness: oracle fails (message#0); it must pass" in (
        out.stderr
    )
    assert "Traceback" not in out.stderr
    for agent in ("oracle", "noop"):
        assert (tmp_path / "runs" / "code-right" / agent / "score.json").is_file()
