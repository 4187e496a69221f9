import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.keys import keycode
from rig.actions import (
    Answer,
    Key,
    Shell,
    Tap,
    action_schema,
    parse_action,
)
from rig.errors import ActionInvalid


def test_round_trip_every_kind():
    samples = [
        {"action": "tap", "device": "phone", "x": 10, "y": 20},
        {"action": "tap", "device": "phone", "element": 3},
        {"action": "long_press", "device": "phone", "x": 1, "y": 2, "duration_ms": 900},
        {"action": "swipe", "device": "phone", "x1": 0, "y1": 1, "x2": 2, "y2": 3},
        {"action": "type", "device": "phone", "text": 'héllo "$x" `id` 你好 🎉'},
        {"action": "key", "device": "phone", "key": "back"},
        {"action": "launch", "device": "phone", "app": "com.android.contacts"},
        {"action": "screenshot", "device": "phone"},
        {"action": "ui_tree", "device": "phone"},
        {"action": "wait", "device": "phone", "seconds": 0.5},
        {"action": "shell", "device": "laptop", "command": "ls ~", "timeout": 5},
        {"action": "read_file", "device": "laptop", "path": "/home/user/a.txt"},
        {"action": "write_file", "device": "laptop", "path": "/tmp/x", "content": "y"},
        {"action": "answer", "text": "It is at 3pm."},
        {"action": "notify", "text": "You are double-booked on Tuesday."},
        {"action": "finish"},
    ]
    for data in samples:
        action = parse_action(data)
        dumped = json.loads(action.model_dump_json())
        assert parse_action(dumped) == action
        assert dumped["action"] == data["action"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "fly", "device": "phone"}, "does not match any of the expected tags"),
        ({"action": "tap", "device": "phone"}, "give x and y, or element"),
        ({"action": "tap", "device": "phone", "x": 1, "y": 2, "element": 4}, "not both"),
        ({"action": "tap", "device": "phone", "x": -1, "y": 2}, "x: Input should be greater"),
        (
            {"action": "tap", "device": "phone", "x": True, "y": False},
            "x: Input should be a valid number, not a boolean",
        ),
        ({"action": "swipe", "device": "phone", "x1": 0, "y1": 0, "x2": True, "y2": 1}, "x2:"),
        ({"action": "tap", "device": "phone", "element": True}, "element: Input should be"),
        ({"action": "long_press", "device": "phone", "x": 1, "y": 1, "duration_ms": True}, "dur"),
        ({"action": "key", "device": "phone", "key": "hyperspace"}, "unknown key 'hyperspace'"),
        ({"action": "shell", "device": "laptop", "command": "x" * 9000}, "command: String should"),
        ({"action": "wait", "device": "phone", "seconds": 90_000}, "seconds: Input should be less"),
        ({"action": "wait", "seconds": 0}, "seconds: Input should be greater"),
        ({"action": "shell", "command": "ls"}, "device: Field required"),
        ({"action": "answer", "text": "x", "device": "phone"}, "device: Extra inputs"),
    ],
)
def test_invalid_actions_say_what_is_wrong(data, message):
    with pytest.raises(ActionInvalid, match="invalid action") as info:
        parse_action(data)
    assert message in str(info.value)


def test_bad_json_text():
    with pytest.raises(ActionInvalid, match="not valid JSON"):
        parse_action("{tap")


def test_keys_are_case_insensitive_names():
    assert Key(device="phone", key="HOME").key == "HOME"
    assert keycode("home") == 3 and keycode("recents") == 187 and keycode("delete") == 67


def test_schema_export_names_every_action():
    schema = json.dumps(action_schema())
    for name in (
        "tap",
        "long_press",
        "swipe",
        "type",
        "key",
        "launch",
        "screenshot",
        "ui_tree",
        "wait",
        "shell",
        "read_file",
        "write_file",
        "answer",
        "notify",
        "finish",
    ):
        assert f'"{name}"' in schema


@given(st.text())
def test_any_text_survives_json(text):
    if not text:
        return
    a = Answer(text=text)
    assert parse_action(a.model_dump_json()).text == text
    assert Shell(device="d", command=text).command == text
    assert Tap(device="p", element=0).element == 0


def test_every_key_an_agent_may_name_is_one_the_device_presses():
    from rig.actions import KEY_NAMES

    for name in KEY_NAMES:
        assert keycode(name) is not None
        Key(device="phone", key=name)  # accepted by the schema too
    for alias in ("delete", "backspace", "forward_delete", "dpad_up", "up", "recents"):
        assert alias in KEY_NAMES
