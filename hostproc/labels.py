"""Who started a process, written on the process itself, safe against PID reuse.

A label is ``PREFIX:RUN:OWNER_PID:OWNER_START``: the kind of process
(:data:`PREFIXES`), the run that started it, and the pid and start time of its
owner (in clock ticks since boot, from ``/proc/PID/stat``). A pid alone could
name another process later; a pid with its start time cannot. A process
carries its label as a command-line argument (``-name guest=LABEL`` for QEMU,
a plain argument for a service host) or in its environment (:data:`ENV`, for
programs that take no such argument: emulators, virtual phones); children
inherit the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psutil

ENV = "CLAWRIG_LABEL"
# The kinds of process the rig starts, by label prefix.
PREFIXES = {
    "vm": "clawrig-vm",
    "phone": "clawrig-phone",
    "avd": "clawrig-avd",
    "service": "clawrig-svc",
}


def start_time(pid: int) -> str | None:
    """The process's start time as a label holds it (clock ticks since boot, the kernel's
    own figure: exact, and the form every clawrig version writes, so reapers of older and
    newer checkouts on one machine agree on who is alive); None when there is no such process.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat.rsplit(b")", 1)[1].split()[19].decode()


def owner_label(prefix: str, run_id: str) -> str:
    """``PREFIX:RUN:PID:START`` naming this process as the owner."""
    pid = os.getpid()
    return f"{prefix}:{run_id}:{pid}:{start_time(pid)}"


@dataclass(frozen=True)
class Labelled:
    """A running process and what its label says about it."""

    pid: int
    prefix: str
    run_id: str
    owner_pid: int
    owner_start: str

    def owner_alive(self) -> bool:
        return start_time(self.owner_pid) == self.owner_start


def parse(text: str) -> tuple[str, str, int, str] | None:
    """``(prefix, run, owner pid, owner start)`` of a label (``guest=`` and ``,…`` allowed)."""
    parts = text.removeprefix("guest=").split(",")[0].split(":")
    if len(parts) != 4 or not parts[0].startswith("clawrig-") or not parts[2].isdigit():
        return None
    return parts[0], parts[1], int(parts[2]), parts[3]


def labelled_processes(prefixes: str | list[str] | None = None) -> list[Labelled]:
    """Every running process with a label of one of ``prefixes`` (all kinds when None)."""
    wanted = [prefixes] if isinstance(prefixes, str) else prefixes
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "environ"]):
        if proc.pid == os.getpid():
            continue
        candidates = list(proc.info.get("cmdline") or [])
        env_label = (proc.info.get("environ") or {}).get(ENV)
        if env_label:
            candidates.append(env_label)
        for text in candidates:
            got = parse(text)
            if got is not None and (wanted is None or got[0] in wanted):
                found.append(Labelled(proc.pid, *got))
                break
    return found


OWNER_FILE = "owner"


def write_owner(directory: Path) -> None:
    """Mark ``directory`` as this process's, so leftovers of a crash can be told apart."""
    pid = os.getpid()
    (Path(directory) / OWNER_FILE).write_text(f"{pid}:{start_time(pid)}\n")


def owner_alive(path: Path) -> bool:
    """Whether the process an owner file names still runs (True when unreadable: keep it)."""
    try:
        pid, _, start = path.read_text().strip().partition(":")
        return start_time(int(pid)) == start
    except (OSError, ValueError):
        return True
