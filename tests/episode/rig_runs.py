"""`rig run` and `rig suite run` through the real CLI in a scratch folder, and the records
they leave: shared by the checkpoint tests of each backend."""

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
    _rig(folder, env, ["run", str(task), "--agent", agent, "--out", str(out), *flags], timeout)
    return out


def rig_suite(
    folder: Path,
    env: dict[str, str],
    suite: Path,
    out: Path,
    *,
    agent: str,
    trials: int,
    timeout: float = 600,
) -> list[dict]:
    """``rig suite run SUITE`` with one worker into ``out``; it must exit 0. Its result rows,
    by trial."""
    args = ["suite", "run", str(suite), "--agent", agent, "--trials", str(trials)]
    _rig(folder, env, [*args, "--workers", "1", "--out", str(out)], timeout)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return sorted(rows, key=lambda r: r["trial"])


def _rig(folder: Path, env: dict[str, str], args: list[str], timeout: float) -> None:
    """``rig ARGS`` in ``folder`` (its rig.toml applies); it must exit 0."""
    res = subprocess.run(
        [sys.executable, "-m", "rig.cli", "-q", *args],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=timeout,
        env=env,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def checkpoint_of(out: Path) -> dict:
    return json.loads((out / "checkpoint.json").read_text())


def state(out: Path, name: str) -> dict:
    """A state snapshot of the episode without the time it was taken."""
    data = json.loads((out / "state" / f"{name}.json").read_text())
    data.pop("taken")
    return data


def audit_ops(records: list[dict]) -> list[str]:
    """A service's audit records, sorted, without what differs between any two worlds: the
    times (the host's pace), the ports of the rig's own connections (``127.0.0.1:PORT``; a
    device role is kept) and a sent mail's random Message-ID (and the size it makes)."""
    out = []
    for r in records:
        kept = {k: v for k, v in r.items() if k not in ("t", "message_id", "size")}
        if ":" in str(kept.get("client")):
            kept["client"] = str(kept["client"]).rsplit(":", 1)[0]
        out.append(json.dumps(kept, sort_keys=True))
    return sorted(out)
