"""A task's world set up fresh (allocate + clock + seed + verify + baseline) against restored
from its world checkpoint (allocate from the saved states + clock + digest check), side by side.

    python benchmarks/bench_reset.py [--rounds 5] [TASK ...]

Runs real episodes' setup phases (no agent), alternating fresh and restored so both see the
same machine load; prints the medians, their ratio and each phase's median. By default four
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


PHASES = ("allocate", "clock", "seed", "baseline")


def setup_seconds(task: Path, config, out: Path, checkpoint: bool) -> tuple[float, dict]:
    episode = Episode(load_task(task), config, out, "bench", checkpoint=checkpoint)
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
    parser.add_argument("tasks", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(port)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-reset-") as tmp:
            config = parse_config({"paths": {"checkpoints": f"{tmp}/checkpoints"}})
            for task in args.tasks:
                build, info = setup_seconds(task, config, Path(tmp) / "build", True)
                assert info["world"] == "fresh" and info.get("saved"), info
                fresh, restored, fresh_ph, restored_ph = [], [], [], []
                for i in range(args.rounds):
                    s, info = setup_seconds(task, config, Path(tmp) / f"f{i}", False)
                    fresh.append(s)
                    fresh_ph.append(info["phases"])
                    s, info = setup_seconds(task, config, Path(tmp) / f"r{i}", True)
                    if info["world"] != "restored":  # a fallback is a finding, not a figure
                        print(f"  round {i}: fell back ({info.get('reason')})", flush=True)
                        continue
                    restored.append(s)
                    restored_ph.append(info["phases"])
                if not restored:
                    print(f"{task.name}: no restore succeeded in {args.rounds} rounds", flush=True)
                    continue
                f, r = statistics.median(fresh), statistics.median(restored)
                print(
                    f"{task.name}: fresh {f:.2f}s, restored {r:.2f}s (medians of {len(fresh)} and "
                    f"{len(restored)}), "
                    f"{f / r:.1f}x; first trial (seed + save) {build:.2f}s; "
                    f"fresh {sorted(fresh)}, restored {sorted(restored)}",
                    flush=True,
                )
                for label, rows in (("fresh", fresh_ph), ("restored", restored_ph)):
                    medians = {p: statistics.median(row[p] for row in rows) for p in PHASES}
                    print(f"  {label} phases (median s): {medians}", flush=True)
                print("load:", Path("/proc/loadavg").read_text().strip(), flush=True)
    finally:
        subprocess.run(["adb", "-P", str(port), "kill-server"], capture_output=True, timeout=30)
    print("load:", Path("/proc/loadavg").read_text().strip())


if __name__ == "__main__":
    main()
