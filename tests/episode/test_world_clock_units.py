"""The world clock's anchor file and the task's clock: section, without devices."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from rig.services.audit import WorldClock, write_clock
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
        ("{mode: running, speed: 60}", "clock: only speed 1 is supported yet"),
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
