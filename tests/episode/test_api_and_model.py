"""The Python environment API, and the OpenAI-compatible agent completing a real episode
against a loopback chat-completions stand-in (the only test double: a remote model)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rig.agents.openai_agent import OpenAIAgent
from rig.api import TaskEnv
from rig.config import RigConfig
from rig.episode import run_episode
from tasks.folder import load_task
from tests.agents.chat_standin import ChatStandIn, tool_call

FIXTURE = Path(__file__).parents[1] / "mcp" / "fixtures" / "add-contact"
pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(autouse=True)
def private_adb(monkeypatch):
    from emulator.adb import AdbServer

    server = AdbServer.private()
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(server.port))
    yield
    server.kill()


def test_task_env_reset_step_close(tmp_path):
    with TaskEnv(FIXTURE, out=tmp_path / "ep") as env:
        obs, instruction = env.reset()
        assert "Ada Lovelace" in instruction and obs.screenshot_png
        obs, done, info = env.step(
            {"action": "launch", "device": "phone", "app": "com.android.contacts"}
        )
        assert obs.ok and "Grace Hopper" in obs.text and not done
        obs, done, info = env.step('{"action": "tap", "device": "phone", "x": -4, "y": 0}')
        assert not obs.ok and "x:" in obs.error and info["steps"] == 2
    assert env.result is not None and env.result.ran and not env.result.passed
    score = json.loads((tmp_path / "ep" / "score.json").read_text())
    assert score["steps"] == 3  # two actions and the closing finish


def _element(tool_text: str, pattern: str) -> int:
    """The id of the first compact-tree line matching ``pattern`` in a tool result."""
    tree = json.loads(tool_text).get("text", "")
    for line in tree.splitlines():
        if re.search(pattern, line):
            return int(line[1 : line.index("]")])
    raise AssertionError(f"no {pattern!r} in {tree}")


def test_openai_agent_completes_an_episode(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-standin-0000000000000000")
    plan = [
        ("launch", lambda _: {"device": "phone", "app": "com.android.contacts"}),
        ("tap", lambda t: {"device": "phone", "element": _element(t, r"desc='Add contact'")}),
        ("tap", lambda t: {"device": "phone", "element": _element(t, r"'First name'")}),
        ("type", lambda _: {"device": "phone", "text": "Ada"}),
        ("tap", lambda t: {"device": "phone", "element": _element(t, r"'Last name'")}),
        ("type", lambda _: {"device": "phone", "text": "Lovelace"}),
        ("tap", lambda t: {"device": "phone", "element": _element(t, r"'Phone'")}),
        ("type", lambda _: {"device": "phone", "text": "+44 20 7946 0018"}),
        ("tap", lambda t: {"device": "phone", "element": _element(t, r"'Save'")}),
        ("answer", lambda _: {"text": "Saved Ada Lovelace."}),
        ("finish", lambda _: {}),
    ]

    def policy(body, n):
        # Like a model: read the last tool result (the compact UI tree) and pick the next call.
        last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "tool"), "{}")
        name, args = plan[n]
        return tool_call(name, args(last), call_id=f"call_{n}")

    loaded = load_task(FIXTURE)
    with ChatStandIn(policy) as server:
        cfg = RigConfig.model_validate({"agent": {"base_url": server.url}})
        result = run_episode(loaded, OpenAIAgent("standin", cfg), cfg, tmp_path / "ep")
    assert result.passed, (result.checks, result.error, result.infra_error)
    lines = (tmp_path / "ep" / "trajectory.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["usage"] == {"prompt_tokens": 100, "completion_tokens": 10}
    assert "sk-standin" not in (tmp_path / "ep" / "trajectory.jsonl").read_text()
    first = server.requests[0]["messages"][1]["content"]
    assert any(part["type"] == "image_url" for part in first)  # the first screen as an image


def test_a_report_that_cannot_be_drawn_leaves_the_verdict(tmp_path, monkeypatch):
    """The report is a view of the record: a bug in it must not turn a scored trial into a
    rig error, which suites leave out of the pass rate."""
    import rig.episode as episode_mod
    from rig.agents.noop import NoopAgent

    def broken(_run_dir):
        raise RuntimeError("viewer bug")

    monkeypatch.setattr(episode_mod, "write_report", broken)
    result = run_episode(load_task(FIXTURE), NoopAgent(), RigConfig(), tmp_path / "ep")
    assert result.ran and not result.passed and result.error is None
    assert "viewer bug" in (tmp_path / "ep" / "report_error.txt").read_text()
    assert "report_error.txt" in (tmp_path / "ep" / "report.html").read_text()
