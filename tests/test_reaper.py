"""The one reaper (hostproc.reaper): every kind of process the rig starts, PID reuse."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from hostproc.labels import ENV, PREFIXES, labelled_processes, owner_label, parse, start_time
from hostproc.reaper import reap_orphans

SLEEPER = "import signal, time; time.sleep(120)"


def _dead_owner() -> tuple[int, str]:
    """The pid and start time of a process that has exited."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    start = start_time(p.pid)
    p.wait()
    assert start is not None
    return p.pid, start


def _spawn(label: str, in_env: bool) -> subprocess.Popen:
    """A stand-in of a rig process carrying ``label`` the way its kind carries it."""
    if in_env:
        cmd, env = [sys.executable, "-c", SLEEPER], {**os.environ, ENV: label}
    else:
        cmd, env = [sys.executable, "-c", SLEEPER, f"guest={label},process=x"], None
    return subprocess.Popen(cmd, env=env, start_new_session=True)


# How each kind carries its label: QEMU and service hosts on the command line,
# emulators and virtual phones in the environment.
CARRIERS = {"vm": False, "service": False, "avd": True, "phone": True}


def _wait_labelled(procs: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + 10
    while {p.pid for p in procs} - {f.pid for f in labelled_processes()}:
        assert time.monotonic() < deadline, "labelled processes not found"
        time.sleep(0.05)


def test_stops_orphans_of_every_kind_and_spares_the_living_owners() -> None:
    run = uuid.uuid4().hex[:12]
    dead_pid, dead_start = _dead_owner()
    orphans = {
        kind: _spawn(f"{PREFIXES[kind]}:{run}:{dead_pid}:{dead_start}", in_env)
        for kind, in_env in CARRIERS.items()
    }
    mine = {
        kind: _spawn(owner_label(PREFIXES[kind], run), in_env) for kind, in_env in CARRIERS.items()
    }
    everyone = [*orphans.values(), *mine.values()]
    try:
        _wait_labelled(everyone)
        found = {f.pid: f for f in labelled_processes()}
        for kind, proc in orphans.items():
            assert found[proc.pid].prefix == PREFIXES[kind] and not found[proc.pid].owner_alive()
        assert all(found[p.pid].owner_alive() for p in mine.values())
        stopped = reap_orphans(run_id=run)
        assert sorted(stopped) == sorted(p.pid for p in orphans.values())
        assert not any(psutil.pid_exists(p.pid) for p in orphans.values())
        assert all(p.poll() is None for p in mine.values())
    finally:
        for p in everyone:
            p.kill()
            p.wait()


def test_a_reused_pid_is_not_its_owner() -> None:
    """A label naming a live pid with another start time: that pid was reused, the owner is gone."""
    run = uuid.uuid4().hex[:12]
    orphan = _spawn(f"{PREFIXES['vm']}:{run}:{os.getpid()}:1", in_env=False)
    try:
        _wait_labelled([orphan])
        assert reap_orphans(["vm"], run_id=run) == [orphan.pid]
        assert orphan.wait(10) is not None
    finally:
        orphan.kill()
        orphan.wait()


def test_kinds_limit_the_reaper() -> None:
    run = uuid.uuid4().hex[:12]
    dead_pid, dead_start = _dead_owner()
    phone = _spawn(f"{PREFIXES['phone']}:{run}:{dead_pid}:{dead_start}", in_env=True)
    try:
        _wait_labelled([phone])
        assert reap_orphans(["vm", "service"], run_id=run) == []
        assert phone.poll() is None
        assert reap_orphans(["phone"], run_id=run) == [phone.pid]
    finally:
        phone.kill()
        phone.wait()


def test_a_process_that_ignores_sigterm_is_killed() -> None:
    run = uuid.uuid4().hex[:12]
    dead_pid, dead_start = _dead_owner()
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)",
            f"{PREFIXES['service']}:{run}:{dead_pid}:{dead_start}",
        ],
        start_new_session=True,
    )
    try:
        _wait_labelled([stubborn])
        time.sleep(0.3)  # let it install the handler
        assert reap_orphans(["service"], run_id=run, grace_s=0.5) == [stubborn.pid]
        # SIGTERM changed nothing; it is gone (waited for by the reaper) all the same.
        assert not psutil.pid_exists(stubborn.pid)
    finally:
        stubborn.kill()
        stubborn.wait()


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("clawrig-vm:abc:12:34.50", ("clawrig-vm", "abc", 12, "34.50")),
        ("guest=clawrig-vm:abc:12:34.50,process=clawrig-vm", ("clawrig-vm", "abc", 12, "34.50")),
        ("clawrig-vm:abc:x:34.50", None),
        ("someone-else:abc:12:34", None),
        ("-name", None),
    ],
)
def test_label_parsing(text: str, parsed: tuple | None) -> None:
    assert parse(text) == parsed


def test_start_time_tells_processes_apart() -> None:
    ticks = int(start_time(os.getpid()) or 0)
    boot = psutil.boot_time()
    assert abs(boot + ticks / os.sysconf("SC_CLK_TCK") - psutil.Process().create_time()) < 1
    pid, _start = _dead_owner()
    assert start_time(pid) is None or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_kept_phones_folders_of_a_killed_worker_are_removed_and_the_living_are_kept(
    tmp_path, monkeypatch
) -> None:
    from rig import warm

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    made = "from rig import warm; print(warm.new_scratch(), flush=True)"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    worker = subprocess.run(  # a worker that made its folder and then was gone
        [sys.executable, "-c", made], env=env, capture_output=True, text=True, check=True
    )
    dead = tmp_path / os.path.basename(worker.stdout.strip())
    (dead / "phone").mkdir()
    mine = warm.new_scratch()
    half_made = tmp_path / f"{warm.SCRATCH_PREFIX}nowner"  # no owner file yet: left alone
    half_made.mkdir()
    assert dead.is_dir() and mine.parent == tmp_path
    assert warm.remove_stale_scratch() == [dead]
    assert not dead.exists() and mine.is_dir() and half_made.is_dir()
