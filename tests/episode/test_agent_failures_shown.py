"""An agent's exception is never hidden, a crashed oracle proves nothing, and device or
agent text reaches the terminal literally (it is never parsed as Rich markup).

The episodes run on the virtual phone through the real CLI (`rig run`, `rig tasks
validate --run`); the printout itself is property-tested on hostile text.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from emulator.adb import AdbServer
from rig.commands.run import result_lines
from rig.episode import EpisodeResult

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
  plot:
    - {{t: -1h, kind: sms.received, target: phone, address: ParcelPoint,
       body: "Pick-up code 483920. Your order is ready at locker 12."}}
limits: {{max_steps: 10, max_seconds: 120}}
checks:
  - {{kind: message, channel: answer, numbers: [{{value: 483920}}]}}
{extra}
"""

# Solves the task (the right answer), then crashes: the state it leaves passes every check.
CRASHING_ORACLE = """\
def solve(env):
    env.answer("The pick-up code is 483920.")
    raise RuntimeError("oracle bug after solving: [/] and [\\\\] and [bold]x")
"""
ORACLE_ERROR = r"RuntimeError: oracle bug after solving: [/] and [\] and [bold]x"

# Check details that quote markup-like text: `[/]` crashed `rig run` after scoring (MarkupError).
MARKUP_CHECKS = """\
  - {id: closing-tag, kind: message, channel: answer, keywords: ["[/]"]}
  - {id: backslash, kind: message, channel: answer, keywords: ['[\\]']}
  - {id: style-tag, kind: message, channel: answer, keywords: ["[bold red]"]}
"""

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    """A private adb server and no user config; only this server is killed afterwards."""
    server = AdbServer.private()
    env = dict(os.environ)
    env["ANDROID_ADB_SERVER_PORT"] = str(server.port)
    env.pop("ADB_SERVER_SOCKET", None)
    env["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg"))
    yield env
    server.kill()


def _rig(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rig.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env=env,
    )


def _task(root: Path, task_id: str, oracle: str, extra: str = "") -> Path:
    folder = root / task_id
    folder.mkdir()
    (folder / "task.yaml").write_text(TASK.format(id=task_id, extra=extra), encoding="utf-8")
    (folder / "oracle.py").write_text(oracle, encoding="utf-8")
    return folder


def test_validate_run_refuses_an_oracle_that_raises(tmp_path, cli_env):
    task = _task(tmp_path, "crashing-oracle", CRASHING_ORACLE)
    out = _rig(
        "tasks", "validate", "--run", "--android", "sim", str(task),
        "--out", str(tmp_path / "runs"), env=cli_env, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 2, out.stdout + out.stderr
    assert "sound:" not in out.stdout
    assert f"soundness: oracle raised {ORACLE_ERROR}; it must finish without an error" in (
        out.stderr
    )
    assert "Traceback" not in out.stderr
    # The oracle's answer did satisfy the check: only the exception makes it unsound.
    score = json.loads(
        (tmp_path / "runs" / "crashing-oracle" / "oracle" / "score.json").read_text()
    )
    assert score["passed"] is True and score["agent_error"] == ORACLE_ERROR
    episode = json.loads(
        (tmp_path / "runs" / "crashing-oracle" / "oracle" / "episode.json").read_text()
    )
    assert "raise RuntimeError" in episode["agent_traceback"]


def test_run_prints_the_agent_error_and_markup_literally(tmp_path, cli_env):
    task = _task(tmp_path, "markup-details", CRASHING_ORACLE, MARKUP_CHECKS)
    run = tmp_path / "ep"
    out = _rig(
        "run", str(task), "--agent", "oracle", "--android", "sim", "--out", str(run),
        env=cli_env, cwd=tmp_path,
    )  # fmt: skip
    # The episode ran (the agent failed three checks): exit 0, no MarkupError after scoring.
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and "MarkupError" not in out.stderr
    score = json.loads((run / "score.json").read_text())
    details = {c["name"]: c["detail"] for c in score["checks"]}
    assert details["closing-tag"] == "no mention of '[/]'"
    assert details["style-tag"] == "no mention of '[bold red]'"
    for name, detail in details.items():
        assert f"{name}: {detail}" in out.stderr  # byte for byte, `[\\]` included
    assert f"AGENT ERROR {ORACLE_ERROR}" in out.stderr
    assert score["agent_error"] == ORACLE_ERROR
    report = (run / "report.html").read_text(encoding="utf-8")
    assert "AGENT ERROR" in report and "oracle bug after solving: [/] and [\\] and" in report


def test_suite_run_shows_the_agent_error_of_a_trial(tmp_path, cli_env):
    suite = tmp_path / "suite"
    suite.mkdir()
    _task(suite, "crashing-oracle", CRASHING_ORACLE)
    out = tmp_path / "suite-out"
    res = _rig(
        "suite", "run", str(suite), "--agent", "oracle", "--android", "sim",
        "--out", str(out), env=cli_env, cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"crashing-oracle #0: pass (agent error: {ORACLE_ERROR})" in res.stderr
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "(raised)" in index and "agent error: RuntimeError: oracle bug after solving" in index


_LITERAL = st.text(
    alphabet=st.one_of(
        st.sampled_from("[]/\\@#=:'\" bold red link"),
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(detail=_LITERAL, cause=_LITERAL, agent_error=_LITERAL, infra=st.booleans())
def test_the_printout_is_literal_for_any_text(detail, cause, agent_error, infra):
    result = EpisodeResult(
        "t",
        checks=[{"name": "c", "passed": False, "detail": detail}],
        agent_error=agent_error,
        infra_error=cause if infra else None,
    )
    buf = io.StringIO()
    console = Console(file=buf, soft_wrap=True, color_system=None, width=500)
    for line in result_lines("t", result):
        console.print(line)
    text = buf.getvalue()
    if infra:
        assert f"INFRA ERROR {cause}" in text
    else:
        assert f"c: {detail}\n" in text
    assert f"AGENT ERROR {agent_error}\n" in text
