"""Any sequence of touches, keys and text leaves the phone drawable and its dump valid."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.sim.contracts import PhoneContext
from emulator.sim.ui.system import UiSystem
from tests.sim_ui.test_apps import add_contact

X = st.integers(-100, 1180)
Y = st.integers(-100, 2500)
ACTION = st.one_of(
    st.tuples(st.just("tap"), X, Y),
    st.tuples(st.just("long"), X, Y),
    st.tuples(st.just("swipe"), X, Y, X, Y, st.sampled_from([40, 100, 300, 900])),
    st.tuples(st.just("text"), st.text(max_size=12)),
    st.tuples(st.just("key"), st.integers(-5, 300)),
    st.tuples(
        st.just("start"),
        st.sampled_from(
            [
                "com.android.contacts",
                "com.google.android.apps.messaging",
                "com.android.calendar",
                "com.android.deskclock",
                "net.gsantner.markor",
                "com.android.documentsui",
                "com.android.settings",
            ]
        ),
    ),
)


@pytest.fixture
def seeded(ctx: PhoneContext) -> PhoneContext:
    add_contact(ctx, "Ada", "+1 555 0100")
    ctx.providers.insert("content://sms/inbox", {"address": "+1 555 0100", "body": "hi", "read": 0})
    ctx.vfs.mkdir("/sdcard/Documents/Notes")
    ctx.vfs.write_bytes("/sdcard/Documents/Notes/n.md", b"# n\n")
    return ctx


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(actions=st.lists(ACTION, max_size=40))
def test_random_input_never_breaks_the_screen(
    seeded: PhoneContext, ui: UiSystem, actions: list[tuple], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    for act in actions:
        kind, *args = act
        if kind == "tap":
            ui.tap(*args)
        elif kind == "long":
            ui.long_press(*args, 800)
        elif kind == "swipe":
            ui.swipe(*args)
        elif kind == "text":
            ui.text(args[0])
        elif kind == "key":
            ui.keyevent(args[0])
        else:
            ui.start(args[0])
    ET.fromstring(ui.hierarchy_xml().encode("utf-8"))
    assert ui.screenshot().size == (1080, 2400)
    assert "crashed" not in caplog.text  # no app hit a bug on the way
