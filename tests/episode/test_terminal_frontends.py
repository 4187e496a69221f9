"""The terminal actions through the Python API and the OpenAI-compatible agent, on real VMs.

The OpenAI agent talks to a loopback chat-completions stand-in (the only test double: a
remote model); its scripted "model" reads each tool result, as a model would, before the
next call.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linux_vm.image import GUEST_PASSWORD
from rig.agents.openai_agent import OpenAIAgent, tool_definitions
from rig.api import TaskEnv
from rig.config import RigConfig
from rig.episode import run_episode
from tasks.folder import load_task
from tests.agents.chat_standin import ChatStandIn, tool_call

SUITE = Path(__file__).parents[2] / "tasks" / "suite"
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.vm]


def test_task_env_creates_the_account_at_the_terminal(tmp_path):
    with TaskEnv(SUITE / "account-for-noah-with-sudo", out=tmp_path / "ep") as env:
        env.reset()
        obs, _, _ = env.step(
            {"action": "shell", "device": "laptop", "command": "sudo -k; sudo true"}
        )
        assert obs.exit_code != 0 and "terminal is required" in obs.stderr  # no pty there
        line = "sudo useradd --create-home --shell /bin/bash --comment 'Noah Weber' noah"
        obs, _, _ = env.step(
            json.dumps(
                {"action": "terminal_keys", "device": "laptop", "keys": [{"text": line}, "Enter"],
                 "until": "password for user"}
            )
        )  # fmt: skip
        assert obs.ok and "[sudo] password for user" in obs.text
        obs, _, _ = env.step(
            {"action": "terminal_keys", "device": "laptop", "keys": [GUEST_PASSWORD, "Enter"]}
        )
        assert obs.ok and obs.text.rstrip().endswith("$"), obs.text
    assert env.result is not None and env.result.passed, env.result.checks
    assert GUEST_PASSWORD not in (tmp_path / "ep" / "trajectory.jsonl").read_text()


def test_openai_agent_answers_the_script_through_terminal_tools(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-standin-0000000000000000")
    assert {"terminal_keys", "terminal_screen"} <= {
        t["function"]["name"] for t in tool_definitions()
    }
    plan = [
        ("terminal_keys", {"keys": ["bash ~/Downloads/acme-vpn-enroll.sh", "Enter"]}, None),
        ("terminal_keys", {"keys": ["E-20471", "Enter"]}, "Employee number"),
        ("terminal_keys", {"keys": ["Hamburg", "Enter"]}, "Office ["),
        ("terminal_keys", {"keys": ["y", "Enter"]}, "[y/N]"),
        ("terminal_screen", {}, "Welcome to ACME VPN"),
        ("finish", {}, "Welcome to ACME VPN"),
    ]

    def policy(body, n):
        # Like a model: act only once the last tool result shows what the step expects.
        last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "tool"), "")
        name, args, expect = plan[n]
        if expect is not None:
            assert expect in json.loads(last)["text"], last
        if name != "finish":
            args = {"device": "laptop", **args}
        return tool_call(name, args, call_id=f"call_{n}")

    loaded = load_task(SUITE / "vpn-enroll-interactive-script")
    with ChatStandIn(policy) as server:
        cfg = RigConfig.model_validate({"agent": {"base_url": server.url}})
        result = run_episode(loaded, OpenAIAgent("standin", cfg), cfg, tmp_path / "ep")
    assert result.passed, (result.checks, result.error, result.infra_error)
    system = server.requests[0]["messages"][0]["content"]
    assert "terminal_keys" in system
