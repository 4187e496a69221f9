"""Seeding N records (contacts + SMS + calendar events) and F files, three ways.

``per-row``: one ``adb shell content insert`` per provider row and one push per
file. ``per-file``: the batched seeding with one push per file (its fallback for
devices without ``tar``). ``archive``: the batched seeding as ``seed`` runs it,
files, SQL and script in one pushed tar. All run in one process against the same
virtual phone through the real adb server and write the same rows and files;
the batched paths also read everything back and verify it, the per-row path
does not (so its ratio is conservative). Prints seconds, adb round trips, round
trips per record and the ratios.

    .venv/bin/python benchmarks/bench_seeding.py [--n 1000] [--files 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emulator.adb import AdbServer
from emulator.device import AdbAndroidDevice
from emulator.readers import MIME_NAME, MIME_PHONE
from emulator.seeding import (
    CalendarEvent,
    Contact,
    FileItem,
    SeedPlan,
    Sms,
    _read_marks,
    apply_plan,
    insert_command,
    to_ms,
)
from emulator.seeding.records import CALENDAR, CONTACTS

T0 = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)


def make_plan(n: int, tag: str, files: int) -> SeedPlan:
    third = n // 3
    return SeedPlan(
        files=[
            FileItem(
                f"/sdcard/Documents/Notes/{tag}/note {i} 'q' $x 😀.md",
                f"# Note {i}\n\nit's $5, 50% off `now` 日本\n".encode() * 20,
                mtime=T0 + timedelta(hours=i),
            )
            for i in range(files)
        ],
        contacts=[Contact(f"{tag} Person {i}", phones=[f"+1555{i:07d}"]) for i in range(third)],
        sms=[
            Sms(f"+1555{i:07d}", f"{tag} message {i}: it's $5, 50% off 😀", T0 + timedelta(i))
            for i in range(third)
        ],
        events=[
            CalendarEvent(
                f"{tag} event {i}",
                T0 + timedelta(days=i),
                T0 + timedelta(days=i, hours=1),
                reminders=[15],
            )
            for i in range(n - 2 * third)
        ],
    )


def per_row(device: AdbAndroidDevice, plan: SeedPlan) -> None:
    """The naive path: one ``adb shell content insert`` per provider row, one push per file."""
    marks = _read_marks(device, plan)
    rid, eid = marks.raw_contact, marks.event
    for c in plan.contacts:
        rid += 1
        device.check(insert_command(f"{CONTACTS}/raw_contacts", {"_id": rid}))
        device.check(
            insert_command(
                f"{CONTACTS}/data", {"raw_contact_id": rid, "mimetype": MIME_NAME, "data1": c.name}
            )
        )
        for p in c.phones:
            device.check(
                insert_command(
                    f"{CONTACTS}/data",
                    {"raw_contact_id": rid, "mimetype": MIME_PHONE, "data1": p, "data2": 2},
                )
            )
    for s in plan.sms:
        device.check(
            insert_command(
                "content://sms",
                {"address": s.address, "body": s.body, "date": to_ms(s.date), "type": 1},
            )
        )
    for e in plan.events:
        eid += 1
        device.check(
            insert_command(
                f"{CALENDAR}/events",
                {
                    "_id": eid,
                    "calendar_id": marks.calendar_id,
                    "title": e.title,
                    "dtstart": to_ms(e.start),
                    "dtend": to_ms(e.end),
                    "eventTimezone": e.timezone,
                },
            )
        )
        for m in e.reminders:
            device.check(insert_command(f"{CALENDAR}/reminders", {"event_id": eid, "minutes": m}))
    for f in plan.files:
        device.push(f.data, f.path, mode=f.mode)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="records per path (default 1000)")
    ap.add_argument("--files", type=int, default=100, help="files per path (default 100)")
    args = ap.parse_args()
    from emulator.sim.phone import spawn_phone

    server = AdbServer.private()
    phone = None
    try:
        phone = spawn_phone(Path(tempfile.mkdtemp(prefix="bench-seed-")))
        device = AdbAndroidDevice(server, server.connect(phone.serial))
        results = {}
        paths = {
            "per-row": per_row,
            "per-file": lambda d, p: apply_plan(d, p, archive=False),
            "archive": apply_plan,
        }
        for name, run in paths.items():
            plan = make_plan(args.n, name, args.files)
            before = device.round_trips
            t = time.perf_counter()
            run(device, plan)
            results[name] = (time.perf_counter() - t, device.round_trips - before)
        n = args.n + args.files
        print(
            f"seeding {args.n} records (contacts + SMS + events) and {args.files} files, "
            f"virtual phone, adb {server.adb}"
        )
        print(f"{'path':<10}{'seconds':>10}{'round trips':>14}{'trips/record':>15}")
        for name, (sec, trips) in results.items():
            print(f"{name:<10}{sec:>10.2f}{trips:>14}{trips / n:>15.3f}")
        s3, r3 = results["archive"]
        for other in ("per-row", "per-file"):
            s1, r1 = results[other]
            print(
                f"archive vs {other}: {s1 / s3:.1f}x faster, {r1 / max(r3, 1):.0f}x fewer "
                "round trips (archive includes read-back verification)"
            )
    finally:
        if phone is not None:
            phone.stop()
        server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
