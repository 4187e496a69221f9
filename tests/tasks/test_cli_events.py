"""``rig events`` through a real subprocess: outputs, determinism, exit codes."""

from __future__ import annotations

import json

import pytest


@pytest.mark.integration
def test_generate_then_stats(rig, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    args = ["events", "generate", "--persona", "aiko", "--days", "20", "--seed", "9"]
    first = rig(*args, "--out", str(a))
    assert first.returncode == 0, first.stderr
    assert "events" in first.stdout and "words" in first.stdout
    again = rig(*args, "--out", str(b))
    assert again.returncode == 0
    assert a.read_bytes() == b.read_bytes()

    out = rig("events", "stats", str(a), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["events"] == len(a.read_bytes().splitlines())
    assert data["by_target"].keys() == {"phone", "laptop", "service:shop", "service:parcels"}
    assert 19 <= data["span_days"] <= 20.5
    assert data["words"] > 1000
    table = rig("events", "stats", str(a))
    assert table.returncode == 0 and "sms.received" in table.stdout and "time span" in table.stdout


@pytest.mark.integration
def test_generate_from_a_persona_file(rig, tmp_path):
    src = tmp_path / "me.yaml"
    from tasks.persona import BUILTIN

    src.write_text((BUILTIN / "ravi.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    out = rig(
        "events",
        "generate",
        "--persona",
        str(src),
        "--days",
        "3",
        "--out",
        str(tmp_path / "s.jsonl"),
        "--now",
        "2026-06-01T08:00:00-04:00",
    )
    assert out.returncode == 0, out.stderr
    first = json.loads((tmp_path / "s.jsonl").read_text().splitlines()[0])
    assert first["t"].startswith("2026-05-29") and first["t"].endswith("-04:00")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--persona", "nobody-here"], "nobody-here:1: file: no such file"),
        (["--persona", "maya", "--now", "next tuesday"], "--now: 'next tuesday' is not a time"),
    ],
)
def test_generate_bad_input_exits_2(rig, tmp_path, args, needle):
    out = rig("events", "generate", *args, "--out", str(tmp_path / "x.jsonl"))
    assert out.returncode == 2
    assert needle in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.integration
def test_stats_of_a_broken_stream_exits_2(rig, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"t":"2026-03-01T09:00:00+01:00","kind":"sms.received","target":"phone"}\n')
    out = rig("events", "stats", str(bad))
    assert out.returncode == 2
    assert f"{bad}:1: address: required field is missing" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.integration
def test_generate_a_tasks_whole_stream(rig, tmp_path, fixtures):
    out = tmp_path / "task.jsonl"
    done = rig(
        "events", "generate", "--task", str(fixtures / "mail-to-calendar"), "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "task mail-to-calendar-dentist" in done.stdout
    lines = out.read_text(encoding="utf-8").splitlines()
    plot = [json.loads(line) for line in lines if '"plot"' in line]
    assert [e["id"] for e in plot] == ["p002", "p001"]  # time order: the SMS came first
    assert "Zähne & mehr" in plot[1]["body"]

    both = rig("events", "generate", "--task", "x", "--persona", "maya", "--out", str(out))
    assert both.returncode == 2 and "exactly one of --persona" in both.stderr
    broken = rig(
        "events", "generate", "--task", str(fixtures / "broken" / "unknown-key"), "--out", str(out)
    )
    assert broken.returncode == 2 and "colour: unknown key" in broken.stderr
