"""Guest: set the timezone and the system clock (as root).

stdin ``[zone, epoch seconds]``; exit code 3 when the zone is unknown. Or stdin
``{"step": seconds}``: move the clock by that much from where it is *when this runs*, so
the way here (SSH, a loaded host) adds no error — how the controller trims a measured
offset. With ``"rate"`` and ``"since"`` (a reading of this clock) the step grows by
``rate`` seconds for every second this clock ran since then: a world clock that runs
``rate + 1`` times as fast as this kernel's is caught up to the moment of the step,
however long the way here took. Or stdin ``{"world": W, "mono": M, "speed": S}``: set
the clock to ``W + S x (CLOCK_MONOTONIC now - M)`` — a world clock at speed S anchored
on this guest's monotonic clock, which no step moves, so a step's own time is not lost
from the next. Both print ``[new clock, CLOCK_MONOTONIC then]``.
"""

import json
import os
import sys
import time


def set_zone(zone, root="/"):
    """Point ``/etc/localtime`` at the zone atomically; False when there is no such zone."""
    path = os.path.join(root, "usr/share/zoneinfo", zone)
    if not os.path.isfile(path):
        return False
    tmp = os.path.join(root, "etc/.localtime.clawrig")
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(path, tmp)
    os.replace(tmp, os.path.join(root, "etc/localtime"))
    with open(os.path.join(root, "etc/timezone"), "w") as f:
        f.write(zone + "\n")
    return True


def main():
    data = json.load(sys.stdin)
    if isinstance(data, dict) and "world" in data:
        mono = time.clock_gettime(time.CLOCK_MONOTONIC)
        value = float(data["world"]) + float(data["speed"]) * (mono - float(data["mono"]))
        time.clock_settime(time.CLOCK_REALTIME, value)
        print(json.dumps([value, mono]))
        return
    if isinstance(data, dict):
        mono = time.clock_gettime(time.CLOCK_MONOTONIC)
        now = time.clock_gettime(time.CLOCK_REALTIME)
        step = float(data["step"]) + float(data.get("rate", 0.0)) * (
            now - float(data.get("since", now))
        )
        time.clock_settime(time.CLOCK_REALTIME, now + step)
        print(json.dumps([now + step, mono]))
        return
    zone, epoch = data
    if not set_zone(zone):
        sys.exit(3)
    time.clock_settime(time.CLOCK_REALTIME, epoch)


if __name__ == "__main__":
    main()
