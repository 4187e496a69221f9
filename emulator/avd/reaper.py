"""Stopping emulators a crashed run left behind, through the one reaper."""

from __future__ import annotations

from emulator.avd.launcher import Launcher
from hostproc.reaper import reap_orphans


def reap(launcher: Launcher, run_id: str | None = None) -> list[int]:
    """Stop emulators a crashed run left behind (through the one reaper,
    :mod:`hostproc.reaper`: those whose launching process is gone, of ``run_id`` when
    given), then forget every dead instance in the registry and free its ports.
    Returns the pids stopped."""
    stopped = reap_orphans(["avd"], run_id=run_id)
    for inst in launcher.registry.all():
        if (run_id is None or inst.run_id == run_id) and inst.exit_code() is not None:
            launcher.registry.remove(inst)
            launcher.ports.release(inst.console_port)
    return stopped
