"""A checkpoint's key, computed once per process for the same task, and never stale."""

from __future__ import annotations

import shutil
from pathlib import Path

from rig import checkpoint as ckpt
from rig.config import parse_config
from tasks.folder import LoadedTask, load_task

TASK = Path(__file__).resolve().parents[2] / "tasks" / "suite" / "delete-one-calendar-event"


def _counting(monkeypatch) -> list[int]:
    calls = [0]
    stream = LoadedTask.stream

    def counted(self, *args, **kwargs):
        calls[0] += 1
        return stream(self, *args, **kwargs)

    monkeypatch.setattr(LoadedTask, "stream", counted)
    return calls


def test_the_stream_is_compiled_once_per_task_and_an_edit_gives_another_key(tmp_path, monkeypatch):
    monkeypatch.setattr(ckpt, "_DERIVED", {})
    calls = _counting(monkeypatch)
    config = parse_config({"paths": {"cache": str(tmp_path / "cache")}})
    task = tmp_path / "task"
    shutil.copytree(TASK, task)
    trials = [load_task(task), load_task(task)]  # (loading reads the stream itself)
    calls[0] = 0
    first = ckpt.key_parts(trials[0], config)
    again = ckpt.key_parts(trials[1], config)
    assert first == again and calls[0] == 1  # the second trial's key: no new compile
    # The same files elsewhere: the same key (computed there once more).
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(TASK, elsewhere)
    moved = load_task(elsewhere)
    calls[0] = 0
    assert ckpt.key_of(ckpt.key_parts(moved, config)) == ckpt.key_of(first)
    assert calls[0] == 1
    # An edit of the task folder: another key, compiled anew.
    yaml = task / "task.yaml"
    yaml.write_text(yaml.read_text().replace("Keep the other ones.", "Keep the others."))
    edited_task = load_task(task)
    calls[0] = 0
    edited = ckpt.key_parts(edited_task, config)
    assert ckpt.key_of(edited) != ckpt.key_of(first) and calls[0] == 1
    assert edited["task_files"] != first["task_files"]


def test_what_was_loaded_from_outside_the_folder_is_in_the_cache_key(tmp_path, monkeypatch):
    """A persona edited between two trials (outside the task folder) is compiled again."""
    monkeypatch.setattr(ckpt, "_DERIVED", {})
    calls = _counting(monkeypatch)
    config = parse_config({"paths": {"cache": str(tmp_path / "cache")}})
    loaded = load_task(TASK)
    calls[0] = 0
    before = ckpt.key_parts(loaded, config)
    assert loaded.persona is not None
    loaded.persona = loaded.persona.model_copy(update={"name": loaded.persona.name + "a"})
    after = ckpt.key_parts(loaded, config)
    assert calls[0] == 2
    assert before["task_files"] == after["task_files"]
    assert after["stream"] != before["stream"] and ckpt.key_of(after) != ckpt.key_of(before)
    # The same content again is a hit.
    assert ckpt.key_parts(loaded, config) == after and calls[0] == 2
