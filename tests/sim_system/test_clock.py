from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from emulator.sim.clock import DEFAULT_INSTANT_MS, PhoneClock
from emulator.sim.contracts import Clock


def test_frozen_by_default(clock: PhoneClock) -> None:
    assert isinstance(clock, Clock)
    a = clock.now_ms()
    time.sleep(0.02)
    assert clock.now_ms() == a == DEFAULT_INSTANT_MS
    assert clock.now().tzinfo is not None


def test_set_persists_and_timezone_applies(tmp_path) -> None:
    path = tmp_path / "system.json"
    path.write_text(json.dumps({"props": {"x": "y"}}))
    c = PhoneClock(path)
    c.set_timezone("Asia/Tokyo")
    c.set(datetime(2025, 3, 4, 10, 30))  # naive: phone's local time
    again = PhoneClock(path)
    assert again.timezone == "Asia/Tokyo"
    assert again.now() == datetime(2025, 3, 4, 10, 30, tzinfo=again.tzinfo)
    assert again.now_ms() == int(datetime(2025, 3, 4, 1, 30, tzinfo=UTC).timestamp() * 1000)
    assert json.loads(path.read_text())["props"] == {"x": "y"}


def test_running_clock_moves(clock: PhoneClock) -> None:
    clock.set(datetime(2024, 1, 1, tzinfo=UTC), frozen=False)
    a = clock.now_ms()
    time.sleep(0.05)
    b = clock.now_ms()
    assert 40 <= b - a < 2000
    clock.set_running(False)
    c = clock.now_ms()
    time.sleep(0.02)
    assert clock.now_ms() == c


def test_advance(clock: PhoneClock) -> None:
    before = clock.now_ms()
    clock.advance(timedelta(hours=1))
    assert clock.now_ms() - before == 3_600_000


def test_bad_timezone_is_named(clock: PhoneClock) -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        clock.set_timezone("Mars/Olympus")
    assert clock.timezone == "UTC"


def test_concurrent_writers_of_system_json_keep_every_key(tmp_path) -> None:
    import threading

    from emulator.sim.clock import update_json

    path = tmp_path / "system.json"
    c = PhoneClock(path)

    def props() -> None:
        for i in range(200):
            update_json(path, "props", {"n": str(i)})

    t = threading.Thread(target=props)
    t.start()
    for i in range(200):
        c.set_ms(1_000_000 + i)
    t.join()
    data = json.loads(path.read_text())
    assert data["clock"]["instant_ms"] == 1_000_199
    assert data["props"] == {"n": "199"}


def test_running_clock_runs_at_its_speed_and_keeps_it(tmp_path) -> None:
    path = tmp_path / "system.json"
    clock = PhoneClock(path)
    clock.set_speed(60)
    clock.set(datetime(2024, 1, 1, tzinfo=UTC), frozen=False)
    host, a = time.time(), clock.now_ms()
    time.sleep(0.1)
    b, elapsed_ms = clock.now_ms(), (time.time() - host) * 1000
    assert b - a > 30 * elapsed_ms  # far more than the host's own time went by
    again = PhoneClock(path)  # a restart runs on at the same speed from the same anchor
    assert again.speed == 60 and again.now_ms() >= clock.now_ms() - 1
    clock.set_running(False)
    stood = clock.now_ms()
    time.sleep(0.02)
    assert clock.now_ms() == stood


def test_a_speed_change_runs_on_from_the_time_it_says(clock: PhoneClock) -> None:
    clock.set(datetime(2024, 1, 1, tzinfo=UTC), frozen=False)
    before = clock.now_ms()
    clock.set_speed(3600)
    after = clock.now_ms()
    assert 0 <= after - before < 3_600_000  # no jump back, no jump of its own
    for bad in (0, -1, 3601, float("nan")):
        with pytest.raises(ValueError, match="clock speed"):
            clock.set_speed(bad)
    assert clock.speed == 3600


def test_a_running_clock_saved_before_speeds_loads_at_speed_1(tmp_path) -> None:
    path = tmp_path / "system.json"
    offset = -86_400_000  # a day behind the host
    state = {"frozen": False, "instant_ms": 0, "offset_ms": offset, "timezone": "UTC"}
    path.write_text(json.dumps({"clock": state}))
    clock = PhoneClock(path)
    assert clock.speed == 1.0
    assert abs(clock.now_ms() - (time.time() * 1000 + offset)) < 1000
