"""The nightly's sections in a suite index: spliced in once, replaced when written again,
escaped, and the history chart drawn from the rows it is given."""

from __future__ import annotations

import json
from pathlib import Path

from rig.index_extras import BEGIN, HISTORY, annotate_index, history_charts, line_chart

EVIL = "<img src=x onerror=alert(1)> & 'quotes'"


def test_chart_has_a_line_per_series_gaps_for_missing_nights_and_escaped_labels():
    svg = line_chart(
        {EVIL: [("2026-03-01", 0.5), ("2026-03-02", None), ("2026-03-03", 0.7)],
         "b": [("2026-03-01", 0.1), ("2026-03-02", 0.2), ("2026-03-03", 0.3)]},
        "t", 1.0,
    )  # fmt: skip
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<img" not in svg and "&lt;img src=x" in svg
    assert svg.count("<polyline") == 1  # b; the other series is two lone points
    assert svg.count("<circle") == 2
    rows = [
        {"night": "2026-03-01", "agent": "a", "pass_at_1": 0.5, "pass_hat_k": 0.2,
         "infra_rate": 0.0, "wall_seconds": 600},
        {"night": "2026-03-02", "agent": "a", "pass_at_1": 0.6, "pass_hat_k": 0.3,
         "infra_rate": 0.1, "wall_seconds": 660},
    ]  # fmt: skip
    charts = history_charts(rows)
    assert charts.count("<svg") == 2 and charts.count("<polyline") == 4  # 3 rates + wall
    assert history_charts([]) == ""


def test_sections_are_spliced_once_and_refreshed(tmp_path: Path):
    index = tmp_path / "index.html"
    index.write_text("<html><body><h1>suite</h1></body></html>")
    annotate_index(tmp_path)
    assert index.read_text() == "<html><body><h1>suite</h1></body></html>"  # nothing to add
    (tmp_path / "soundness.json").write_text(
        json.dumps({"tasks": {"t1": {"status": "unsound", "problems": [EVIL]}}})
    )
    (tmp_path / "replay.json").write_text(
        json.dumps(
            {"threshold": 0.0, "tasks": {"t2": {"replays": 2, "differ": 1, "flagged": True}}}
        )
    )
    (tmp_path / HISTORY).write_text(
        json.dumps([{"night": "2026-03-01", "agent": "a", "pass_at_1": 0.5}])
    )
    annotate_index(tmp_path)
    annotate_index(tmp_path)
    page = index.read_text()
    assert page.count(BEGIN) == 1 and page.index(BEGIN) < page.index("</body>")
    assert "Unsound tasks" in page and "&lt;img" in page and "<img" not in page
    assert "flaky" in page and "<svg" in page
    (tmp_path / "replay.json").unlink()
    annotate_index(tmp_path)
    assert "flaky" not in index.read_text() and index.read_text().count(BEGIN) == 1
