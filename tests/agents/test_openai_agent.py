"""The OpenAI-compatible agent against a local server that speaks the protocol."""

import pytest

from rig.agents import make_agent
from rig.agents.openai_agent import OpenAIAgent, tool_definitions
from rig.config import RigConfig
from rig.env import Env
from rig.errors import RigError
from rig.world import World
from tests.agents.chat_standin import ChatStandIn, tool_call


def _agent(url: str) -> OpenAIAgent:
    cfg = RigConfig.model_validate({"agent": {"base_url": url, "max_retries": 3}})
    return OpenAIAgent("stand-in-model", cfg)


def test_tools_cover_every_action_with_required_fields():
    tools = {t["function"]["name"]: t["function"] for t in tool_definitions()}
    assert set(tools) >= {"tap", "swipe", "type", "shell", "answer", "notify", "finish"}
    assert tools["shell"]["parameters"]["required"] == ["device", "command"]
    assert "action" not in tools["tap"]["parameters"]["properties"]


def test_agent_answers_retries_rate_limit_and_records_usage(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-for-standin-000000")

    def policy(body, n):
        if n == 0:
            return tool_call("answer", {"text": "Your dentist is on Tuesday at 10:00."})
        if n == 1:
            return 429  # rate limited once; the client must retry
        if n == 2:
            return tool_call("tap", {"device": "phone", "x": 1, "y": 1})  # no such device
        return tool_call("finish", {"reason": "done"})

    world = World()
    steps = []
    env = Env(world, "When is my dentist appointment?", on_step=steps.append)
    env.reset()
    with ChatStandIn(policy) as server:
        _agent(server.url).run(env, env.instruction)
    assert env.done and env.done_reason == "finish"
    assert [m.text for m in env.messages] == ["Your dentist is on Tuesday at 10:00."]
    # the bad tap became an error observation that went back to the model
    tool_msgs = [m for m in server.requests[-1]["messages"] if m["role"] == "tool"]
    assert "no device with role 'phone'" in tool_msgs[-1]["content"]
    assert server.headers[0]["authorization"] == "Bearer sk-test-key-for-standin-000000"
    assert len(server.requests) == 4  # answer, 429, the retry (tap), finish
    assert steps[0].usage == {"prompt_tokens": 100, "completion_tokens": 10}
    assert server.requests[0]["tools"] and server.requests[0]["model"] == "stand-in-model"


def test_agent_gives_up_when_model_stops_calling_tools(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-for-standin-000000")
    env = Env(World(), "hello")
    env.reset()
    with ChatStandIn(lambda body, n: {"role": "assistant", "content": "I am thinking"}) as srv:
        _agent(srv.url).run(env, env.instruction)
    assert env.done and len(srv.requests) == 3
    assert srv.requests[1]["messages"][-1]["content"].startswith("Use the tools")


def test_missing_key_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(RigError, match=r"needs an API key in \$OPENAI_API_KEY"):
        make_agent("openai:gpt-x", tmp_path, RigConfig())
