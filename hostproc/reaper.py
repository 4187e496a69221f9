"""The one reaper: stop the processes whose owner is gone, whatever their kind.

Runs call :func:`reap_orphans` when they start, so VMs, virtual phones,
emulators and service hosts that a crashed run left behind (a parent killed
with SIGKILL, a spawn from a worker thread where ``PR_SET_PDEATHSIG`` does not
hold) do not pile up. Signals go through ``psutil.Process`` objects, which
check the process's start time first: a pid reused by an unrelated process is
never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal

import psutil

from hostproc.labels import PREFIXES, labelled_processes


def _stop(procs: list[psutil.Process], grace_s: float) -> None:
    """SIGTERM (to the process group a process leads), then SIGKILL after ``grace_s``."""
    for proc in procs:
        with contextlib.suppress(psutil.Error, ProcessLookupError, PermissionError):
            if os.getpgid(proc.pid) == proc.pid and proc.is_running():
                os.killpg(proc.pid, signal.SIGTERM)  # emulators: their QEMU children too
            else:
                proc.terminate()
    _gone, alive = psutil.wait_procs(procs, timeout=grace_s)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)


def reap_orphans(
    kinds: list[str] | None = None, run_id: str | None = None, grace_s: float = 5.0
) -> list[int]:
    """Stop labelled processes of ``kinds`` (keys of :data:`PREFIXES`; all when None)
    whose owner is gone, only those of ``run_id`` when given; returns their pids."""
    prefixes = [PREFIXES[k] for k in kinds] if kinds is not None else list(PREFIXES.values())
    found = [
        f
        for f in labelled_processes(prefixes)
        if not f.owner_alive() and (run_id is None or f.run_id == run_id)
    ]
    pids = {f.pid for f in found}
    victims: list[psutil.Process] = []
    for f in found:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(f.pid)
            # A labelled child of a victim (an emulator's QEMU inherits its label) goes
            # with its parent's process group; it is not a leftover of its own.
            if proc.ppid() not in pids:
                victims.append(proc)
    _stop(victims, grace_s)
    return [p.pid for p in victims]
