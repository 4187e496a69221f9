"""Hostile text written into task.yaml (plot events, checks) loads back byte for byte."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.folder import load_task

PIECES = ["'", '"', "$HOME", "`id`", "\\", "%d", "\n", "\r\n", "\t", "😀", "👍🏽", "中文", "日本語"]
PIECES += ["한국어", "€", "\u200b", "\u2028", "# not a comment", "key: value", "- item", "{a}"]
HOSTILE = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(st.characters(blacklist_categories=("Cs",)))),
    min_size=1,
    max_size=10,
).map("".join)


def _task(body: str, keyword: str, note: str) -> dict:
    return {
        "id": "hostile-text",
        "title": keyword or "t",
        "mode": "proactive",
        "surfaces": ["gui", "cli", "cross-device"],
        "instruction": body or "x",
        "now": "2026-03-16T09:00:00+01:00",
        "timezone": "Europe/Berlin",
        "devices": {"phone": "android", "laptop": "linux"},
        "events": {
            "plot": [
                {
                    "t": "-1d 12:00",
                    "kind": "sms.received",
                    "target": "phone",
                    "address": "+49 1",
                    "body": body,
                },
                {
                    "t": "-2h",
                    "kind": "note.written",
                    "target": "laptop",
                    "path": "n.md",
                    "text": note,
                },
            ]
        },
        "checks": [{"kind": "message", "keywords": [keyword or "k"]}],
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=HOSTILE, keyword=HOSTILE, note=HOSTILE)
def test_text_in_task_yaml_survives(tmp_path, body, keyword, note):
    (tmp_path / "task.yaml").write_text(
        # Double-quoted style: PyYAML's emitter writes NEL/U+2028 raw inside single quotes,
        # where YAML readers (correctly) fold them as line breaks.
        yaml.safe_dump(_task(body, keyword, note), allow_unicode=True, default_style='"'),
        encoding="utf-8",
    )
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n")
    loaded = load_task(tmp_path)
    sms, written = loaded.plot
    assert sms.body.encode("utf-8") == body.encode("utf-8")
    assert written.text.encode("utf-8") == note.encode("utf-8")
    assert loaded.task.checks[0].keywords == [keyword or "k"]
    assert loaded.task.instruction == (body or "x")
