"""The scripted agents' verbs (rig/agents/kit.py) on a real virtual phone: each does what
a person would do through the action interface, and says so plainly when it cannot."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from emulator.adb import AdbServer
from emulator.backends import SimBackend
from rig.agents.kit import Actions, OracleStuck
from rig.config import RigConfig
from rig.env import Env
from rig.world import World

pytestmark = pytest.mark.integration
ALARMS = "/data/user_de/0/com.android.deskclock/databases/alarms.db"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = AdbServer.private()
    backend = SimBackend(RigConfig().backend_config("android"), server=server)
    w = World()
    w.add(backend.acquire("phone", tmp_path_factory.mktemp("phone")), owner=backend)
    yield w
    w.close()
    server.kill()


@pytest.fixture
def act(world):
    env = Env(world, "kit verbs")
    env.reset()
    return Actions(env)


def test_retype_replaces_a_fields_text_with_the_delete_key(act, world):
    act.launch("phone", "com.android.deskclock")
    act.tap_desc("phone", "Add alarm")
    default = next(t for t in act.screen_text("phone") if re.fullmatch(r"\d\d:00", t))
    act.retype("phone", default, "06:45")
    fields = [e.text for e in act.env.elements("phone") if e.cls == "EditText"]
    assert fields[0] == "06:45", fields  # the time field holds only what was typed
    act.tap_text("phone", "Label")
    act.type("phone", "kit test")
    act.tap_text("phone", "Save")
    act.see("phone", "06:45", "kit test")
    rows = world["phone"].shell(
        f"sqlite3 {ALARMS} \"SELECT hour, minutes FROM alarm_templates WHERE label='kit test'\""
    )
    assert rows.stdout.split() == ["6|45"]


def test_see_names_what_is_missing(act):
    act.launch("phone", "com.android.contacts")
    assert act.see("phone", "Add contact")
    with pytest.raises(OracleStuck, match=r"\['Nobody by this name'\] not on the screen"):
        act.see("phone", "Add contact", "Nobody by this name")


def test_tap_until_stops_at_the_day_and_gives_up_after_most(act, world):
    today = date.fromisoformat(world["phone"].shell("date +%Y-%m-%d").stdout.strip())
    day = today + timedelta(days=3)
    title = f"{day:%a}, {day:%b} {day.day}, {day.year}"
    act.launch("phone", "com.android.calendar")
    act.tap_text("phone", "Day")
    assert title in act.tap_until("phone", "Next day", shown=title)
    with pytest.raises(OracleStuck, match="after 2 taps on 'Next day'"):
        act.tap_until("phone", "Next day", shown="Mon, Jan 1, 1990", most=2)
