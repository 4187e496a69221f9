"""World checkpoints on the virtual phone, through the real CLI: a restored world reads
exactly like a freshly seeded one, an edited task gets a new checkpoint, racing workers
build one, and a corrupt checkpoint is a fresh seed that says so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from hostproc.ports import free_port
from rig import checkpoint as ckpt
from rig import snapshot
from rig.config import parse_config
from rig.episode import Episode
from rig.services.audit import read_audit
from tasks.folder import load_task
from tests.episode.rig_runs import audit_ops, checkpoint_of, rig_run, state

TASK = Path(__file__).parents[2] / "tasks" / "suite" / "delete-one-calendar-event"
SERVICES_TASK = TASK.parent / "forward-kita-excursion-to-jonas"  # phone + mail, calendar, contacts
pytestmark = [pytest.mark.integration, pytest.mark.slow]
ENV: dict[str, str] = {}


def rig(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rig.cli", "-q", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env=ENV,
    )


def run(work: Path, name: str, *flags: str, agent: str = "noop", task: Path = TASK) -> Path:
    return rig_run(work, ENV, task, name, *flags, agent=agent)


def setup_of(out: Path) -> dict:
    score = json.loads((out / "score.json").read_text())
    assert score["setup"] == checkpoint_of(out)
    return score["setup"]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A scratch folder with its own cache (rig.toml) and a private adb server."""
    port = free_port()
    ENV.clear()
    ENV.update(os.environ, ANDROID_ADB_SERVER_PORT=str(port))
    folder = tmp_path_factory.mktemp("checkpoints")
    (folder / "rig.toml").write_text(f'[paths]\ncache = "{folder / "cache"}"\n')
    yield folder
    subprocess.run(["adb", "-P", str(port), "kill-server"], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def first(work: Path) -> Path:
    """The first trial: seeds fresh, saves the checkpoint, then the oracle changes the world."""
    out = run(work, "first", "--checkpoint", agent="oracle")
    assert setup_of(out)["world"] == "fresh" and setup_of(out)["saved"] is True
    return out


def test_restored_world_reads_like_a_fresh_one_after_an_agent_changed_it(work, first):
    restored = run(work, "restored", "--checkpoint", agent="oracle")
    fresh = run(work, "fresh", "--fresh", agent="oracle")
    assert setup_of(restored)["world"] == "restored"
    assert setup_of(restored)["key"] == setup_of(first)["key"]
    assert setup_of(fresh)["world"] == "fresh" and setup_of(fresh)["checkpoint"] is False
    # Every reader's output: the state before the agent, and after the same agent.
    for name in ("baseline", "final"):
        assert state(restored, name) == state(fresh, name) == state(first, name), name
    scores = [json.loads((o / "score.json").read_text()) for o in (first, restored, fresh)]
    assert [s["passed"] for s in scores] == [True, True, True]
    assert scores[0]["checks"] == scores[1]["checks"] == scores[2]["checks"]
    baseline_phase = [s["phases"]["baseline"]["digest"] for s in scores]
    assert len(set(baseline_phase)) == 1


def full_state(task: Path, cache: Path, out: Path, checkpoint: bool) -> tuple[dict, dict, dict]:
    """Set up one episode in this process and read its whole world (file texts included)
    through the readers, never the baseline a restore takes from its checkpoint; and each
    service's audit records as the agent would find them."""
    config = parse_config({"paths": {"cache": str(cache)}})
    episode = Episode(load_task(task), config, out, "test", checkpoint=checkpoint)
    try:
        episode.setup()
        audit = {name: svc.audit() for name, svc in episode.world.services.items()}
        state = snapshot.take(episode.world, episode.task)
        state.pop("taken")
        return episode.result.setup, state, audit
    finally:
        episode.close()


@pytest.mark.parametrize("task", [TASK, SERVICES_TASK], ids=["phone", "phone+services"])
def test_a_restored_world_reads_like_a_fresh_one_through_every_reader(
    work, task, tmp_path, monkeypatch
):
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", ENV["ANDROID_ADB_SERVER_PORT"])
    cache = tmp_path / "cache"
    built, first, first_audit = full_state(task, cache, tmp_path / "first", True)
    restored_setup, restored, restored_audit = full_state(task, cache, tmp_path / "restored", True)
    fresh_setup, fresh, fresh_audit = full_state(task, cache, tmp_path / "fresh", False)
    assert built["world"] == "fresh" and built["saved"] is True, built
    assert restored_setup["world"] == "restored", restored_setup
    assert fresh_setup["world"] == "fresh"
    assert restored == fresh == first
    # The services' audit logs: the seeding, the clients' first sync and the rig's reads, as
    # the first world logged them (times moved back to end at the task's now, where a
    # restored world's clock starts); none of the restore's own requests.
    assert set(restored_audit) == set(fresh_audit) == set(first_audit)
    now = load_task(task).task.now
    for name, records in restored_audit.items():
        assert records, name
        assert [{k: v for k, v in r.items() if k != "t"} for r in records] == [
            {k: v for k, v in r.items() if k != "t"} for r in first_audit[name]
        ], name
        assert all(datetime.fromisoformat(r["t"]) <= now for r in records), name
        assert audit_ops(records) == audit_ops(fresh_audit[name]), name


def test_a_corrupt_or_missing_audit_log_in_a_checkpoint_is_a_fresh_seed(
    work, tmp_path, monkeypatch
):
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", ENV["ANDROID_ADB_SERVER_PORT"])
    cache = tmp_path / "cache"
    built = full_state(SERVICES_TASK, cache, tmp_path / "first", True)[0]
    audit = cache / "checkpoints" / built["key"] / "services" / "calendar" / "audit.jsonl"
    audit.write_text(audit.read_text().replace('"DAV PUT"', '"DAV DELETE"'))
    setup = full_state(SERVICES_TASK, cache, tmp_path / "corrupt", True)[0]
    assert setup["world"] == "fresh" and "services' saved files differ" in setup["reason"]
    assert setup["saved"] is True  # rebuilt
    audit.unlink()
    setup = full_state(SERVICES_TASK, cache, tmp_path / "missing", True)[0]
    assert setup["world"] == "fresh" and "services' saved files differ" in setup["reason"]
    assert full_state(SERVICES_TASK, cache, tmp_path / "again", True)[0]["world"] == "restored"


def new_ids_blanked(final: dict) -> dict:
    """A mail the agent sends gets a new random Message-ID in every world (two fresh worlds
    differ there too): blank it where it shows, in the server's keys and the phone's rows."""
    messages = final["services"]["mail"]["collections"]["messages"]
    ids = sorted(k for k in messages if k.startswith("Sent:<") and k.endswith("@posteo.example>"))
    for i, old in enumerate(ids):
        messages[f"Sent:<new-{i}>"] = messages.pop(old)
    rows = final["devices"]["phone"]["app_db"]
    for db in rows.values():
        for row in db.get("tables", {}).get("message", {}).values():
            if f"Sent:{row.get('messageId')}" in ids:
                row["messageId"] = row["raw"] = "<new>"
    return final


def test_services_restored_world_after_the_agent_acted_reads_like_a_fresh_one(work):
    first = run(work, "svc-first", "--checkpoint", agent="oracle", task=SERVICES_TASK)
    restored = run(work, "svc-restored", "--checkpoint", agent="oracle", task=SERVICES_TASK)
    fresh = run(work, "svc-fresh", "--fresh", agent="oracle", task=SERVICES_TASK)
    outs = (first, restored, fresh)
    assert setup_of(first)["world"] == "fresh" and setup_of(first)["saved"] is True
    assert setup_of(restored)["world"] == "restored"
    assert state(restored, "baseline") == state(fresh, "baseline") == state(first, "baseline")
    finals = [new_ids_blanked(state(o, "final")) for o in (first, restored, fresh)]
    assert finals[0] == finals[1] == finals[2]
    assert "Sent:<new-0>" in finals[0]["services"]["mail"]["collections"]["messages"]
    scores = [json.loads((o / "score.json").read_text()) for o in (first, restored, fresh)]
    assert [s["passed"] for s in scores] == [True, True, True]
    assert scores[0]["checks"] == scores[1]["checks"] == scores[2]["checks"]
    # Each service's audit log in the record: the seeding, the agent's requests and the
    # rig's reads, the same in each world (none of the restore's own requests).
    for name in ("mail", "calendar", "contacts"):
        logs = [audit_ops(read_audit(o / "services" / name / "audit.jsonl")) for o in outs]
        assert logs[0] and logs[0] == logs[1] == logs[2], name
    # The logins the services hold are in the checkpoint, never in a record.
    key = setup_of(restored)["key"]
    secret = work / "cache" / "checkpoints" / key / "services" / ckpt.ACCOUNTS
    password = json.loads(secret.read_text())[0]["password"]
    assert oct(secret.stat().st_mode & 0o777) == "0o600"
    for out in (first, restored):
        for path in out.rglob("*"):
            if path.is_file() and path.suffix in (".json", ".jsonl", ".txt", ".html", ".log"):
                assert password not in path.read_text(errors="replace"), path


def test_an_edited_task_never_finds_the_old_checkpoint(work, first, tmp_path):
    config = parse_config({"paths": {"cache": str(work / "cache")}})
    edited = tmp_path / "task"
    shutil.copytree(TASK, edited)
    key = ckpt.key_of(ckpt.key_parts(load_task(edited), config))
    assert key == setup_of(first)["key"]  # the same files: the same key, wherever they lie
    yaml = edited / "task.yaml"
    text = yaml.read_text()
    yaml.write_text(text.replace("Keep the other ones.", "Keep the other ones, please."))
    assert yaml.read_text() != text
    assert ckpt.key_of(ckpt.key_parts(load_task(edited), config)) != key
    out = run(work, "edited", "--checkpoint", task=edited)
    assert setup_of(out)["world"] == "fresh" and setup_of(out)["key"] != key


def test_a_persona_edit_outside_the_task_folder_gives_another_key(tmp_path):
    config = parse_config({"paths": {"cache": str(tmp_path / "cache")}})
    task = tmp_path / "task"
    shutil.copytree(TASK, task)
    personas = tmp_path / "personas"
    personas.mkdir()
    persona = personas / "maya.yaml"
    shutil.copy(TASK.parents[1] / "personas" / "maya.yaml", persona)
    yaml = task / "task.yaml"
    yaml.write_text(yaml.read_text().replace("persona: maya", "persona: ../personas/maya.yaml"))
    before = ckpt.key_parts(load_task(task), config)
    text = persona.read_text()
    assert "name: Maya" in text
    persona.write_text(text.replace("name: Maya", "name: Mayа", 1))  # a Cyrillic a
    after = ckpt.key_parts(load_task(task), config)
    assert before["task_files"] == after["task_files"]  # the task folder is untouched
    assert ckpt.key_of(before) != ckpt.key_of(after)


def test_a_corrupt_checkpoint_is_a_fresh_seed_that_says_so(work, first):
    key = setup_of(first)["key"]
    folder = work / "cache" / "checkpoints" / key
    backup = work / "backup"
    shutil.copytree(folder, backup)
    try:
        # A file in the phone's snapshot changed behind the rig's back.
        victim = next(p for p in sorted((folder / "devices").rglob("*.db")) if p.is_file())
        victim.write_bytes(victim.read_bytes()[:-7] + b"garbage")
        out = run(work, "corrupt-file", "--checkpoint")
        setup = setup_of(out)
        assert setup["world"] == "fresh" and "files differ" in setup["reason"]
        assert setup["saved"] is True  # rebuilt: the next trial restores again
        assert setup_of(run(work, "after-rebuild", "--checkpoint"))["world"] == "restored"
        # The files intact but the world not the one recorded: the digest catches it.
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["digest"] = "0" * 64
        (folder / "manifest.json").write_text(json.dumps(manifest))
        setup = setup_of(run(work, "wrong-digest", "--checkpoint"))
        assert setup["world"] == "fresh" and "digest differs" in setup["reason"]
        (folder / "manifest.json").write_text("{not json")
        setup = setup_of(run(work, "bad-manifest", "--checkpoint"))
        assert setup["world"] == "fresh" and "unreadable manifest" in setup["reason"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(backup, folder)


def test_no_place_for_checkpoints_is_a_fresh_seed_that_says_so(work, tmp_path):
    # What a full disk or a read-only cache gives: the folder cannot be made.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the checkpoints would go")
    (tmp_path / "rig.toml").write_text(f'[paths]\ncheckpoints = "{blocker / "checkpoints"}"\n')
    setup = setup_of(run(tmp_path, "unavailable", "--checkpoint"))
    assert setup["world"] == "fresh" and "checkpoints unavailable" in setup["reason"], setup
    assert "saved" not in setup


def test_two_workers_race_and_build_one_checkpoint(work, tmp_path):
    cache = tmp_path / "race-cache"
    (tmp_path / "rig.toml").write_text(f'[paths]\ncache = "{cache}"\n')
    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(lambda n: run(tmp_path, n, "--checkpoint"), ["w1", "w2"]))
    setups = sorted((setup_of(o) for o in outs), key=lambda s: s["world"])
    assert [s["world"] for s in setups] == ["fresh", "restored"]
    # The restoring worker waited for the build, or came after it; the wait is in the record.
    assert all(s["lock_wait_s"] >= 0 for s in setups)
    assert setups[1]["lock_wait_s"] <= setups[1]["seconds"]
    assert setups[0]["key"] == setups[1]["key"]
    assert [e["key"] for e in ckpt.Store(cache).entries()] == [setups[0]["key"]]
    assert state(outs[0], "baseline") == state(outs[1], "baseline")


def test_cache_list_and_prune(work, first, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(work / "cache", cache)
    (tmp_path / "rig.toml").write_text(f'[paths]\ncache = "{cache}"\n')
    listed = rig("cache", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "delete-one-calendar-event" in listed.stdout
    kept = rig("cache", "prune", "--older-than", "7d", cwd=tmp_path)
    assert kept.returncode == 0 and ckpt.Store(cache).entries(), kept.stdout + kept.stderr
    bad = rig("cache", "prune", "--older-than", "soon", cwd=tmp_path)
    assert bad.returncode == 2 and "--older-than" in bad.stderr
    gone = rig("cache", "prune", cwd=tmp_path)
    assert gone.returncode == 0 and ckpt.Store(cache).entries() == [], gone.stderr


def test_suite_trials_restore_the_first_trials_world_unless_fresh(work, tmp_path):
    suite = tmp_path / "suite"
    shutil.copytree(TASK, suite / TASK.name)
    (tmp_path / "rig.toml").write_text(f'[paths]\ncache = "{tmp_path / "cache"}"\n')

    def worlds(name: str, *flags: str) -> list[str]:
        out = tmp_path / name
        args = ("suite", "run", str(suite), "--agent", "noop", "--trials", "2", "--out", str(out))
        res = rig(*args, "--workers", "2", *flags, cwd=tmp_path)
        assert res.returncode == 0, res.stdout + res.stderr
        rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
        assert all(r["setup_s"] > 0 for r in rows)
        return sorted(r["world"] for r in rows)

    assert worlds("checkpointed") == ["fresh", "restored"]
    assert worlds("fresh", "--fresh") == ["fresh", "fresh"]
