"""Persona files: bundled ones load, broken ones are reported by line."""

from __future__ import annotations

import pytest

from tasks.loader import ProblemsFound
from tasks.persona import BUILTIN, load_persona

MAYA = (BUILTIN / "maya.yaml").read_text(encoding="utf-8")


def _broken(tmp_path, old: str, new: str):
    assert old in MAYA
    path = tmp_path / "p.yaml"
    path.write_text(MAYA.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProblemsFound) as info:
        load_persona(path)
    return path, [str(p) for p in info.value.problems]


def _line(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("name", ["maya", "ravi", "aiko"])
def test_bundled_personas_load(name):
    persona = load_persona(BUILTIN / f"{name}.yaml")
    assert persona.colleagues and persona.projects


def test_bad_clock_time(tmp_path):
    path, problems = _broken(tmp_path, 'wake: "06:40"', 'wake: "6:99"')
    assert problems == [
        f"{path}:{_line(MAYA, 'wake:')}: routines.wake: '6:99' is not a clock time (00:00-23:59)"
    ]


def test_unknown_key_and_bad_timezone(tmp_path):
    path, problems = _broken(
        tmp_path, "timezone: Europe/Berlin", "timezone: Europe/Berlinn\nhobby: x"
    )
    line = _line(MAYA, "timezone:")
    assert f"{path}:{line}: timezone: unknown IANA timezone 'Europe/Berlinn'" in problems
    assert f"{path}:{line + 1}: hobby: unknown key" in problems


def test_wrong_weekday_names_the_item(tmp_path):
    path, problems = _broken(tmp_path, "days: [tu, sa]", "days: [tu, saturday]")
    line = _line(MAYA, "days: [tu, sa]")
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:{line}: habits[0].days[1]: 'saturday' is not allowed")


def test_meeting_with_a_stranger(tmp_path):
    path, problems = _broken(tmp_path, "with: [Tobias Wendt]}", "with: [Tobias Wendtt]}")
    line = _line(MAYA, "with: [Tobias Wendt]}")
    assert problems == [
        f"{path}:{line}: meetings[2].with[0]: 'Tobias Wendtt' is not among the colleagues"
    ]


def test_same_person_twice(tmp_path):
    path, problems = _broken(
        tmp_path, "{name: Clara Hoffmann,", "{name: Priya Raman, relation: friend,"
    )
    line = _line(MAYA, "{name: Clara Hoffmann,")
    assert problems == [
        f"{path}:{line}: friends[0].name: 'Priya Raman' is already listed under colleagues"
    ]


def test_yaml_syntax_error_is_located(tmp_path):
    path, problems = _broken(tmp_path, "city: Berlin", "city: [Berlin")
    assert problems[0].startswith(f"{path}:")
    assert ": yaml: " in problems[0]
