"""ask_user: the simulated person answers from the task's user: section or a model.

The model runs behind the loopback chat stand-in (the one test double: a remote LLM
API cannot run here); everything else is the real Env, scorer and task loader.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig import actions as A
from rig.agents.kit import Actions
from rig.agents.openai_agent import OpenAIAgent, tool_definitions
from rig.config import RigConfig
from rig.env import Env
from rig.mcp_server import tool_list
from rig.simulated_user import SimulatedUser
from rig.world import World
from scoring.evaluate import Scorer
from tasks.folder import load_task
from tasks.user import DEFAULT_REPLY, UserSpec
from tests.agents.chat_standin import ChatStandIn, tool_call

SPEC = UserSpec.model_validate(
    {
        "persona": "Mara Lindqvist, 34, nurse",
        "facts": ["The Jonas she means is Jonas Weber, her colleague.", "Her dentist is Dr. Chen."],
        "answers": [
            {"match": r"which jonas|jonas (weber|berg)", "say": "Jonas Weber, from work."},
            {"match": "dentist", "say": "Dr. Chen."},
        ],
    }
)


def _env(user: SimulatedUser | None) -> Env:
    env = Env(World(), "Text Jonas that I am late.", user=user)
    env.reset()
    return env


def test_scripted_answers_match_by_pattern_else_default():
    env = _env(SimulatedUser(SPEC))
    obs, done, _ = env.step({"action": "ask_user", "question": "Which JONAS do you mean?"})
    assert obs.ok and not done
    assert obs.text == "the user replies: Jonas Weber, from work."
    obs, _, _ = env.step({"action": "ask_user", "question": "What is your bank PIN?"})
    assert obs.text == f"the user replies: {DEFAULT_REPLY}"
    assert [(q.question, q.answer, q.source, q.step) for q in env.questions] == [
        ("Which JONAS do you mean?", "Jonas Weber, from work.", "script", 0),
        ("What is your bank PIN?", DEFAULT_REPLY, "default", 1),
    ]
    assert env.messages == []  # a question is not a message to the user's inbox


def test_a_task_without_user_section_still_answers_with_the_default():
    env = _env(None)
    obs, _, _ = env.step({"action": "ask_user", "question": "Which Jonas?"})
    assert obs.text == f"the user replies: {DEFAULT_REPLY}"


@pytest.mark.parametrize("bad", [{"action": "ask_user"}, {"action": "ask_user", "question": "   "}])
def test_a_malformed_question_is_an_error_observation(bad):
    env = _env(SimulatedUser(SPEC))
    obs, done, _ = env.step(bad)
    assert not obs.ok and not done and "question" in obs.error
    assert env.questions == []


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=300).filter(str.strip))
def test_hostile_question_and_answer_survive_byte_for_byte(text):
    spec = UserSpec(answers=[{"match": ".", "say": text}])
    env = _env(SimulatedUser(spec))
    obs, _, _ = env.step(A.AskUser(question=text))
    assert env.questions[0].question == text and env.questions[0].answer == text
    assert obs.text == f"the user replies: {text}"


def test_model_answers_unmatched_questions_as_the_persona(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-for-standin-000000")

    def policy(body, n):
        return {"role": "assistant", "content": "  Gluten-free, please.  "}

    with ChatStandIn(policy) as server:
        cfg = RigConfig.model_validate(
            {"agent": {"base_url": server.url}, "user": {"model": "persona-model"}}
        )
        user = SimulatedUser(SPEC, cfg)
        assert user.answer("Which dentist?").source == "script"  # no model call for a script
        assert server.requests == []
        reply = user.answer("Any food allergies for the order?")
    assert (reply.text, reply.source) == ("Gluten-free, please.", "model")
    (request,) = server.requests
    assert request["model"] == "persona-model" and "tools" not in request
    system, question = request["messages"]
    assert "Mara Lindqvist, 34, nurse" in system["content"]
    assert "- The Jonas she means is Jonas Weber, her colleague." in system["content"]
    assert DEFAULT_REPLY in system["content"]  # told what to say when the facts do not settle it
    assert question == {"role": "user", "content": "Any food allergies for the order?"}


def test_model_silence_falls_back_to_the_default(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-for-standin-000000")
    with ChatStandIn(lambda body, n: {"role": "assistant", "content": ""}) as server:
        cfg = RigConfig.model_validate({"agent": {"base_url": server.url}, "user": {"model": "m"}})
        reply = SimulatedUser(UserSpec(default="No idea, sorry."), cfg).answer("Where?")
    assert (reply.text, reply.source) == ("No idea, sorry.", "default")


def test_openai_agent_asks_through_its_tool_and_reads_the_reply(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-for-standin-000000")
    assert "ask_user" in {t["function"]["name"] for t in tool_definitions()}
    assert "ask_user" in {t.name for t in tool_list()}  # the MCP server's tools too

    def policy(body, n):
        if n == 0:
            return tool_call("ask_user", {"question": "Which Jonas do you mean?"})
        if n == 1:
            reply = [m for m in body["messages"] if m["role"] == "tool"][-1]["content"]
            assert "Jonas Weber, from work." in reply
            return tool_call("answer", {"text": "Texting Jonas Weber."}, "call_2")
        return tool_call("finish", {}, "call_3")

    env = _env(SimulatedUser(SPEC))
    with ChatStandIn(policy) as server:
        cfg = RigConfig.model_validate({"agent": {"base_url": server.url, "max_retries": 0}})
        OpenAIAgent("agent-model", cfg).run(env, env.instruction)
    assert env.done_reason == "finish" and len(server.requests) == 3
    assert [(q.question, q.answer) for q in env.questions] == [
        ("Which Jonas do you mean?", "Jonas Weber, from work.")
    ]


def test_oracle_kit_asks_and_gets_the_plain_reply():
    env = _env(SimulatedUser(SPEC))
    assert Actions(env).ask_user("Which Jonas?") == "Jonas Weber, from work."


# -- the asked_user check: at least / never / at most, near the boundary ------------------

TASK = """\
id: ask-check
title: asked_user near misses
mode: reactive
surfaces: [cli]
instruction: Text Jonas.
now: 2026-03-16T09:00:00+01:00
timezone: Europe/Berlin
devices: {{laptop: linux}}
user:
  answers: [{{match: jonas, say: Weber}}]
checks:
  - {{kind: asked_user, {spec}}}
"""


def _verdict(tmp_path: Path, spec: str, questions: list[str]) -> tuple[bool, str]:
    folder = tmp_path / "t"
    folder.mkdir(exist_ok=True)
    (folder / "task.yaml").write_text(TASK.format(spec=spec), encoding="utf-8")
    (folder / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    task = load_task(folder).task
    env = _env(SimulatedUser(task.user))
    for q in questions:
        env.step(A.AskUser(question=q))
    result = Scorer(task, World()).score([], [], env.questions)
    (check,) = result.checks
    return check.passed, check.detail


@pytest.mark.parametrize(
    ("spec", "questions", "passed"),
    [
        ("at_least: 1", [], False),
        ("at_least: 1", ["Which Jonas?"], True),
        ("at_most: 0", ["Which Jonas?"], False),  # never
        ("at_most: 0", [], True),
        ("at_least: 0, at_most: 2", ["a?", "b?", "c?"], False),
        ("at_least: 0, at_most: 2", ["a?", "b?"], True),
        ("about: [jonas]", ["Which dentist?"], False),  # asked, but not about Jonas
        ("about: [jonas]", ["Which dentist?", "Which JONAS?"], True),
        ("about: [jonas], at_most: 1", ["Jonas W?", "Jonas B?"], False),
    ],
)
def test_asked_user_near_misses(tmp_path, spec, questions, passed):
    ok, detail = _verdict(tmp_path, spec, questions)
    assert ok is passed, detail
    assert "asked the user" in detail


def test_asked_user_default_reads_at_least_once(tmp_path):
    ok, detail = _verdict(tmp_path, "weight: 1", [])
    assert not ok and "at least 1 wanted" in detail


def test_user_section_loads_with_its_answers(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "task.yaml").write_text(
        TASK.format(spec="at_least: 1"),
        encoding="utf-8",
    )
    (folder / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    task = load_task(folder).task
    assert task.user.scripted("so which Jonas?") == "Weber"
    assert task.user.default == DEFAULT_REPLY
