"""The action interface on a real virtual phone: actions do what they say, bad ones are
error observations, and the episode goes on."""

from __future__ import annotations

import pytest

from emulator.adb import AdbServer
from emulator.backends import SimBackend
from rig.config import RigConfig
from rig.env import Env
from rig.world import World

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = AdbServer.private()
    backend = SimBackend(RigConfig().backend_config("android"), server=server)
    w = World()
    w.add(backend.acquire("phone", tmp_path_factory.mktemp("phone")), owner=backend)
    yield w
    w.close()
    server.kill()


def _text_of(env: Env, role: str, cls: str = "EditText") -> list[str]:
    return [e.text for e in env.elements(role) if e.cls == cls]


def test_type_then_delete_key_edits_the_field(world):
    env = Env(world, "edit a field")
    env.reset()
    obs, _, _ = env.step({"action": "launch", "device": "phone", "app": "contacts"})  # a role
    assert obs.ok and obs.screenshot_png
    assert world["phone"].current_app()[0] == "com.android.contacts"
    add = next(e for e in env.elements("phone") if e.desc == "Add contact")
    assert env.step({"action": "tap", "device": "phone", "element": add.id})[0].ok
    first = next(e for e in env.elements("phone") if e.text == "First name")
    assert env.step({"action": "tap", "device": "phone", "element": first.id})[0].ok
    assert env.step({"action": "type", "device": "phone", "text": "Adaa"})[0].ok
    assert "Adaa" in _text_of(env, "phone")
    obs, _, _ = env.step({"action": "key", "device": "phone", "key": "delete"})
    assert obs.ok, obs.error
    assert "Ada" in _text_of(env, "phone") and "Adaa" not in _text_of(env, "phone")
    env.step({"action": "key", "device": "phone", "key": "back"})


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ({"action": "tap", "device": "phone", "x": 5000, "y": 10}, "off the screen"),
        ({"action": "tap", "device": "phone", "element": 9999}, "not in the last UI tree"),
        ({"action": "shell", "device": "phone", "command": "ls"}, "not an action for 'phone'"),
        ({"action": "tap", "device": "tablet", "x": 1, "y": 1}, "no device with role 'tablet'"),
        ({"action": "key", "device": "phone", "key": "warp"}, "unknown key 'warp'"),
        (
            {"action": "launch", "device": "phone", "app": "weather"},
            "'weather' is neither a package name nor an app role; roles: messages, contacts",
        ),
        (
            {"action": "swipe", "device": "phone", "x1": 0, "y1": 0, "x2": 0, "y2": 9000},
            "off the screen",
        ),
    ],
)
def test_bad_actions_are_error_observations(world, action, message):
    env = Env(world, "misbehave")
    env.reset()
    env.step({"action": "ui_tree", "device": "phone"})
    obs, done, info = env.step(action)
    assert not obs.ok and message in obs.error
    assert not done and info["steps"] == 2
    assert env.step({"action": "screenshot", "device": "phone"})[0].ok  # the episode goes on


def test_step_limit_ends_the_episode(world):
    from rig.env import Limits

    env = Env(world, "wander", limits=Limits(max_steps=2))
    env.reset()
    assert env.step({"action": "screenshot", "device": "phone"})[1] is False
    obs, done, info = env.step({"action": "screenshot", "device": "phone"})
    assert done and info["done_reason"] == "step limit"
    obs, done, _ = env.step({"action": "screenshot", "device": "phone"})
    assert not obs.ok and "over" in obs.error
