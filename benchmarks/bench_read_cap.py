"""An agent's ``read_file`` of a big file: bounded on the guest side vs reading it whole.

One restored VM holds a file of ``--mb`` MB. The agent's read (``read_file_as_user`` with
the observation cap + 1 byte, what ``Env`` does) is timed first, then the whole-file
read the agent path used before (``read_file`` without a limit), each with the growth
of this process's peak RSS. Prints both and the ratios, with the host's load average.

    .venv/bin/python benchmarks/bench_read_cap.py [--mb 300]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from linux_vm.backends import QemuBackend
from rig.config import RigConfig

CAP = 64 * 1024


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=300)
    args = parser.parse_args()
    backend = QemuBackend(RigConfig().backend_config("linux"))
    device = backend.acquire("bench", Path(tempfile.mkdtemp(prefix="clawrig-bench-")))
    try:
        made = device.exec(f"head -c {args.mb * 10**6} /dev/urandom > ~/big", timeout=300)
        assert made.exit_code == 0, made.stderr
        path = f"/home/{device.session.user}/big"
        figures = {}
        for name, read in (
            ("capped (cap+1 bytes)", lambda: device.read_file_as_user(path, CAP + 1)),
            ("whole file (before)", lambda: device.read_file(path)),
        ):
            peak, started = _peak_mb(), time.monotonic()
            data = read()
            figures[name] = (time.monotonic() - started, _peak_mb() - peak, len(data))
            del data
    finally:
        backend.release(device)
    print(f"read_file of a {args.mb} MB file on a restored VM (load {os.getloadavg()[0]:.2f})")
    for name, (seconds, grew, size) in figures.items():
        print(f"  {name:22s} {seconds:8.3f} s  peak RSS +{grew:7.1f} MB  {size:,} bytes")
    (capped_s, capped_mb, _), (whole_s, whole_mb, _) = figures.values()
    print(f"  whole / capped: {whole_s / capped_s:.0f}x the time, +{whole_mb - capped_mb:.0f} MB")


if __name__ == "__main__":
    main()
