"""Farm health on local worker processes (`[suite] probe = "always"`): a machine whose
phones fail the quick conformance probe runs no trial; the suite stops with the failing
check, listed in summary.json and the index; by default local runs are not probed. (The
Ray version, one bad node among good ones: tests/suite/test_ray_farm.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADD_CONTACT = ROOT / "tests" / "mcp" / "fixtures" / "add-contact"
WRONG_SCREEN = Path(__file__).parent / "fixtures" / "wrong-screen"


def lying_env() -> dict[str, str]:
    """This process's environment, with phones that report the wrong screen size."""
    path = os.pathsep.join(
        p for p in (str(WRONG_SCREEN), str(ROOT), os.environ.get("PYTHONPATH")) if p
    )
    return {**os.environ, "PYTHONPATH": path}


@pytest.mark.integration
def test_a_machine_that_fails_its_probe_runs_no_trial(private_adb, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # Local worker processes are probed only when asked: their one node is this machine.
    (tmp_path / "rig.toml").write_text('[suite]\nprobe = "always"\n', encoding="utf-8")
    res = subprocess.run(
        [sys.executable, "-m", "rig.cli", "suite", "run", str(ADD_CONTACT.parent),
         "--trials", "2", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path, env=lying_env(), timeout=300,
    )  # fmt: skip
    assert res.returncode == 3, res.stdout + res.stderr
    assert "every node failed its conformance probe" in res.stderr
    assert "android: screen size" in res.stderr
    assert (out / "results.jsonl").read_text() == ""  # no trial ran, none counted
    summary = json.loads((out / "summary.json").read_text())
    [entry] = summary["quarantined"]
    assert entry["check"] == "android: screen size"
    assert "1080x1920" in entry["evidence"] and "1080x2400" in entry["evidence"]
    assert summary["missing"] == 2 and summary["trials"] == 0
    index = (out / "index.html").read_text()
    assert "Quarantined nodes" in index and "android: screen size" in index


@pytest.mark.integration
def test_a_probe_that_fails_once_is_tried_again(private_adb, tmp_path: Path) -> None:
    """Only the first phone lies (a node that hiccuped once): the second probe passes, the
    trial runs and nothing is quarantined (without the second try: exit 3, as above)."""
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    (tmp_path / "rig.toml").write_text('[suite]\nprobe = "always"\n', encoding="utf-8")
    env = {**lying_env(), "CLAWRIG_LIE_ONCE": str(tmp_path / "lied"), "TMPDIR": str(tmp)}
    res = subprocess.run(
        [sys.executable, "-m", "rig.cli", "suite", "run", str(ADD_CONTACT.parent),
         "--trials", "1", "--agent", "noop", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )  # fmt: skip
    assert (tmp_path / "lied").exists()
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and not rows[0].get("infra_error"), res.stdout + res.stderr
    assert not json.loads((out / "summary.json").read_text()).get("quarantined")


@pytest.mark.integration
def test_the_same_machine_with_honest_phones_passes_the_probe(private_adb, tmp_path: Path):
    from rig.config import RigConfig
    from rig.health import PROBE_CHECKS, probe

    result = probe(["android"], RigConfig(), tmp_path)
    assert result.ok, result
    assert [c["name"] for c in result.checks] == list(PROBE_CHECKS["android"])


@pytest.mark.integration
def test_local_runs_are_not_probed_by_default(private_adb, tmp_path: Path) -> None:
    # The same lying phones, no probe asked for: the trial runs, and the lie lands on the
    # agent (its tap is "off the screen"), which is what the probe is there to prevent.
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "-m", "rig.cli", "suite", "run", str(ADD_CONTACT.parent),
         "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path, env=lying_env(), timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["quarantined"] == [] and summary["trials"] == 1, summary
    [row] = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert "is off the 1080x1920 screen" in row["agent_error"], row
