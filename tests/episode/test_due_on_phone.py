"""Moving the world clock fires what is due on the virtual phone (issue 15, item 1).

Real parts: the virtual phone behind the real adb server, the task's plot seeded through
the rig's seeding, the clock moved only by the controller (stepped ``wait``, a running
clock). What rang is read as a user would see it: the shade pulled down, then the UI
dump; and ``adb logcat``.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest

from rig.api import TaskEnv

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TASK = """\
id: due-{mode}
title: Alarms and reminders fall due
mode: proactive
surfaces: [gui]
instruction: Look at the phone.
now: {now}
timezone: Europe/Berlin
devices: {{phone: android}}
events:
  persona: maya
  plot:
    - {{t: -1d 20:00, kind: alarm.set, target: phone, alarm_id: standup, hour: 9, minute: 10,
       label: "Stand-up 🧍", days: [mo, tu, we, th, fr]}}
    - {{t: -1d 20:00, kind: alarm.set, target: phone, alarm_id: tea, hour: 9, minute: 20,
       label: Tea}}
    - {{t: -1d 20:00, kind: alarm.set, target: phone, alarm_id: sunday, hour: 9, minute: 5,
       label: Sunday run, days: [su]}}
    - {{t: -1d 20:00, kind: calendar.created, target: phone, event_id: dentist,
       title: Zahnarzt Dr. Baumann, start: "+0d 10:00", end: "+0d 10:30", reminders: [30]}}
clock: {{mode: {mode}}}
checks:
  - {{kind: message, keywords: [dentist]}}
"""


def _task(tmp_path: Path, mode: str, now: str) -> Path:
    folder = tmp_path / f"due-{mode}"
    folder.mkdir()
    (folder / "task.yaml").write_text(TASK.format(mode=mode, now=now), encoding="utf-8")
    (folder / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    return folder


def _shade(env: TaskEnv) -> str:
    """Pull the shade down, read the screen, put it back (what an agent does)."""
    env.step({"action": "swipe", "device": "phone", "x1": 540, "y1": 5, "x2": 540, "y2": 1400})
    obs, _, _ = env.step({"action": "ui_tree", "device": "phone"})
    env.step({"action": "key", "device": "phone", "key": "back"})
    return obs.text


def _wait(env: TaskEnv, seconds: int) -> None:
    obs, _, _ = env.step({"action": "wait", "seconds": seconds})
    assert obs.ok, obs.error


def test_stepped_clock_rings_alarms_and_shows_reminders(tmp_path):
    with TaskEnv(
        _task(tmp_path, "stepped", "2026-03-16T09:00:00+01:00"), out=tmp_path / "r"
    ) as env:
        env.reset()  # a Monday
        shown = _shade(env)
        assert "Stand-up" not in shown and "Zahnarzt" not in shown

        _wait(env, 9 * 60 + 59)  # 09:09:59: a second early
        assert "Stand-up" not in _shade(env)
        _wait(env, 1)
        shown = _shade(env)
        assert "Stand-up 🧍" in shown and "Alarm · 09:10" in shown, shown
        assert "Tea" not in shown and "Sunday run" not in shown

        _wait(env, 20 * 60)  # 09:30: Tea rang, the 10:00 dentist reminds (30 min before)
        shown = _shade(env)
        assert "Tea" in shown and "Zahnarzt Dr. Baumann" in shown, shown
        assert "Sunday run" not in shown
        phone = env.episode.world["phone"]
        db = "/data/user_de/0/com.android.deskclock/databases/alarms.db"
        rows = phone.shell(f"sqlite3 {db} 'SELECT label, enabled FROM alarm_templates'").stdout
        assert "Tea|0" in rows and "Stand-up 🧍|1" in rows  # a one-time alarm is off after

        # A jump of a day rings the weekday alarm once more (Tuesday), not twice.
        _wait(env, 24 * 3600)
        shown = _shade(env)
        assert shown.count("desc='Clock notification: Stand-up 🧍: Alarm · 09:10'") == 2, shown


def test_running_clock_rings_without_anyone_looking(tmp_path):
    # 09:09:56 with a running clock: the 09:10 alarm falls due a few seconds in.
    with TaskEnv(
        _task(tmp_path, "running", "2026-03-16T09:09:56+01:00"), out=tmp_path / "r"
    ) as env:
        env.reset()
        phone = env.episode.world["phone"]
        deadline = time.monotonic() + 60
        log = ""
        while "Stand-up" not in log and time.monotonic() < deadline:
            time.sleep(0.5)  # no screen is read meanwhile: the phone's own tick fires it
            log = phone.shell("logcat -d | grep AlarmClock", timeout=10).stdout
        assert "alarm due: Stand-up 🧍 · Alarm · 09:10" in log, log
        assert " 09:10:0" in log  # stamped by the phone's clock as it rang
        assert "Stand-up 🧍" in _shade(env)

        # A running world jumps (as to a heartbeat): what it jumped over rings, and it runs on.
        clock = env.episode.env.clock
        clock.advance_to(datetime.fromisoformat("2026-03-16T09:45:00+01:00"))
        shown = _shade(env)
        assert "Tea" in shown and "Zahnarzt Dr. Baumann" in shown, shown
        first = float(phone.shell("date +%s.%N").stdout)
        deadline = time.monotonic() + 30
        while float(phone.shell("date +%s.%N").stdout) == first and time.monotonic() < deadline:
            time.sleep(0.2)
        assert float(phone.shell("date +%s.%N").stdout) > first  # still running


def test_a_fast_running_clock_rings_what_falls_due_in_order(tmp_path):
    """At speed 120 (a world minute in half a second: one tick of the phone) the alarm at
    +2 min, the one at +12 min and the reminder at +22 min all ring on the phone's own
    tick, in order, within seconds; then they are in the shade."""
    folder = _task(tmp_path, "running", "2026-03-16T09:08:00+01:00")
    text = (folder / "task.yaml").read_text(encoding="utf-8")
    text = text.replace("clock: {mode: running}", "clock: {mode: running, speed: 120}")
    (folder / "task.yaml").write_text(text, encoding="utf-8")
    with TaskEnv(folder, out=tmp_path / "r") as env:
        env.reset()
        phone = env.episode.world["phone"]
        deadline = time.monotonic() + 60  # a bound: 22 world minutes are 11 s at x120
        log = ""
        while "Zahnarzt" not in log and time.monotonic() < deadline:
            time.sleep(0.5)
            log = phone.shell("logcat -d | grep -E 'AlarmClock|CalendarAlerts'").stdout
        at = [log.find(s) for s in ("Stand-up", "Tea", "Zahnarzt Dr. Baumann")]
        assert -1 not in at and at == sorted(at), log
        assert "Sunday run" not in log  # a Monday
        shown = _shade(env)
        assert all(s in shown for s in ("Stand-up", "Tea", "Zahnarzt Dr. Baumann")), shown
