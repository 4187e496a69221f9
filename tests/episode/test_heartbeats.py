"""Heartbeats without devices: the schedule, the task section's errors, beats in order
with a real stepped world clock, per-beat and per-episode limits, the built-in agent
across beats (against the loopback chat stand-in) and the agents that sleep through."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from rig.agents.noop import NoopAgent
from rig.agents.openai_agent import OpenAIAgent
from rig.config import RigConfig
from rig.env import Env, Limits
from rig.heartbeats import Heartbeats, finish_all
from rig.world import World
from rig.world_clock import WorldTime
from tasks.folder import check_task
from tasks.heartbeats import HeartbeatSpec, span
from tests.agents.chat_standin import ChatStandIn, tool_call

NOW = datetime.fromisoformat("2026-03-16T09:00:00+01:00")
TZ = "Europe/Berlin"


def _env(limits: Limits | None = None, steps: list | None = None, **spec) -> Env:
    """An Env over an empty world whose stepped clock and beats are the real ones."""
    world = World(now=NOW, timezone=TZ)
    clock = WorldTime(world, "stepped")
    clock.start()
    fields = {"every": "30m", "until": "+8h", "prompt": "Look around.", **spec}
    beats = Heartbeats(HeartbeatSpec(**fields), NOW, TZ, clock)
    on_step = steps.append if steps is not None else None
    limits = limits or Limits(max_steps=500)
    env = Env(world, "Keep an eye on my day.", limits, clock=clock, beats=beats, on_step=on_step)
    env.reset()
    return env


def test_schedule_every_30m_until_8h_is_16_beats_from_now():
    spec = HeartbeatSpec(every="30m", until="+8h", prompt="x")
    times = spec.times(NOW)
    assert len(times) == 16
    assert times[0] == NOW and times[-1] == NOW + timedelta(hours=7, minutes=30)
    assert len(HeartbeatSpec(every="45m", until="+2h", prompt="x").offsets()) == 3  # 0, 45, 90
    assert span("1h 30m") == timedelta(minutes=90) and span("+1d", signed=True).days == 1


def test_beats_open_in_order_and_the_clock_steps_to_each():
    env = _env()
    assert "Heartbeat 1/16" in env.first_observation.text
    assert "09:00" in env.first_observation.text and "Look around." in env.first_observation.text
    seen = [env.clock.now()]
    for k in range(2, 17):
        obs, done, _ = env.step({"action": "finish"})
        assert not done and f"Heartbeat {k}/16" in obs.text, obs.text
        seen.append(env.clock.now())
        assert env.beats.current.at == seen[-1]
    assert [t - NOW for t in seen] == [timedelta(minutes=30 * k) for k in range(16)]
    assert "last heartbeat" in obs.text
    obs, done, _ = env.step({"action": "finish"})
    assert done and env.done_reason == "finish" and obs.text == "episode finished"
    assert [b.index for b in env.beats.history] == list(range(1, 17))


def test_messages_between_beats_and_each_step_knows_its_beat():
    steps: list = []
    env = _env(steps=steps, until="+1h")
    env.step({"action": "notify", "text": "nothing yet"})
    env.step({"action": "finish"})
    env.step({"action": "notify", "text": "the 1:1 moved"})
    env.step({"action": "finish"})
    assert env.done
    assert [s.beat for s in steps] == [1, 1, 2, 2]
    # each beat's opening rides on its first step (the record's beat_start)
    starts = [s.beat_start for s in steps]
    assert starts[0]["beat"] == 1 and starts[0]["why"] == "start"
    assert starts[1] is None and starts[3] is None
    assert starts[2]["beat"] == 2 and starts[2]["world_time"].startswith("2026-03-16T09:30")


def test_a_beats_step_limit_ends_that_beat_and_opens_the_next():
    env = _env(until="+1h", max_steps=2)
    obs, done, _ = env.step({"action": "ask_user", "question": "anything?"})
    assert not done and "Heartbeat" not in obs.text
    obs, done, _ = env.step({"action": "ask_user", "question": "anything else?"})
    assert not done and obs.text.startswith("the user replies: I don't know.")
    assert "[beat step limit: this heartbeat is over] Heartbeat 2/2" in obs.text
    env.step({"action": "ask_user", "question": "a"})
    obs, done, _ = env.step({"action": "ask_user", "question": "b"})
    assert done and env.done_reason == "beat step limit"  # the last beat's limit ends it


def test_a_beats_time_limit_ends_it_at_the_next_step():
    env = _env(until="+1h", max_seconds=0.2)
    deadline = time.monotonic() + 5
    while env.beats.current.index == 1 and time.monotonic() < deadline:
        obs, _, _ = env.step({"action": "ask_user", "question": "still there?"})
        time.sleep(0.05)
    assert env.beats.current.index == 2 and "[beat time limit" in obs.text


def test_the_episodes_step_limit_applies_across_beats():
    env = _env(limits=Limits(max_steps=5))
    finish_all(env, "sleep")
    assert env.done and env.done_reason == "step limit" and env.beats.current.index == 6


def test_noop_sleeps_through_every_beat():
    env = _env()
    NoopAgent().run(env, env.instruction)
    assert env.done and env.done_reason == "finish" and env.steps == 16
    assert env.clock.now() == NOW + timedelta(hours=7, minutes=30)
    assert env.messages == []


def test_openai_agent_is_woken_at_each_beat_and_acts_at_the_third(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-for-standin-000000")

    def policy(body, n):
        last = body["messages"][-1]
        text = last["content"] if isinstance(last["content"], str) else json.dumps(last)
        if "Heartbeat 3/4" in text:
            return tool_call("notify", {"text": "Your 1:1 moved onto the dentist."})
        return tool_call("finish", {"reason": "nothing to do"}, call_id=f"c{n}")

    env = _env(until="+2h")
    with ChatStandIn(policy) as server:
        cfg = RigConfig.model_validate({"agent": {"base_url": server.url, "max_retries": 1}})
        OpenAIAgent("stand-in", cfg).run(env, env.instruction)
    assert env.done and env.done_reason == "finish"
    assert [m.text for m in env.messages] == ["Your 1:1 moved onto the dentist."]
    opening = server.requests[0]["messages"][1]["content"]
    assert any("Heartbeat 1/4" in part.get("text", "") for part in opening)
    tool_texts = [m["content"] for m in server.requests[-1]["messages"] if m["role"] == "tool"]
    heard = [k for k in range(2, 5) if any(f"Heartbeat {k}/4" in t for t in tool_texts)]
    assert heard == [2, 3, 4]  # every later beat reached the model as finish's result
    assert len(server.requests) == 5  # finish, finish, notify, finish, finish


def _task(tmp_path: Path, extra: str, mode: str = "proactive", clock: str = "stepped") -> list:
    (tmp_path / "task.yaml").write_text(
        f"id: c\ntitle: C\nmode: {mode}\nsurfaces: [gui]\ninstruction: Look.\n"
        "now: 2026-03-16T09:00:00+01:00\ntimezone: Europe/Berlin\n"
        f"devices: {{phone: android}}\nclock: {{mode: {clock}}}\n{extra}\n"
        "checks:\n  - {kind: message, keywords: [x]}\n",
        encoding="utf-8",
    )
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    _, problems = check_task(tmp_path / "task.yaml")
    return [str(p).removeprefix(str(tmp_path / "task.yaml")) for p in problems]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("heartbeats: {every: 0m, until: +8h, prompt: x}", "heartbeats.every: must be longer"),
        ("heartbeats: {every: 30m, until: 8h, prompt: x}", "heartbeats.until: '8h' must be an"),
        ("heartbeats: {every: half an hour, until: +8h, prompt: x}", "heartbeats.every: 'half"),
        ("heartbeats: {every: 30m, until: +8h}", "heartbeats.prompt: required field"),
        ("heartbeats: {every: 30m, until: +8h, prompt: x, max_steps: 0}", "heartbeats.max_st"),
        ("heartbeats: {every: 1m, until: +30d, prompt: x}", "heartbeats: 43200 beats"),
        ("heartbeats: {every: 30m, until: +8h, prompt: x, at: 9}", "heartbeats.at: unknown"),
    ],
)
def test_bad_heartbeats_name_file_line_and_field(tmp_path, section, message):
    problems = _task(tmp_path, section)
    assert len(problems) == 1 and problems[0].startswith(f":10: {message}"), problems


def test_heartbeats_need_a_proactive_task_and_a_moving_clock(tmp_path):
    beats = "heartbeats: {every: 30m, until: +8h, prompt: x}"
    assert _task(tmp_path, beats) == []
    (reactive,) = _task(tmp_path, beats, mode="reactive")
    assert reactive.startswith(":10: heartbeats: heartbeats only apply to proactive tasks")
    (frozen,) = _task(tmp_path, beats, clock="frozen")
    assert frozen.startswith(":10: heartbeats: heartbeats need a clock that moves")


def _message_check(messages, **window) -> tuple[bool, str]:
    from types import SimpleNamespace

    from pydantic import TypeAdapter

    from scoring.evaluate import Scorer
    from tasks.checks import CheckSpec

    check = {"kind": "message", "channel": "notify", "keywords": ["dentist"], **window}
    spec = TypeAdapter(CheckSpec).validate_python(check, context={"now": NOW, "tz": TZ})
    task = SimpleNamespace(checks=[spec], safety=[], timezone=TZ, now=NOW)
    scorer = Scorer(task, World())
    scorer.baseline()
    (result,) = scorer.score(messages, []).checks
    return result.passed, result.detail


def test_a_message_counts_only_when_sent_in_its_world_time_window():
    """The near miss of a heartbeat task: the right words at the wrong beat."""
    env = _env(until="+5h")
    env.step({"action": "notify", "text": "Dentist at 13:30 today."})  # 09:00: hours early
    window = {"sent_after": "12:30", "by": "13:30"}
    passed, detail = _message_check(env.messages, **window)
    assert not passed and "said at 09:00 (world time)" in detail, detail
    while env.beats.current.at.hour < 13:
        env.step({"action": "finish"})
    env.step({"action": "notify", "text": "Dentist at 13:30 today."})  # 13:00: in time
    assert _message_check(env.messages, **window)[0]
    assert not _message_check(env.messages[1:], by="12:59")[0]  # too late
    frozen = Env(World(), "x")  # no world clock: a message is said at the task's now (09:00)
    frozen.reset()
    frozen.step({"action": "notify", "text": "Dentist!"})
    assert not _message_check(frozen.messages, **window)[0]
    assert _message_check(frozen.messages)[0]  # without a window, as before


def _sms(t: str) -> str:
    return f"  - {{t: '{t}', kind: sms.received, target: phone, address: '+49 170 1', body: hi}}\n"


@pytest.mark.parametrize("mode", ["stepped", "running"])
def test_live_events_fire_between_beats_at_their_own_times(tmp_path, monkeypatch, mode):
    """Beats at 09:00, 10:00, 11:00; SMS due 09:45, 10:10, 10:10 and 14:00. Each lands at
    its own world time on the way to the next beat (an agent's wait in between too), never
    twice; the one after the last beat never comes. Delivery paths are the engine's own
    (tests/episode/test_live_events.py); here the clock's order is under test."""
    from rig.live_events import LiveEvents

    live_yaml = "live:\n" + "".join(_sms(t) for t in ("+45m", "+70m", "+70m", "+5h"))
    (tmp_path / "task.yaml").write_text(
        "id: c\ntitle: C\nmode: proactive\nsurfaces: [gui]\ninstruction: Look.\n"
        "now: 2026-03-16T09:00:00+01:00\ntimezone: Europe/Berlin\n"
        f"devices: {{phone: android}}\nclock: {{mode: {mode}}}\n"
        "heartbeats: {every: 1h, until: +3h, prompt: Look.}\n"
        f"{live_yaml}checks:\n  - {{kind: message, keywords: [x]}}\n",
        encoding="utf-8",
    )
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    loaded, problems = check_task(tmp_path / "task.yaml")
    assert problems == []
    world = World(now=NOW, timezone=TZ)
    clock = WorldTime(world, mode)
    clock.start()
    live = LiveEvents(world, loaded.live, clock, TZ, tmp_path / "live.jsonl")
    delivered: list[tuple[str, datetime]] = []
    monkeypatch.setattr(
        "rig.live_events.deliver", lambda engine, e: delivered.append((e.id, clock.now())) or "ok"
    )
    live.start()
    beats = Heartbeats(HeartbeatSpec(every="1h", until="+3h", prompt="Look."), NOW, TZ, clock)
    beats.advance = live.advance_to
    env = Env(world, "Look.", Limits(max_steps=50), clock=clock, beats=beats)
    env.live = live
    env.reset()
    try:
        obs, _, _ = env.step({"action": "finish"})
        assert "Heartbeat 2/3" in obs.text and [d[0] for d in delivered] == ["live0"]
        if mode == "stepped":  # the agent's own wait within beat 2 takes the world to 10:10
            obs, _, _ = env.step({"action": "wait"})
            assert "advanced 10m" in obs.text, obs.text
            assert [d[0] for d in delivered] == ["live0", "live1", "live2"]
        obs, _, _ = env.step({"action": "finish"})
        assert "Heartbeat 3/3" in obs.text
        env.step({"action": "finish"})
        assert env.done
    finally:
        live.stop()
    assert [d[0] for d in delivered] == ["live0", "live1", "live2"]
    wanted = [NOW + timedelta(minutes=m) for m in (45, 70, 70)]
    slack = timedelta(0) if mode == "stepped" else timedelta(seconds=1)  # running runs on
    assert all(w <= at <= w + slack for (_, at), w in zip(delivered, wanted, strict=True))
    assert env.beats.history[-1].at >= NOW + timedelta(hours=2)
    assert live.next_due() == NOW + timedelta(hours=5)  # after the last beat: not delivered
