"""Guest: set the timezone and the system clock (as root).

stdin ``[zone, epoch seconds]``; exit code 3 when the zone is unknown.
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
    zone, epoch = json.load(sys.stdin)
    if not set_zone(zone):
        sys.exit(3)
    time.clock_settime(time.CLOCK_REALTIME, epoch)


if __name__ == "__main__":
    main()
