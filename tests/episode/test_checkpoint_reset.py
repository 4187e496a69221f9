"""A world reset in place (a suite worker's phones kept from its last trial and loaded
with the checkpoint's snapshot through their console) reads like a freshly seeded one
after the last trial's agent changed it, leaks nothing of that trial into the next
record, and anything wrong with it is a restore that says why, never a wrong world."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hostproc.ports import free_port
from rig import warm
from rig.agents import make_agent
from rig.config import parse_config
from rig.episode import run_episode
from rig.services.audit import read_audit
from tasks.folder import load_task
from tests.episode.rig_runs import audit_ops, checkpoint_of, rig_suite, state

SUITE = Path(__file__).parents[2] / "tasks" / "suite"
TASK = SUITE / "delete-one-calendar-event"  # phone only
SERVICES_TASK = SUITE / "forward-kita-excursion-to-jonas"  # phone + mail, calendar, contacts
pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A private adb server and checkpoints in a scratch folder; no world kept after."""
    port = free_port()
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(port))
    config = parse_config({"paths": {"checkpoints": str(tmp_path / "checkpoints")}})
    yield tmp_path, config
    warm.drop()
    subprocess.run(["adb", "-P", str(port), "kill-server"], capture_output=True, timeout=30)


def trial(folder: Path, config, task: Path, name: str, reuse=True, agent="oracle", checkpoint=None):
    loaded = load_task(task)
    out = folder / name
    the_agent = make_agent(agent, loaded.path.parent, config)
    checkpoint = reuse if checkpoint is None else checkpoint
    result = run_episode(loaded, the_agent, config, out, checkpoint=checkpoint, reuse=reuse)
    assert result.infra_error is None and result.error is None, result
    return out, result


def tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def new_ids_blanked(final: dict) -> dict:
    """A mail the agent sends gets a new random Message-ID in every world: blank it."""
    messages = final["services"]["mail"]["collections"]["messages"]
    ids = sorted(k for k in messages if k.startswith("Sent:<") and k.endswith("@posteo.example>"))
    for i, old in enumerate(ids):
        messages[f"Sent:<new-{i}>"] = messages.pop(old)
    for db in final["devices"]["phone"]["app_db"].values():
        for row in db.get("tables", {}).get("message", {}).values():
            if f"Sent:{row.get('messageId')}" in ids:
                row["messageId"] = row["raw"] = "<new>"
    return final


@pytest.mark.parametrize("task", [TASK, SERVICES_TASK], ids=["phone", "phone+services"])
def test_a_world_reset_in_place_reads_like_a_fresh_one_and_leaks_nothing(world, task):
    folder, config = world
    first, r1 = trial(folder, config, task, "t1")
    assert r1.setup["world"] == "fresh" and r1.setup["saved"] is True
    assert warm.held_key() == r1.setup["key"]  # the phones were kept, not stopped
    kept = warm._held.world  # the very phone objects, to prove the reuse
    serials = {role: dev.serial for role, dev in kept.devices.items()}
    host = kept.service_stack  # the services' host, parked: it serves no world meanwhile
    assert (host is not None and host.parked) == (task == SERVICES_TASK)
    host_pid = host.process.pid if host is not None else None
    record_before = tree_hash(first)
    second, r2 = trial(folder, config, task, "t2")
    fresh, rf = trial(folder, config, task, "fresh", reuse=False)
    restored, _ = trial(folder, config, task, "restored", reuse=False, checkpoint=True)
    assert checkpoint_of(restored)["world"] == "restored"
    setup = checkpoint_of(second)
    assert setup["world"] == "reset" and setup["key"] == r1.setup["key"], setup
    assert setup["seconds"] > 0 and "reason" not in setup
    assert json.loads((second / "score.json").read_text())["setup"] == setup
    # The same phone processes: reset through the console, not started again.
    assert warm._held.world is kept
    assert {role: dev.serial for role, dev in kept.devices.items()} == serials
    if host_pid is not None:  # the same host served trial 2's services, from the save
        assert kept.service_stack is not host and kept.service_stack.process.pid == host_pid
        assert (second / "services" / "host.log").is_file()
    # Every reader's output, before the agent and after the same agent, equals a fresh
    # world's, though trial 1's agent changed this very phone.
    for name in ("baseline", "final"):
        a, b, c = (state(o, name) for o in (first, second, fresh))
        if "services" in task.name or task == SERVICES_TASK:
            a, b, c = (new_ids_blanked(x) for x in (a, b, c))
        assert a == b == c, name
    assert r1.checks == r2.checks == rf.checks and r2.passed and rf.passed
    assert r2.steps == rf.steps == r1.steps  # the env's counters start again
    # Trial 1's record is its own: trial 2 changed nothing in it.
    assert tree_hash(first) == record_before
    # Trial 2's record holds the phone as it was at its end, like a fresh trial's.
    for out in (first, second):
        assert (out / "devices" / "phone" / "phone" / "fs").is_dir(), out
    # Nothing of trial 1 in trial 2's logs: the phone's stderr and logcat start again.
    logs1 = (first / "logs" / "phone-sim-stderr.txt").read_text()
    logs2 = (second / "logs" / "phone-sim-stderr.txt").read_text()
    assert not logs1 or not logs2.startswith(logs1)
    cat1 = (first / "logs" / "phone-logcat.txt").read_text().splitlines()
    cat2 = (second / "logs" / "phone-logcat.txt").read_text().splitlines()
    catf = (fresh / "logs" / "phone-logcat.txt").read_text().splitlines()
    assert len(cat2) <= len(catf) and len(cat2) < len(cat1) + len(catf), (cat1, cat2)
    # The services are this trial's, started again from the save: their audit logs hold
    # the checkpoint's (the seeding, the clients' first sync, the rig's reads), then this
    # trial's operations, as a fresh trial's and a restored one's do; nothing of trial 1's
    # agent, nor the reset's own requests.
    if task == SERVICES_TASK:
        for name in ("mail", "calendar", "contacts"):
            logs = [
                audit_ops(read_audit(o / "services" / name / "audit.jsonl"))
                for o in (second, restored, fresh, first)
            ]
            assert logs[0] and logs[0] == logs[1] == logs[2] == logs[3], name


def test_a_kept_world_that_broke_is_restored_instead_and_says_why(world):
    folder, config = world
    trial(folder, config, TASK, "t1", agent="noop")
    kept = warm._held.world
    phone = kept["phone"]
    kept.owner("phone")._phones[phone.serial][0].kill()  # the phone died
    out, _ = trial(folder, config, TASK, "t2", agent="noop")
    setup = checkpoint_of(out)
    assert setup["world"] == "restored", setup
    assert setup["reason"].startswith("reset failed (") and "restoring" in setup["reason"]
    assert setup["reset_attempt_s"] >= 0
    # The restored world is kept in its place, and the next trial resets it.
    _, r3 = trial(folder, config, TASK, "t3", agent="noop")
    assert r3.setup["world"] == "reset"
    assert state(out, "baseline") == state(folder / "t3", "baseline")


def test_a_world_of_another_task_is_closed_not_reset(world):
    folder, config = world
    _, r1 = trial(folder, config, TASK, "a", agent="noop")
    kept = warm._held.world
    phone = kept.owner("phone")._phones[kept["phone"].serial][0]
    _, r2 = trial(folder, config, SERVICES_TASK, "b", agent="noop")
    assert r2.setup["world"] == "fresh" and "reason" not in r2.setup
    assert phone.process.poll() is not None  # one warm world per worker: the old one stopped
    assert warm.held_key() == r2.setup["key"] != r1.setup["key"]


def test_a_single_run_keeps_nothing(world):
    folder, config = world
    loaded = load_task(TASK)
    agent = make_agent("noop", loaded.path.parent, config)
    result = run_episode(loaded, agent, config, folder / "one", checkpoint=True)
    assert result.setup["world"] == "fresh" and warm.held_key() is None


def test_a_suite_worker_resets_its_world_for_the_later_trials_and_closes_it_at_the_end(
    world, tmp_path
):
    folder, _ = world
    suite = folder / "suite"
    shutil.copytree(TASK, suite / TASK.name)
    (folder / "rig.toml").write_text(f'[paths]\ncheckpoints = "{folder / "checkpoints"}"\n')
    scratch = folder / "tmp"  # where the worker's kept phones live (TMPDIR)
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    out = folder / "out"
    rows = rig_suite(folder, env, suite, out, agent="noop", trials=3)
    assert [(r["trial"], r["world"]) for r in rows] == [(0, "fresh"), (1, "reset"), (2, "reset")]
    assert len({r["worker"] for r in rows}) == 1
    # The worker closed the world it kept when the suite ended: its phones' folder is gone.
    assert not list(scratch.glob("clawrig-warm-*"))
