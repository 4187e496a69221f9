"""World checkpoints with the ``avd`` backend, against the stand-in SDK (its ``emulator``
boots the virtual phone on the launcher's ports; no real AVD runs here): the phone is saved
with the console's ``avd snapshot save`` into the AVD's folder, a later trial boots a
read-only instance with ``-snapshot`` from the checkpoint's copy and reads like the first,
and a snapshot the emulator will not load is a fresh seed that says so."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.avd import avd_dir, create_avd, find_sdk
from hostproc.ports import free_port
from tests.episode.rig_runs import checkpoint_of, rig_run, rig_suite, state

ROOT = Path(__file__).parents[2]
TASK = ROOT / "tasks" / "suite" / "delete-one-calendar-event"
SDK_ROOT = ROOT / "tests" / "android" / "sdk"
IMAGE = "system-images;android-34;default;x86_64"
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A scratch folder: its own AVD home with one AVD, cache, checkpoints and adb server."""
    folder = tmp_path_factory.mktemp("checkpoints-avd")
    home = folder / "avd-home"
    home.mkdir()
    sdk = dataclasses.replace(find_sdk(SDK_ROOT), avd_home=home)
    create_avd(sdk, "clawrig_ckpt", IMAGE, device="pixel_7")
    (folder / "rig.toml").write_text(
        f'[paths]\ncache = "{folder / "cache"}"\n\n'
        '[devices]\nandroid = "avd"\n\n'
        f'[android.avd]\nsdk = "{SDK_ROOT}"\nname = "clawrig_ckpt"\nboot_timeout_s = 120\n'
    )
    port = free_port()
    env = {
        **os.environ,
        "ANDROID_ADB_SERVER_PORT": str(port),
        "ANDROID_AVD_HOME": str(home),
        # The stand-in runs under the project's interpreter (a worktree has no .venv).
        "CLAWRIG_PYTHON": os.environ.get("CLAWRIG_PYTHON", sys.executable),
    }
    env.pop("CLAWRIG_FAKE_EMULATOR_FAIL", None)
    yield folder, env, avd_dir(sdk, "clawrig_ckpt")
    subprocess.run(["adb", "-P", str(port), "kill-server"], capture_output=True, timeout=30)


def run(work, name: str, *flags: str, agent: str = "noop", **extra: str) -> tuple[Path, dict]:
    folder, env, _ = work
    out = rig_run(folder, {**env, **extra}, TASK, name, *flags, agent=agent)
    return out, checkpoint_of(out)


def left_in_avd(avd: Path) -> list[str]:
    snapshots = avd / "snapshots"
    return sorted(p.name for p in snapshots.iterdir()) if snapshots.is_dir() else []


def test_an_avd_world_is_saved_by_console_snapshot_and_restored_by_booting_from_it(work):
    folder, _, avd = work
    first, built = run(work, "first", "--checkpoint", agent="oracle")
    assert built["world"] == "fresh" and built["saved"] is True, built
    saved = folder / "cache" / "checkpoints" / built["key"]
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["parts"]["avd"]["name"] == "clawrig_ckpt"
    assert manifest["parts"]["backend"]["android"] == "avd"
    # The console's save went to the AVD's folder and was taken into the checkpoint from it.
    assert any(p.startswith("fs/") for p in manifest["devices"]["phone"]["files"])
    assert left_in_avd(avd) == []

    restored, setup = run(work, "restored", "--checkpoint", agent="oracle")
    assert setup["world"] == "restored" and setup["key"] == built["key"], setup
    log = (restored / "logs" / "phone-emulator-stderr.txt").read_text()
    assert "-snapshot clawrig-start-" in log and "Loaded snapshot 'clawrig-start-" in log, log
    # The read-only instance's start snapshot goes with it: nothing piles up in the AVD.
    assert left_in_avd(avd) == []
    assert state(restored, "baseline") == state(first, "baseline")
    assert state(restored, "final") == state(first, "final")
    scores = [json.loads((o / "score.json").read_text()) for o in (first, restored)]
    assert [s["passed"] for s in scores] == [True, True]

    # An emulator that will not load the snapshot (another emulator build saved it, say):
    # the launcher's SnapshotIncompatible, then a fresh seed in the same trial, with the reason.
    _, fallback = run(work, "incompatible", "--checkpoint", CLAWRIG_FAKE_EMULATOR_FAIL="snapshot")
    assert fallback["world"] == "fresh", fallback
    assert "restore failed (SnapshotIncompatible" in fallback["reason"], fallback
    assert fallback["saved"] is True
    assert left_in_avd(avd) == []


def test_an_avd_kept_by_a_suite_worker_is_reset_by_console_snapshot_load(work, tmp_path):
    folder, env, avd = work
    suite = tmp_path / "suite"
    shutil.copytree(TASK, suite / TASK.name)
    out = tmp_path / "out"
    rows = rig_suite(folder, env, suite, out, agent="noop", trials=2)
    # Trial 0 restores the checkpoint the test before built (fresh when run alone).
    assert rows[0]["world"] in ("fresh", "restored") and rows[1]["world"] == "reset", rows
    trials = [out / "trials" / TASK.name / f"trial-{k}" for k in (0, 1)]
    # The same emulator instance: its log shows the console's load of the checkpoint's copy.
    log = (trials[1] / "logs" / "phone-emulator-stderr.txt").read_text()
    assert "-snapshot clawrig-start-" not in log  # not booted again
    assert state(trials[1], "baseline") == state(trials[0], "baseline")
    # The copy loaded from goes at once, the instance's start snapshot with the instance.
    assert left_in_avd(avd) == []
