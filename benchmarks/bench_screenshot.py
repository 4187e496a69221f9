"""Screenshot paths: raw ``screencap`` frame decoded on the host vs ``screencap -p`` (PNG).

One run, same virtual phone, through the real adb server. Prints the mean time
per capture for each path and the ratio; ``AdbAndroidDevice.screenshot``
times both on its first call and keeps the faster one per device.

    .venv/bin/python benchmarks/bench_screenshot.py [--count 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the checkout on sys.path)

from emulator.adb import AdbServer
from emulator.device import AdbAndroidDevice


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--size", default="1080x2400")
    args = ap.parse_args()
    from emulator.sim.phone import spawn_phone

    server = AdbServer.private()
    phone = None
    try:
        phone = spawn_phone(Path(tempfile.mkdtemp(prefix="bench-shot-")), size=args.size)
        device = AdbAndroidDevice(server, server.connect(phone.serial))
        device.screenshot()
        times: dict[str, list[float]] = {"raw": [], "png": []}
        for _ in range(args.count):
            for fmt in ("raw", "png"):
                t = time.perf_counter()
                img = device.screenshot(fmt)  # type: ignore[arg-type]
                times[fmt].append(time.perf_counter() - t)
        print(f"screenshot {img.size[0]}x{img.size[1]}, {args.count} captures each")
        for fmt, ts in times.items():
            print(
                f"{fmt:<5} mean {1000 * statistics.mean(ts):7.1f} ms  "
                f"median {1000 * statistics.median(ts):7.1f} ms"
            )
        ratio = statistics.mean(times["png"]) / statistics.mean(times["raw"])
        print(f"ratio: raw is {ratio:.2f}x the speed of screencap -p")
        fresh = AdbAndroidDevice(server, device.serial)
        fresh.screenshot()
        print(f"screenshot('auto') on this device picks: {fresh.screenshot_path}")
    finally:
        if phone is not None:
            phone.stop()
        server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
