"""Guest: set the timezone and the system clock (as root).

stdin ``[zone, epoch seconds]``; exit code 3 when the zone is unknown. Or stdin
``{"step": seconds}``: move the clock by that much from where it is *when this runs*, so
the way here (SSH, a loaded host) adds no error — how the controller trims a measured
offset. With ``"rate"`` and ``"since"`` (a reading of this clock) the step grows by
``rate`` seconds for every second this clock ran since then: a world clock that runs
``rate + 1`` times as fast as this kernel's is caught up to the moment of the step,
however long the way here took. Prints the clock's new time.
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
    if isinstance(data, dict):
        now = time.clock_gettime(time.CLOCK_REALTIME)
        step = float(data["step"]) + float(data.get("rate", 0.0)) * (
            now - float(data.get("since", now))
        )
        time.clock_settime(time.CLOCK_REALTIME, now + step)
        print(repr(now + step))
        return
    zone, epoch = data
    if not set_zone(zone):
        sys.exit(3)
    time.clock_settime(time.CLOCK_REALTIME, epoch)


if __name__ == "__main__":
    main()
