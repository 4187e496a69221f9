"""The virtual phone's calendar sync (DAVx5-style) against a world's Radicale: 500 events.

One PUT loads 500 events (a weekly series among them) into the persona's calendar; the
phone then gets its accounts over adb and syncs. Prints the first sync (500 objects down
into the calendar provider), a sync with nothing to do, and the sync one local edit
starts, side by side, with the HTTP requests each needed (from the audit log).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import _common  # noqa: F401 - the checkout on sys.path

from emulator.adb import AdbServer
from emulator.device import AdbAndroidDevice
from emulator.sim.phone import spawn_phone
from rig.service_clients import connect_devices
from rig.services.base import Account
from rig.services.stack import ServiceStack
from rig.world import World

EVENTS = 500
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def calendar(n: int) -> str:
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    for i in range(n):
        start = NOW + timedelta(hours=3 * i)
        out += [
            "BEGIN:VEVENT",
            f"UID:bench-{i}@clawrig",
            "DTSTAMP:20260301T000000Z",
            f"DTSTART:{start.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}",
            f"DTEND:{(start + timedelta(hours=1)).astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:Event {i} «Termin» 会议",
            *(["RRULE:FREQ=WEEKLY;COUNT=10"] if i % 50 == 0 else []),
            "END:VEVENT",
        ]
    return "\r\n".join([*out, "END:VCALENDAR", ""])


def requests(stack: ServiceStack) -> int:
    return len(stack["calendar"].audit())


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="clawrig-bench-sync-"))
    os.chmod(root, 0o755)
    server = AdbServer.private()
    proc = spawn_phone(root / "phone", size="720x1280", density=320)
    persona = Account("maya", ("maya@example.org",))
    try:
        with ServiceStack(["calendar"], root / "services", NOW, [persona]) as stack:
            stack["calendar"].import_collection(calendar(EVENTS))
            phone = AdbAndroidDevice(server, server.connect(proc.serial), role="phone")
            world = World(now=NOW, timezone="Europe/Berlin")
            world.add(phone)
            world.services = dict(stack.services)
            n0, t0 = requests(stack), time.perf_counter()
            connect_devices(world, "Maya")
            first, n1 = time.perf_counter() - t0, requests(stack)
            rows = phone.shell("content query --uri content://com.android.calendar/events "
                               "--projection _id | grep -c Row").stdout.strip()  # fmt: skip
            t1 = time.perf_counter()
            phone.shell("am broadcast -a android.intent.action.SYNC")
            idle, n2 = time.perf_counter() - t1, requests(stack)
            t2 = time.perf_counter()
            phone.shell(
                "content update --uri content://com.android.calendar/events/7 --bind title:s:Moved"
            )
            edit, n3 = time.perf_counter() - t2, requests(stack)
            assert rows == str(EVENTS), rows
            print(f"events on the phone after the first sync: {rows}")
            print(f"first sync, {EVENTS} events down: {first * 1000:8.0f} ms, {n1 - n0} requests")
            print(f"sync with nothing to do:          {idle * 1000:8.0f} ms, {n2 - n1} requests")
            print(f"one local edit (content update):  {edit * 1000:8.0f} ms, {n3 - n2} requests")
            print(f"first sync per event: {first * 1000 / EVENTS:.2f} ms")
            print(f"load: {Path('/proc/loadavg').read_text().strip()}")
    finally:
        proc.stop()
        server.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
