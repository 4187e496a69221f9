"""`rig vm ...` as a user runs it: real subprocesses, real VMs, real exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from hostproc.labels import labelled_processes
from linux_vm.qemu import LABEL, reap_orphans, runtime_dir

pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow]


def rig(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rig.cli", *args], capture_output=True, timeout=timeout
    )


def owned_by(pid: int) -> list[int]:
    return [q.pid for q in labelled_processes(LABEL) if q.owner_pid == pid]


def test_image_build_reuses_the_cached_image(vm_backend):
    out = rig("vm", "image", "build")
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().strip() == str(vm_backend.image().path)
    assert b"already built" in out.stderr


def test_exec_prints_output_and_exits_with_the_commands_code(vm_backend):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rig.cli",
            "vm",
            "exec",
            "-q",
            "--",
            "printf 'out \\xe2\\x9c\\x93\\n'; echo err >&2; exit 7",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 7, stderr
    assert stdout == "out ✓\n".encode()
    assert stderr.endswith(b"err\n")
    assert owned_by(proc.pid) == []


def test_exec_quotes_several_words(vm_backend):
    out = rig("vm", "exec", "-q", "--", "printf", "%s|", "a b", "$HOME", "`x`")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"a b|$HOME|`x`|"


def test_killed_cli_leaves_no_qemu_behind(vm_backend):
    proc = subprocess.Popen(
        [sys.executable, "-m", "rig.cli", "vm", "exec", "-q", "--", "sleep 300"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not owned_by(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    qemus = owned_by(proc.pid)
    assert qemus, "the CLI never started its VM"
    runs = [runtime_dir(q.run_id) for q in labelled_processes(LABEL) if q.owner_pid == proc.pid]
    workdirs = [
        d
        for d in Path(tempfile.gettempdir()).glob("clawrig-vm-*")
        if (d / "owner").is_file() and (d / "owner").read_text().startswith(f"{proc.pid}:")
    ]
    assert runs and all(r.exists() for r in runs) and len(workdirs) == 1
    time.sleep(1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 15
    while any(os.path.exists(f"/proc/{p}") for p in qemus) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{p}") for p in qemus)
    # What the killed CLI could not clean up, the next reaper run does once it is old
    # enough (aged here; a zero grace could race with other suites starting VMs).
    for leftover in [*runs, *workdirs]:
        os.utime(leftover, (time.time() - 3600, time.time() - 3600))
    reap_orphans()
    assert not any(r.exists() for r in runs) and not workdirs[0].exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["vm", "exec", "--accel", "warp", "--", "true"], b"--accel"),
        (["vm", "exec"], b"give the command"),
        (["vm", "image", "build", "--name", "../x"], b"image name"),
    ],
)
def test_bad_input_is_exit_2_without_traceback(args, message):
    out = rig(*args, timeout=60)
    assert out.returncode == 2, out
    assert message in out.stderr
    assert b"Traceback" not in out.stderr


def test_shell_runs_a_session_on_a_throwaway_vm(vm_backend):
    proc = subprocess.run(
        [sys.executable, "-m", "rig.cli", "vm", "shell"],
        input=b"echo hi-from-shell; hostname; exit 4\n",
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 4, proc.stderr
    assert b"hi-from-shell\nlaptop\n" in proc.stdout
