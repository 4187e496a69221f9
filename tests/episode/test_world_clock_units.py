"""The world clock's anchor file and the task's clock: section, without devices."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from rig.services.audit import WorldClock, write_clock
from rig.world import World
from rig.world_clock import WorldTime, keep_interval
from tasks.folder import check_task

NOW = datetime.fromisoformat("2026-03-16T09:00:00+01:00")


def test_without_anchor_the_service_clock_runs_from_its_start(tmp_path):
    clock = WorldClock(NOW, tmp_path / "clock.json")  # not written yet: as before
    time.sleep(0.05)
    assert NOW < clock.now() < NOW + timedelta(seconds=5)


def test_frozen_anchor_stands_and_a_new_anchor_is_read(tmp_path):
    path = tmp_path / "clock.json"
    clock = WorldClock(NOW, path)
    write_clock(path, NOW + timedelta(hours=2), frozen=True)
    first = clock.now()
    time.sleep(0.05)
    assert clock.now() == first == NOW + timedelta(hours=2)
    time.sleep(0.01)  # a later mtime
    write_clock(path, NOW + timedelta(hours=3), frozen=True)
    assert clock.now() == NOW + timedelta(hours=3)


def test_running_anchor_runs_at_its_speed(tmp_path):
    path = tmp_path / "clock.json"
    host = time.time() - 10
    write_clock(path, NOW, frozen=False, speed=1.0, host=host)
    ahead = (WorldClock(NOW, path).now() - NOW).total_seconds()
    assert 10 <= ahead < 11


@pytest.mark.parametrize(
    ("clock", "message"),
    [
        ("{mode: stepped, speed: 2}", "clock: speed applies to the running clock, not stepped"),
        ("{mode: running, speed: 0}", "clock.speed: must be a positive number"),
        ("{mode: running, speed: -2}", "clock.speed: must be a positive number"),
        ("{mode: running, speed: .nan}", "clock.speed: must be a positive number"),
        ("{mode: running, speed: fast}", "clock.speed: must be a number of world seconds"),
        ("{mode: running, speed: true}", "clock.speed: must be a number of world seconds"),
        ("{mode: running, speed: 7200}", "clock.speed: 7200 is too fast: at most 3600"),
        ("{mode: running, speed: .inf}", "clock.speed: inf is too fast: at most 3600"),
        ("{mode: warp}", "clock.mode: 'warp' is not allowed"),
    ],
)
def test_bad_clock_section_names_file_line_and_field(tmp_path: Path, clock, message):
    (tmp_path / "task.yaml").write_text(
        "id: c\ntitle: C\nmode: reactive\nsurfaces: [gui]\ninstruction: Look.\n"
        "now: 2026-03-16T09:00:00+01:00\ntimezone: Europe/Berlin\n"
        f"devices: {{phone: android}}\nclock: {clock}\n"
        "checks:\n  - {kind: message, keywords: [x]}\n",
        encoding="utf-8",
    )
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    loaded, problems = check_task(tmp_path / "task.yaml")
    assert loaded is None
    assert len(problems) == 1, problems
    assert str(problems[0]).startswith(f"{tmp_path / 'task.yaml'}:9: {message}")


def test_the_service_clock_runs_at_the_anchors_speed(tmp_path):
    """The services' WorldClock takes its speed from the anchor file the controller writes."""
    path = tmp_path / "clock.json"
    write_clock(path, NOW, frozen=False, speed=60.0, host=time.time() - 2)
    ahead = (WorldClock(NOW, path).now() - NOW).total_seconds()
    assert 120 <= ahead < 180  # 2 s of host time at x60, and at most a second more


def _running(speed: float) -> WorldTime:
    clock = WorldTime(World(now=NOW, timezone="Europe/Berlin"), "running", speed)
    clock.start()  # no devices: the anchor alone
    return clock


def test_world_time_at_a_speed_and_when_the_host_gets_there():
    clock = _running(60.0)
    host0 = clock.host_time(NOW)
    assert host0 is not None
    assert clock.at(host0 + 2.0) == NOW + timedelta(minutes=2)
    # A live event due at +2h arrives two minutes of host time after the start.
    assert clock.host_time(NOW + timedelta(hours=2)) == pytest.approx(host0 + 120.0)
    slow = _running(0.5)
    assert slow.at(slow.host_time(NOW) + 10.0) == NOW + timedelta(seconds=5)
    clock.close()
    slow.close()


def test_the_keeper_trims_as_often_as_a_lag_of_a_second_needs_within_bounds():
    assert keep_interval(1.0) is None  # a kernel clock keeps real time by itself
    assert keep_interval(2.0) == 1.0  # lags 1 s between trims
    assert keep_interval(60.0) == 0.25  # the floor: lags 14.75 s between trims
    assert keep_interval(1.1) == 5.0  # the ceiling
    assert keep_interval(0.5) == 2.0  # slower than real time: a VM runs ahead 1 s


def test_a_running_clock_at_a_speed_is_a_valid_task(tmp_path: Path):
    (tmp_path / "task.yaml").write_text(
        "id: c\ntitle: C\nmode: reactive\nsurfaces: [gui]\ninstruction: Look.\n"
        "now: 2026-03-16T09:00:00+01:00\ntimezone: Europe/Berlin\n"
        "devices: {phone: android}\nclock: {mode: running, speed: 60}\n"
        "checks:\n  - {kind: message, keywords: [x]}\n",
        encoding="utf-8",
    )
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    loaded, problems = check_task(tmp_path / "task.yaml")
    assert problems == [] and loaded is not None
    assert loaded.task.clock.speed == 60.0


def test_wait_on_a_fast_running_clock_waits_world_seconds():
    """`wait` counts world time: 60 s at speed 600 are a tenth of a second of real time,
    and the cap on real time (30 s) is 5 world hours."""
    from rig.live_events import wait

    clock = _running(600.0)
    before = clock.now()
    text = wait(clock, None, 60.0)
    assert text.startswith("waited 60s of world time (0.1s of real time at speed 600)"), text
    assert clock.now() - before >= timedelta(seconds=60)
    clock.close()


def test_live_events_at_a_speed_come_at_their_world_times(tmp_path, monkeypatch):
    """At x600 the delivery thread wakes for events due at +20m and +30m after 2 and 3 s of
    host time, and each lands at its own world time (the paths themselves are under test in
    test_live_events.py and, at x30, test_world_clock.py)."""
    from rig.live_events import LiveEvents

    sms = "  - {{t: '{t}', kind: sms.received, target: phone, address: '+49 170 1', body: hi}}\n"
    (tmp_path / "task.yaml").write_text(
        "id: c\ntitle: C\nmode: reactive\nsurfaces: [gui]\ninstruction: Look.\n"
        "now: 2026-03-16T09:00:00+01:00\ntimezone: Europe/Berlin\n"
        "devices: {phone: android}\nclock: {mode: running, speed: 600}\n"
        "live:\n" + sms.format(t="+20m") + sms.format(t="+30m") + "checks:\n"
        "  - {kind: message, keywords: [x]}\n",
        encoding="utf-8",
    )
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    loaded, problems = check_task(tmp_path / "task.yaml")
    assert problems == [] and loaded is not None
    clock = _running(loaded.task.clock.speed)
    live = LiveEvents(clock.world, loaded.live, clock, "Europe/Berlin")
    delivered: list[datetime] = []
    monkeypatch.setattr(
        "rig.live_events.deliver", lambda engine, e: delivered.append(clock.now()) or "ok"
    )
    assert clock.host_time(NOW + timedelta(minutes=20)) == pytest.approx(clock.host_time(NOW) + 2.0)
    live.start()
    try:
        deadline = time.monotonic() + 30  # a bound: they are due 2 and 3 s in
        while len(delivered) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        live.stop()
    due = [NOW + timedelta(minutes=20), NOW + timedelta(minutes=30)]
    # Never early; late by at most a second of host time (10 world minutes at x600).
    assert all(d <= at <= d + timedelta(minutes=10) for at, d in zip(delivered, due, strict=True))
    clock.close()
