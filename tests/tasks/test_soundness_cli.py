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


MAIL_TASK = """\
id: mail-twice
title: Tell the user who mailed
mode: reactive
surfaces: [gui]
instruction: Who mailed me about the key?
now: 2026-03-16T09:00:00+01:00
timezone: Europe/Berlin
devices: {phone: android}
services: [mail]
events:
  persona: maya
  generator: {days: 2, seed: 1}
  plot:
    - {t: -1h, kind: mail.received, target: "service:mail", message_id: "<key@x.example>",
       sender: "Ole <ole@x.example>", to: [maya.fischer@posteo.example],
       subject: Key, body: "The key is under the mat."}
limits: {max_steps: 10, max_seconds: 120}
checks:
  - {kind: message, channel: answer, keywords: [Ole]}
"""


@pytest.mark.slow
@pytest.mark.integration
def test_validating_again_into_the_same_folder_starts_from_a_fresh_world(tmp_path, adb_env):
    # The episode folder holds the services' state (the Maildir): a second validation into
    # it used to find the first one's mail and seed every message a second time.
    folder = tmp_path / "mail-twice"
    folder.mkdir()
    (folder / "task.yaml").write_text(MAIL_TASK, encoding="utf-8")
    (folder / "oracle.py").write_text("def solve(env):\n    env.answer('Ole mailed.')\n")
    command = [sys.executable, "-m", "rig.cli", "tasks", "validate", "--run", str(folder)]
    command += ["--out", str(tmp_path / "runs")]
    for _ in range(2):
        out = subprocess.run(
            command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=adb_env
        )
        assert out.returncode == 0, out.stderr
    inbox = tmp_path / "runs" / "mail-twice" / "oracle" / "services" / "mail" / "maildir"
    copies = [p for p in inbox.rglob("*") if p.is_file() and b"<key@x.example>" in p.read_bytes()]
    assert len(copies) == 1, copies
