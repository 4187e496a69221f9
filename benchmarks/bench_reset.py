"""A task's world set up fresh (allocate + clock + seed + verify + baseline) against restored
from its world checkpoint (allocate from the saved states + clock + digest check) and against
reset in place (the last trial's phones kept and loaded with the checkpoint's snapshot through
their console, laptops and services started from their saved states + clock + digest check),
side by side.

    python benchmarks/bench_reset.py [--rounds 5] [TASK ...]

A TASK is a task folder or the id of a bundled suite task.

Runs real episodes' setup phases (no agent), alternating fresh, restored and reset so all see
the same machine load; prints the medians, their ratios and each phase's median. By default four
bundled tasks: a phone only, a phone with mail, calendar and contacts, a laptop only (QEMU),
and a phone with a laptop and mail, calendar and contacts.
Checkpoints go to a scratch folder (``paths.checkpoints``); the VM image and its booted
state come from the usual cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hostproc.ports import free_port
from rig import warm
from rig.config import parse_config
from rig.episode import Episode
from tasks.folder import load_task

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "tasks" / "suite"
DEFAULT = [
    SUITE / "delete-one-calendar-event",  # phone only
    SUITE / "forward-kita-excursion-to-jonas",  # phone + mail, calendar, contacts
    SUITE / "backup-log-failed-night",  # laptop only
    SUITE / "mail-keybox-code-to-cleaner",  # phone + laptop + mail, calendar, contacts
]


def task_folder(arg: str) -> Path:
    """A task folder, or a bundled suite task's id (``tasks/suite/ID``)."""
    for path in (Path(arg), SUITE / arg):
        if (path / "task.yaml").is_file():
            return path
    raise argparse.ArgumentTypeError(f"{arg}: neither a task folder nor a suite task's id")


PHASES = ("allocate", "clock", "seed", "baseline")
KINDS = ("fresh", "restored", "reset")


def setup_seconds(
    task: Path, config, out: Path, checkpoint: bool, reuse: bool = False
) -> tuple[float, dict]:
    """One episode's setup; with ``reuse`` its world is kept for the next reuse (a suite
    worker's), and a world kept by the last one is reset in place."""
    episode = Episode(load_task(task), config, out, "bench", checkpoint=checkpoint, reuse=reuse)
    try:
        episode.setup()
        info = dict(episode.result.setup)
        phases = episode.recorder.phases
        info["phases"] = {p: (phases.get(p) or {}).get("seconds", 0.0) for p in PHASES}
        return info["seconds"], info
    finally:
        episode.close()
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tasks", nargs="*", type=task_folder, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(port)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-reset-") as tmp:
            config = parse_config({"paths": {"checkpoints": f"{tmp}/checkpoints"}})
            for task in args.tasks:
                # Built as a suite worker's first trial: its world is kept for the resets.
                build, info = setup_seconds(task, config, Path(tmp) / "build", True, True)
                assert info["world"] == "fresh" and info.get("saved"), info
                # A world without a phone keeps nothing: its next trial restores.
                kinds = KINDS if "android" in load_task(task).task.devices.values() else KINDS[:2]
                times: dict[str, list[float]] = {k: [] for k in kinds}
                phases: dict[str, list[dict]] = {k: [] for k in kinds}
                for i in range(args.rounds):
                    for kind in kinds:
                        checkpoint, reuse = kind != "fresh", kind == "reset"
                        out = Path(tmp) / f"{kind}{i}"
                        s, info = setup_seconds(task, config, out, checkpoint, reuse)
                        if info["world"] != kind:  # a fallback is a finding, not a figure
                            print(f"  round {i} {kind}: {info['world']} ({info.get('reason')})")
                            continue
                        times[kind].append(s)
                        phases[kind].append(info["phases"])
                warm.drop()
                if not all(times.values()):
                    print(f"{task.name}: a restore or reset never succeeded", flush=True)
                    continue
                med = {k: statistics.median(times[k]) for k in kinds}
                counts = "/".join(str(len(times[k])) for k in kinds)
                print(
                    f"{task.name}: "
                    + ", ".join(f"{k} {med[k]:.2f}s" for k in kinds)
                    + f" (medians of {counts}); "
                    + ", ".join(f"fresh/{k} {med['fresh'] / med[k]:.1f}x" for k in kinds[1:])
                    + f"; first trial (seed + save) {build:.2f}s; "
                    + ", ".join(f"{k} {sorted(times[k])}" for k in kinds),
                    flush=True,
                )
                for kind in kinds:
                    rows = phases[kind]
                    medians = {p: statistics.median(row[p] for row in rows) for p in PHASES}
                    print(f"  {kind} phases (median s): {medians}", flush=True)
                print("load:", Path("/proc/loadavg").read_text().strip(), flush=True)
    finally:
        warm.drop()
        subprocess.run(["adb", "-P", str(port), "kill-server"], capture_output=True, timeout=30)
    print("load:", Path("/proc/loadavg").read_text().strip())


if __name__ == "__main__":
    main()
