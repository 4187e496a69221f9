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
