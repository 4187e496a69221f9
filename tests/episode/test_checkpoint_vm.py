"""World checkpoints of a cross-device world (virtual phone, QEMU laptop, mail, calendar,
contacts), through the real CLI: the restored world reads like a freshly seeded one before
and after the same agent acted, and a VM snapshot that changed on disk is a fresh seed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hostproc.ports import free_port
from tests.episode.rig_runs import checkpoint_of, rig_run, rig_suite, state

TASK = Path(__file__).parents[2] / "tasks" / "suite" / "mail-keybox-code-to-cleaner"
# Four episodes of a phone, a laptop and three services: minutes on a loaded machine.
pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]


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
    out = rig_run(folder, env, TASK, name, *flags, agent=agent, timeout=900)
    return out, checkpoint_of(out)


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


# The laptop's mail and calendar clients synced at seed: mbsync names each local copy by the
# time it was fetched (its bytes differ between fresh worlds too), the folders' UIDVALIDITY and
# sync state are time-made, and the clients' configurations hold the world's login (random in
# every fresh world). Two fresh worlds differ there; what they share is which messages (folder,
# server UID, flags) each folder holds.
MAILDIR_COPY = re.compile(
    r"^(.*/Maildir(?:/\.[^/]+)?/(?:cur|new))/\d+\.\d+_\d+\.[^,/]+,(U=\d+:2,\w*)$"
)
SYNC_STATE = re.compile(
    r"/Maildir(?:/\.[^/]+)?/\.(?:uidvalidity|mbsyncstate[^/]*)$|/vdirsyncer/status/"
)
LOGINS = (".mbsyncrc", ".msmtprc", ".config/vdirsyncer/config", ".config/neomutt/neomuttrc")


def sync_copies_named(snap: dict) -> dict:
    """``snap`` with the laptop's synced mail keyed by folder, UID and flags, its sync state
    left out and its clients' logins unhashed: what two fresh worlds share there."""
    files = {}
    for path, entry in snap["devices"]["laptop"]["files"].items():
        if SYNC_STATE.search(path):
            continue
        copy = MAILDIR_COPY.match(path)
        if copy:
            files[f"{copy[1]}/{copy[2]}"] = "synced"
        elif path.endswith(LOGINS):
            files[path] = "holds this world's login"
        else:
            files[path] = entry
    snap["devices"]["laptop"]["files"] = files
    return snap


def mirror_left_out(snap: dict) -> dict:
    """``snap`` without the laptop's local mail mirror. Once the agent acted, which of its
    changes (a sent mail, a flag) the laptop's cron has fetched by the final read is a
    matter of the minute: the mail service's own state, compared in full, is the truth."""
    files = snap["devices"]["laptop"]["files"]
    for path in [p for p in files if MAILDIR_COPY.match(p) or SYNC_STATE.search(p)]:
        del files[path]
    return snap


def test_a_restored_cross_device_world_reads_like_a_fresh_one(work):
    first, built = run(work, "first", "--checkpoint")
    restored, setup = run(work, "restored", "--checkpoint")
    fresh, plain = run(work, "fresh", "--fresh")
    assert built["world"] == "fresh" and built["saved"] is True, built
    assert setup["world"] == "restored" and setup["key"] == built["key"], setup
    assert plain["world"] == "fresh"
    boot = json.loads((restored / "episode.json").read_text())
    assert "laptop" in json.dumps(boot)
    # Before the agent (the restore proved it by its digest) and after the same agent: the
    # restored world is its checkpoint's to the byte, and reads like a fresh one.
    baselines = [state(o, "baseline") for o in (first, restored, fresh)]
    assert baselines[1] == baselines[0]
    assert "/home/user/.mbsyncrc" in baselines[1]["devices"]["laptop"]["files"]
    assert sync_copies_named(baselines[1]) == sync_copies_named(baselines[2])
    finals = [
        mirror_left_out(sent_ids_blanked(state(o, "final"), state(o, "baseline")))
        for o in (first, restored, fresh)
    ]
    assert finals[1] == finals[0]
    assert sync_copies_named(finals[1]) == sync_copies_named(finals[2])
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


def test_a_suite_worker_resets_a_cross_device_world_in_place(work, tmp_path):
    """The phone kept and loaded through its console, the laptop and services started
    again from the checkpoint: after the same agent acted in the trial before, the reset
    world reads like its checkpoint and ends like that trial."""
    folder, env = work
    suite = tmp_path / "suite"
    shutil.copytree(TASK, suite / TASK.name)
    out = tmp_path / "out"
    rows = rig_suite(folder, env, suite, out, agent="oracle", trials=2, timeout=900)
    assert rows[0]["world"] in ("fresh", "restored") and rows[1]["world"] == "reset", rows
    assert [r["passed"] for r in rows] == [True, True]
    trials = [out / "trials" / TASK.name / f"trial-{k}" for k in (0, 1)]
    assert state(trials[1], "baseline") == state(trials[0], "baseline")
    finals = [
        mirror_left_out(sent_ids_blanked(state(o, "final"), state(o, "baseline"))) for o in trials
    ]
    assert finals[1] == finals[0]
    assert "new-0" in finals[1]["services"]["mail"]["collections"]["messages"]
