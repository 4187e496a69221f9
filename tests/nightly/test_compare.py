"""``rig suite compare`` on hand-built result sets whose verdicts are known: one real
regression, one change that is noise, a task made unsound, new infra errors, a slower
phase, a flaky task, and hostile text in an error message."""

from __future__ import annotations

import json
import subprocess
import sys
from math import comb
from pathlib import Path

import pytest
from rich.console import Console

from rig.compare import compare_folders, print_report, render_html

P_BROKEN = 132 / 184756  # 10/10 -> 2/10, hand-computed in test_significance
HOSTILE = "[bold red]$(rm -rf ~)[/] <script>alert('x')</script> `id` 100% 🦊 张伟"


def write_run(
    root: Path,
    counts: dict[str, tuple[int, int]],
    trials: int = 10,
    phases: dict[str, dict[str, float]] | None = None,
    infra: list[tuple[str, int, str]] = (),
    soundness: dict[str, str] | None = None,
    flaky: list[str] = (),
) -> Path:
    """A run folder as ``rig suite run`` leaves it: per task ``(trials, passes)``; phase
    seconds per task; infra-error lines (retried: the later line is the result)."""
    root.mkdir(parents=True)
    (root / "suite.json").write_text(json.dumps({"agent": "test", "trials": trials}))
    lines = []
    for task, trial, text in infra:
        lines.append({"task_id": task, "trial": trial, "passed": False, "infra_error": text})
    for task, (n, c) in counts.items():
        for k in range(n):
            report = f"trials/{task}/trial-{k}/report.html"
            lines.append(
                {
                    "task_id": task,
                    "trial": k,
                    "passed": k < c,
                    "score": float(k < c),
                    "infra_error": None,
                    "error": None,
                    "report": report,
                }
            )
            folder = root / report
            folder.parent.mkdir(parents=True)
            task_phases = (phases or {}).get(task, {"seed": 2.0, "agent": 10.0})
            score = {"phases": {p: {"status": "ok", "seconds": s} for p, s in task_phases.items()}}
            (folder.parent / "score.json").write_text(json.dumps(score))
    (root / "results.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    if soundness:
        data = {
            t: {"status": s, "problems": [f"noop passes; {HOSTILE}"]} for t, s in soundness.items()
        }
        (root / "soundness.json").write_text(json.dumps({"tasks": data}))
    if flaky:
        data = {t: {"replays": 10, "differ": 3, "rate": 0.3, "flagged": True} for t in flaky}
        (root / "replay.json").write_text(json.dumps({"threshold": 0.0, "tasks": data}))
    return root


@pytest.fixture
def nights(tmp_path: Path) -> tuple[Path, Path]:
    old = write_run(
        tmp_path / "old",
        {"broken": (10, 10), "steady": (10, 5), "wobbly": (10, 10)},
        soundness={"broken": "sound", "steady": "sound", "wobbly": "sound"},
    )
    new = write_run(
        tmp_path / "new",
        {"broken": (10, 2), "steady": (10, 4), "wobbly": (10, 0)},
        phases={"steady": {"seed": 6.0, "agent": 10.5}},
        infra=[
            ("steady", 3, f"seed: SeedMismatch: {HOSTILE}"),
            ("steady", 4, "seed: SeedMismatch: x"),
        ],
        soundness={"broken": "sound", "steady": "sound", "wobbly": "unsound"},
        flaky=["steady"],
    )
    return old, new


def test_significant_and_insignificant_changes(nights):
    report = compare_folders(*nights)
    tasks = {r["task_id"]: r for r in report["tasks"]}
    broken, steady, wobbly = tasks["broken"], tasks["steady"], tasks["wobbly"]
    assert broken["p"] == pytest.approx(P_BROKEN, rel=1e-9)
    # Holm over the two trusted tasks: the smaller p is doubled.
    assert broken["p_holm"] == pytest.approx(2 * P_BROKEN, rel=1e-9)
    assert broken["significant"] and broken["change"] == "worse"
    assert broken["flipped"] == "pass->fail"
    assert broken["diff"] == pytest.approx(-0.8)
    lo, hi = broken["diff_95"]
    assert lo < -0.8 < hi < 0  # the whole interval is a loss
    assert steady["p"] == 1.0 and not steady["significant"] and steady["change"] == "none"
    assert steady["flaky"] and report["flaky"]["new"] == ["steady"]
    lo, hi = steady["diff_95"]
    assert lo < -0.1 < 0 < hi  # the interval covers no change
    # pass^10 of the old broken task: C(10,10)/C(10,10) = 1; new: 0.
    assert broken["old"]["pass_hat_k"] == 1.0 and broken["new"]["pass_hat_k"] == 0.0

    # The unsound task is untrusted: no test, not in the overall numbers, but it gates.
    assert wobbly["untrusted"] and "p_holm" not in wobbly and "significant" not in wobbly
    assert report["unsound"]["newly"] == ["wobbly"]
    ov = report["overall"]
    assert ov["tasks"] == 2
    assert (ov["old"]["passed"], ov["old"]["trials"]) == (15, 20)
    assert (ov["new"]["passed"], ov["new"]["trials"]) == (6, 20)

    # Stratified by task: P(S = s) = sum over a1 + a2 = s of P_broken(a1) P_steady(a2),
    # written out here as a double loop over the two tasks' hypergeometric laws.
    def law(row1: int, row2: int, col1: int) -> dict[int, float]:
        total = comb(row1 + row2, col1)
        return {a: comb(row1, a) * comb(row2, col1 - a) / total for a in range(col1 + 1)}

    joint: dict[int, float] = {}
    for a1, p1 in law(10, 10, 12).items():
        for a2, p2 in law(10, 10, 9).items():
            joint[a1 + a2] = joint.get(a1 + a2, 0.0) + p1 * p2
    observed = joint[10 + 5]
    want = sum(p for p in joint.values() if p <= observed * (1 + 1e-7))
    assert ov["p"] == pytest.approx(want, rel=1e-9) and ov["change"] == "worse"
    assert ov["p_pooled_fisher"] == pytest.approx(0.0103867, abs=1e-7)  # 15/20 vs 6/20
    ph = ov["pass_hat_k"]
    assert ph["k"] == 10 and ph["old"] == 0.5 and ph["new"] == 0.0  # mean of (1, 0) and (0, 0)
    assert ph["diff_95"][0] <= ph["diff"] <= ph["diff_95"][1]

    assert report["new_infra"] == [{"cause": "seed: SeedMismatch", "old": 0, "new": 2}]
    seed = {p["phase"]: p for p in report["phases"]["overall"]}
    assert [(p["task_id"], p["phase"]) for p in report["phases"]["tasks"]] == [("steady", "seed")]
    assert not seed["agent"]["regressed"]  # 10 -> 10.5 s is within the threshold
    assert report["regressed"]
    assert report["reasons"][0] == "task wobbly became unsound"
    assert any("task broken pass rate fell 10/10 -> 2/10" in r for r in report["reasons"])


def test_noise_alone_does_not_gate(tmp_path: Path):
    old = write_run(tmp_path / "old", {"a": (10, 5), "b": (10, 7)})
    new = write_run(tmp_path / "new", {"a": (10, 4), "b": (10, 8)})
    report = compare_folders(old, new)
    assert not report["regressed"] and report["reasons"] == []
    assert report["overall"]["p"] == 1.0  # 12/20 -> 12/20
    assert all(r["change"] == "none" for r in report["tasks"])
    # A task at 3/3 -> 0/3 is a flip, yet 3 trials cannot show significance (p = 0.1).
    old = write_run(tmp_path / "old3", {"a": (3, 3)}, trials=3)
    new = write_run(tmp_path / "new3", {"a": (3, 0)}, trials=3)
    report = compare_folders(old, new)
    [row] = report["tasks"]
    assert row["flipped"] == "pass->fail" and row["p"] == pytest.approx(0.1)
    assert not report["regressed"]


def test_printout_and_html_escape_results_text(nights):
    report = compare_folders(*nights)
    console = Console(record=True, width=200)
    print_report(report, console)
    text = console.export_text()
    assert HOSTILE in text  # shown as written: the markup was not interpreted
    assert "NEWLY UNSOUND" in text and "broken" in text and "REGRESSED" in text
    page = render_html(report)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "wobbly" in page and "seed: SeedMismatch" in page


def test_cli_exit_status_and_outputs(nights, tmp_path: Path):
    old, new = nights

    def rig(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "rig.cli", "suite", "compare", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )

    res = rig(str(old), str(new), "--out", str(tmp_path / "cmp"))
    assert res.returncode == 1, res.stdout + res.stderr
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert data["regressed"] and (tmp_path / "cmp" / "compare.html").is_file()
    res = rig(str(old), str(old), "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["regressed"] is False
    res = rig(str(old), str(tmp_path / "nowhere"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
