"""A task's world set up fresh (allocate + clock + seed + verify + baseline) against restored
from its world checkpoint (allocate + clock + restore + digest check + baseline), side by side.

    python benchmarks/bench_reset.py [--rounds 5] [TASK ...]

Runs real episodes' setup phases on virtual phones (no agent), alternating fresh and
restored so both see the same machine load; prints the medians and their ratio.
Checkpoints go to a scratch cache, never the shared one.
"""

from __future__ import annotations

import argparse
import os
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
DEFAULT = [ROOT / "tasks" / "suite" / "delete-one-calendar-event"]


def setup_seconds(task: Path, config, out: Path, checkpoint: bool) -> tuple[float, str]:
    episode = Episode(load_task(task), config, out, "bench", checkpoint=checkpoint)
    try:
        episode.setup()
        return episode.result.setup["seconds"], episode.result.setup["world"]
    finally:
        episode.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tasks", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(port)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-reset-") as tmp:
            config = parse_config({"paths": {"cache": f"{tmp}/cache"}})
            for task in args.tasks:
                build, world = setup_seconds(task, config, Path(tmp) / "build", True)
                assert world == "fresh", world
                fresh, restored = [], []
                for i in range(args.rounds):
                    s, world = setup_seconds(task, config, Path(tmp) / f"f{i}", False)
                    fresh.append(s)
                    s, world = setup_seconds(task, config, Path(tmp) / f"r{i}", True)
                    assert world == "restored", world
                    restored.append(s)
                f, r = statistics.median(fresh), statistics.median(restored)
                print(
                    f"{task.name}: fresh {f:.2f}s, restored {r:.2f}s (median of {args.rounds}), "
                    f"{f / r:.1f}x; first trial (seed + save) {build:.2f}s"
                )
    finally:
        subprocess.run(["adb", "-P", str(port), "kill-server"], capture_output=True, timeout=30)
    print("load:", Path("/proc/loadavg").read_text().strip())


if __name__ == "__main__":
    main()
