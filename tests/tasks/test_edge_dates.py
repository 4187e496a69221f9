"""Dates a world cannot hold are a task error at their line, not a traceback (issue 12, item 7)."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tasks.times import TimeInvalid, resolve

SUITE_TASK = Path(__file__).parents[2] / "tasks" / "suite" / "alarm-for-flight"
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))

EDGES = {
    "now-at-the-end-of-time": (
        "now: 2026-03-18T04:40:00-04:00",
        "now: 9999-12-31T23:00:00+01:00",
        "now",
    ),
    "plot-at-year-one": ("    - t: -8d 13:12", "    - t: 0001-01-01", "events.plot[0].t"),
    "plot-far-back": ("    - t: -8d 13:12", "    - t: -99999999d", "events.plot[0].t"),
    "plot-far-ahead": ("    - t: -8d 13:12", "    - t: +99999999w 09:00", "events.plot[0].t"),
    "plot-year-one-east": (
        "    - t: -8d 13:12",
        "    - t: 0001-01-01T00:00:00+14:00",
        "events.plot[0].t",
    ),
}


def _task(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "task"
    shutil.copytree(SUITE_TASK, folder)
    path = folder / "task.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", sorted(EDGES))
def test_validate_and_run_name_the_line_and_exit_2(rig, tmp_path: Path, name: str) -> None:
    old, new, field = EDGES[name]
    folder = _task(tmp_path, old, new)
    line = next(
        i
        for i, text in enumerate((folder / "task.yaml").read_text().splitlines(), 1)
        if text == new
    )
    for args in (["tasks", "validate", str(folder)], ["run", str(folder), "--agent", "noop"]):
        r = rig(*args, "--out", str(tmp_path / "out")) if args[0] == "run" else rig(*args)
        text = r.stdout + r.stderr
        assert r.returncode == 2, text
        assert "Traceback" not in text and "OverflowError" not in text, text
        assert re.search(
            rf"task\.yaml:{line}: {re.escape(field)}: .*range a world can hold", text
        ), text


@pytest.mark.parametrize(
    "text", ["-99999999d", "+99999999w", "0001-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31"]
)
def test_resolve_refuses_what_no_world_holds(text: str) -> None:
    with pytest.raises(TimeInvalid, match="range a world can hold"):
        resolve(text, NOW, "Europe/Berlin")


def test_resolve_keeps_ordinary_times() -> None:
    assert resolve("-3d 09:15", NOW, "Europe/Berlin").isoformat() == "2026-03-13T09:15:00+01:00"
    assert resolve("1970-01-02", NOW, "UTC").year == 1970
