"""``rig tasks new/list/show``: the scaffold validates as written and with every commented
example switched on; the list and the show read real task folders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tasks.authoring import parse_devices, scaffold, write_scaffold
from tasks.folder import check_task

SUITE = Path(__file__).parents[2] / "tasks" / "suite"
COMBOS = [
    ("phone,laptop", ["mail", "calendar"]),
    ("phone", []),
    ("laptop", ["contacts"]),
    ("phone:android,work:linux,home:linux", []),
]


@pytest.mark.parametrize(("devices", "services"), COMBOS)
def test_scaffold_validates_as_written_and_with_every_example_on(tmp_path, devices, services):
    folder = tmp_path / "new-task"
    write_scaffold(folder, parse_devices(devices), services)
    loaded, problems = check_task(folder / "task.yaml")
    assert problems == [] and loaded is not None
    assert loaded.task.id == "new-task"
    # Each commented example is valid too once its "# " is removed.
    text = (folder / "task.yaml").read_text(encoding="utf-8")
    on = re.sub(r"(?m)^(\s+)# ", r"\1", text)
    assert on != text
    (folder / "files").mkdir()
    (folder / "files" / "invoice.pdf").write_bytes(b"%PDF-1.4\n")
    (folder / "task.yaml").write_text(on, encoding="utf-8")
    loaded, problems = check_task(folder / "task.yaml")
    assert problems == [], "\n".join(map(str, problems))
    assert len(loaded.task.checks) > 1


def test_the_oracle_stub_parses_but_acts_on_nothing():
    _, oracle = scaffold("x", {"phone": "android"}, [])
    namespace: dict = {}
    exec(compile(oracle, "oracle.py", "exec"), namespace)
    calls = []

    class Env:
        def __getattr__(self, name):
            calls.append(name)
            return lambda *a, **k: None

    assert namespace["solve"](Env()) is None and calls == []


def test_bad_scaffold_requests_are_refused(tmp_path):
    for bad in ("", "phone,phone", "Tablet", "watch"):
        with pytest.raises(ValueError):
            parse_devices(bad)
    with pytest.raises(ValueError, match="unknown service"):
        scaffold("x", {"phone": "android"}, ["bank"])
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "task.yaml").write_text("x")
    with pytest.raises(FileExistsError):
        write_scaffold(tmp_path / "taken", {"phone": "android"}, [])
    with pytest.raises(ValueError, match="task id"):
        write_scaffold(tmp_path / "Bad Name", {"phone": "android"}, [])


def test_cli_new_list_show(rig, tmp_path):
    made = rig("tasks", "new", str(tmp_path / "fresh"), "--devices", "phone,laptop")
    assert made.returncode == 0, made.stderr
    assert rig("tasks", "validate", str(tmp_path / "fresh")).stdout.strip() == "ok: 1 tasks"
    again = rig("tasks", "new", str(tmp_path / "fresh"))
    assert again.returncode == 2 and "not empty" in again.stderr
    listed = rig("tasks", "list", str(SUITE), str(tmp_path / "fresh"))
    assert listed.returncode == 0, listed.stderr
    ids = sorted(p.parent.name for p in SUITE.rglob("task.yaml"))
    for task_id in [*ids, "fresh"]:
        assert re.search(rf"(?m)^{re.escape(task_id)}\s+(reactive|proactive)\s", listed.stdout)
    assert re.search(
        r"(?m)^fresh\s+reactive\s+gui,cli,cross-device\s+phone:android,laptop:linux"
        r"\s+-\s+40$",
        listed.stdout,
    )
    shown = rig("tasks", "show", str(SUITE / "text-lena-keybox-code"))
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "My sister Lena forgot the code" in out
    assert re.search(r"(?m)^  phone: \d+ events: .*sms\.received \d+", out)
    assert re.search(r"(?m)^  laptop: \d+ events: .*note\.edited \d+", out)
    assert "[code-to-lena] (weight 3) provider_rows" in out
    assert "no_sms_to" in out
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "task.yaml").write_text("id: bad\n")
    assert rig("tasks", "show", str(bad)).returncode == 2
    broken = rig("tasks", "list", str(tmp_path))
    assert broken.returncode == 2 and "invalid (" in broken.stdout
