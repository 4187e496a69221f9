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
from the next. Both print ``[new clock, CLOCK_MONOTONIC then, kept]``.

With ``"keep": S`` (seconds) either of those also leaves a thread in the resident root
helper that sets the clock again every S seconds by the same reckoning from the new
clock: a world clock faster than the kernel's kept within speed x S of world time with
no round trip (``kept`` says whether it runs: only a long-lived helper can hold it).
Any other request here stops it first, and ``{"unkeep": true}`` stops it alone
(read_clock.py reads the kept clock).
"""

import json
import os
import sys
import threading
import time

import __main__

MONO, REAL = time.CLOCK_MONOTONIC, time.CLOCK_REALTIME


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


class Keeper:
    """The clock kept at a speed: ``ref`` is (clock, monotonic then, speed, every), or
    None when nothing is kept. One per helper process, in ``__main__.KEPT``."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ref = None
        self.sets = 0
        self.lead = 0.0  # what a setting took last: it lands that much later than reckoned

    def now(self, ahead=0.0):
        """Where the kept clock is now, or ``ahead`` seconds from now (None when nothing
        is kept)."""
        if self.ref is None:
            return None
        clock, mono, speed, _ = self.ref
        return clock + speed * (time.clock_gettime(MONO) + ahead - mono)

    def settle(self):
        """Set the clock to the reckoning, aimed at when the setting lands (under TCG a
        ``clock_settime`` takes milliseconds: 60 times that is world time at speed 60)."""
        started = time.clock_gettime(MONO)
        time.clock_settime(REAL, self.now(self.lead))
        self.lead = time.clock_gettime(MONO) - started
        self.sets += 1

    def loop(self, ref):
        while True:
            with self.lock:
                if self.ref is not ref:  # replaced or stopped
                    return
                self.settle()
            time.sleep(ref[3])


def keeper():
    kept = getattr(__main__, "KEPT", None)
    if kept is None:  # a program of its own (no resident helper): nothing outlives it
        return None
    return kept.setdefault("clock", Keeper())


def main():
    data = json.load(sys.stdin)
    keep = keeper()
    with keep.lock if keep is not None else threading.Lock():
        mono = time.clock_gettime(MONO)
        kept_at = keep.now() if keep is not None else None  # where a kept clock is now
        if keep is not None:
            keep.ref = None  # whatever this request does, the old reckoning is over
        if not isinstance(data, dict):
            zone, epoch = data
            if not set_zone(zone):
                sys.exit(3)
            time.clock_settime(REAL, epoch)
            return
        if data.get("unkeep"):
            print(json.dumps([time.time(), mono, False]))
            return
        if "world" in data:
            value = float(data["world"]) + float(data["speed"]) * (mono - float(data["mono"]))
        elif kept_at is not None:
            # The offset was read on the kept clock (read_clock.py), which ran at the speed
            # since: correct the reckoning itself, with no catching up.
            value = kept_at + float(data["step"])
        else:
            now = time.clock_gettime(REAL)
            value = (
                now
                + float(data["step"])
                + float(data.get("rate", 0.0)) * (now - float(data.get("since", now)))
            )
        time.clock_settime(REAL, value)
        every = float(data.get("keep") or 0)
        kept = keep is not None and every > 0
        if kept:
            keep.ref = ref = (value, mono, float(data.get("speed", 1.0)), every)
            threading.Thread(target=keep.loop, args=(ref,), daemon=True).start()
        print(json.dumps([value, mono, kept]))


if __name__ == "__main__":
    main()
