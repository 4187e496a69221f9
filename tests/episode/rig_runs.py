"""`rig run` through the real CLI in a scratch folder, and the records it leaves: shared by
the checkpoint tests of each backend."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def rig_run(
    folder: Path,
    env: dict[str, str],
    task: Path,
    name: str,
    *flags: str,
    agent: str,
    timeout: float = 600,
) -> Path:
    """``rig run TASK`` into ``folder/runs/NAME`` (the folder's rig.toml applies); it must
    exit 0."""
    out = folder / "runs" / name
    args = ["run", str(task), "--agent", agent, "--out", str(out), *flags]
    res = subprocess.run(
        [sys.executable, "-m", "rig.cli", "-q", *args],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=timeout,
        env=env,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return out


def checkpoint_of(out: Path) -> dict:
    return json.loads((out / "checkpoint.json").read_text())


def state(out: Path, name: str) -> dict:
    """A state snapshot of the episode without the time it was taken."""
    data = json.loads((out / "state" / f"{name}.json").read_text())
    data.pop("taken")
    return data
