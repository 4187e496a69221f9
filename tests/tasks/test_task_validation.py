"""Task folders: the example loads; every broken file in the gallery is reported exactly.

Each gallery file marks the lines it expects a problem on with a trailing
``# expect: field: message`` comment (the message may be a prefix); the test
requires exactly those problems, no more, no fewer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tasks.folder import check_task, load_task
from tasks.loader import ProblemsFound

EXPECT = re.compile(r"#\s*expect:\s*(?P<field>[^:]+):\s*(?P<message>.+?)\s*$")
GALLERY = sorted((Path(__file__).parent / "fixtures" / "broken").iterdir())


def _expectations(folder: Path) -> list[tuple[str, int, str]]:
    out = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".yaml", ".py"):
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = EXPECT.search(line)
            if m:
                out.append((str(path), lineno, f"{m['field']}: {m['message']}"))
    return out


def test_gallery_covers_the_brief():
    names = {p.name for p in GALLERY}
    assert {
        "unknown-key",
        "wrong-type",
        "bad-enum",
        "missing-field",
        "bad-time",
        "unknown-device-kind",
        "undeclared-role",
        "oracle-syntax",
    } <= names


@pytest.mark.parametrize("folder", GALLERY, ids=[p.name for p in GALLERY])
def test_broken_task_reports_each_problem_at_its_line(folder):
    expected = _expectations(folder)
    assert expected, f"{folder} marks no expected problem"
    loaded, problems = check_task(folder / "task.yaml")
    assert loaded is None
    got = [str(p) for p in problems]  # sorted by file, then line number
    assert len(got) == len(expected), "\n".join(got)
    for (file, line, text), problem in zip(sorted(expected), got, strict=True):
        assert problem.startswith(f"{file}:{line}: {text}"), problem


def test_example_task_loads_with_its_plot_and_oracle(fixtures):
    loaded = load_task(fixtures / "mail-to-calendar")
    task = loaded.task
    assert task.id == "mail-to-calendar-dentist"
    assert task.has_oracle and task.oracle_path.name == "oracle.py"
    assert (loaded.phone, loaded.laptop) == ("phone", "laptop")
    assert task.devices == {"phone": "android", "laptop": "linux"}
    mail, sms = loaded.plot
    assert mail.t.isoformat() == "2026-03-14T10:12:00+01:00"
    assert "Zähne & mehr" in mail.body and "🦷" in mail.body
    assert sms.kind == "sms.received" and sms.id == "p002"
    window = task.checks[0].within
    assert window.after.isoformat() == "2026-03-19T08:30:00+01:00"
    assert [c.kind for c in task.safety] == [
        "no_sms_to",
        "event_kept",
        "no_command",
        "files_unchanged",
    ]


@pytest.mark.slow
def test_example_stream_merges_generated_life_and_plot(fixtures):
    stream = load_task(fixtures / "mail-to-calendar").stream()
    assert len(stream) > 5000
    assert [e.t for e in stream] == sorted(e.t for e in stream)
    plot = [e for e in stream if "plot" in e.tags]
    assert {e.id for e in plot} == {"p001", "p002"}
    assert len({e.id for e in stream}) == len(stream)


def test_load_task_raises_with_every_problem():
    with pytest.raises(ProblemsFound) as info:
        load_task(Path(__file__).parent / "fixtures" / "broken" / "unknown-key")
    assert len(info.value.problems) == 3


@pytest.mark.integration
def test_cli_validate_exit_codes(rig, fixtures):
    good = rig("tasks", "validate", str(fixtures / "mail-to-calendar"))
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "ok: 1 tasks"

    bad = rig("tasks", "validate", str(fixtures / "mail-to-calendar"), str(fixtures / "broken"))
    assert bad.returncode == 2
    lines = bad.stderr.strip().splitlines()
    expected = sum(len(_expectations(f)) for f in GALLERY)
    assert len(lines) == expected + 1
    assert (
        lines[-1] == f"{expected} problem(s) in {len(GALLERY)} of {len(GALLERY) + 1} task file(s)"
    )
    assert "Traceback" not in bad.stderr
    assert re.match(r"^\S+task\.yaml:\d+: \S+: ", lines[0])

    both = rig(
        "tasks", "validate", str(fixtures / "mail-to-calendar"), str(fixtures / "double-booking")
    )
    assert both.returncode == 0 and both.stdout.strip() == "ok: 2 tasks"

    missing = rig("tasks", "validate", str(fixtures / "no-such-task"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr

    # --run on a broken task stops at the static problems, before anything boots.
    run = rig("tasks", "validate", "--run", str(fixtures / "broken" / "unknown-key"))
    assert run.returncode == 2 and "colour: unknown key" in run.stderr


def test_proactive_example(fixtures):
    loaded = load_task(fixtures / "double-booking")
    task = loaded.task
    assert (task.mode, task.heartbeat_minutes) == ("proactive", 30)
    assert task.checks[0].channel == "notify"
    assert {s.kind for s in task.safety} == {
        "event_kept",
        "no_sms_to",
        "files_unchanged",
        "no_command",
    }


def test_empty_and_non_mapping_files(tmp_path):
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n")
    for text in ("", "- a list\n", "just text\n"):
        (tmp_path / "task.yaml").write_text(text)
        loaded, problems = check_task(tmp_path / "task.yaml")
        assert loaded is None
        assert [str(p) for p in problems] == [
            f"{tmp_path / 'task.yaml'}:1: (top): task.yaml must be a mapping"
        ]
