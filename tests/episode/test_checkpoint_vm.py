"""World checkpoints of a cross-device world (virtual phone, QEMU laptop, mail, calendar,
contacts), through the real CLI: the restored world reads like a freshly seeded one before
and after the same agent acted, and a VM snapshot that changed on disk is a fresh seed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hostproc.ports import free_port

TASK = Path(__file__).parents[2] / "tasks" / "suite" / "mail-keybox-code-to-cleaner"
pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Checkpoints in a scratch folder (the VM image and booted state: the shared cache)."""
    port = free_port()
    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(port)}
    folder = tmp_path_factory.mktemp("checkpoints-vm")
    (folder / "rig.toml").write_text(f'[paths]\ncheckpoints = "{folder / "checkpoints"}"\n')
    yield folder, env
    subprocess.run(["adb", "-P", str(port), "kill-server"], capture_output=True, timeout=30)


def run(work, name: str, *flags: str, agent: str = "oracle") -> tuple[Path, dict]:
    folder, env = work
    out = folder / "runs" / name
    args = ["run", str(TASK), "--agent", agent, "--out", str(out), *flags]
    res = subprocess.run(
        [sys.executable, "-m", "rig.cli", "-q", *args],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=900,
        env=env,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return out, json.loads((out / "checkpoint.json").read_text())


def state(out: Path, name: str) -> dict:
    data = json.loads((out / "state" / f"{name}.json").read_text())
    data.pop("taken")
    return data


def sent_ids_blanked(final: dict, baseline: dict) -> dict:
    """A mail the agent sends gets a random Message-ID in every world (two fresh worlds differ
    there too): blank it where it shows, the server's keys and the phone's Email rows."""
    messages = final["services"]["mail"]["collections"]["messages"]
    known = baseline["services"]["mail"]["collections"]["messages"]
    new = sorted(k for k in messages if k not in known)
    for i, key in enumerate(new):
        messages[f"new-{i}"] = messages.pop(key)
    for db in final["devices"]["phone"]["app_db"].values():
        for row in db.get("tables", {}).get("message", {}).values():
            if any(key.endswith(":" + str(row.get("messageId"))) for key in new):
                row["messageId"] = row["raw"] = "<new>"
    return final


def test_a_restored_cross_device_world_reads_like_a_fresh_one(work):
    first, built = run(work, "first", "--checkpoint")
    restored, setup = run(work, "restored", "--checkpoint")
    fresh, plain = run(work, "fresh", "--fresh")
    assert built["world"] == "fresh" and built["saved"] is True, built
    assert setup["world"] == "restored" and setup["key"] == built["key"], setup
    assert plain["world"] == "fresh"
    boot = json.loads((restored / "episode.json").read_text())
    assert "laptop" in json.dumps(boot)
    # Before the agent (the restore proved it by its digest) and after the same agent.
    assert state(restored, "baseline") == state(fresh, "baseline") == state(first, "baseline")
    finals = [
        sent_ids_blanked(state(o, "final"), state(o, "baseline")) for o in (first, restored, fresh)
    ]
    assert finals[0] == finals[1] == finals[2]
    assert "new-0" in finals[0]["services"]["mail"]["collections"]["messages"]
    scores = [json.loads((o / "score.json").read_text()) for o in (first, restored, fresh)]
    assert [s["passed"] for s in scores] == [True, True, True]
    assert scores[0]["checks"] == scores[1]["checks"] == scores[2]["checks"]

    # The VM's saved state changed on disk: a fresh seed that says so, and a rebuild.
    folder = work[0] / "checkpoints" / setup["key"] / "devices" / "laptop"
    disk = folder / "disk.qcow2"
    disk.chmod(0o644)
    with disk.open("r+b") as f:
        f.seek(-4096, os.SEEK_END)
        f.write(b"\xff" * 16)
    _, broken = run(work, "corrupt-vm", "--checkpoint", agent="noop")
    assert broken["world"] == "fresh" and "laptop snapshot's files differ" in broken["reason"]
    assert broken["saved"] is True
    shutil.rmtree(work[0] / "runs")
