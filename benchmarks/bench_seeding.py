"""Seeding N records (contacts + SMS + calendar events) batched vs one ``adb shell`` per row.

Both paths run in one process against the same virtual phone through the real
adb server, and write the same provider rows. The batched path also reads
everything back and verifies it; the per-row path does not (so the ratio is
conservative). Prints seconds, adb round trips, round trips per record and
the ratios.

    .venv/bin/python benchmarks/bench_seeding.py [--n 1000]
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
from emulator.seeding import (
    CALENDAR,
    CONTACTS,
    MIME_NAME,
    MIME_PHONE,
    CalendarEvent,
    Contact,
    SeedPlan,
    Sms,
    _read_marks,
    apply_plan,
    insert_command,
    to_ms,
)

T0 = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)


def make_plan(n: int, tag: str) -> SeedPlan:
    third = n // 3
    return SeedPlan(
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
    """The naive path: one ``adb shell content insert`` per provider row."""
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="records per path (default 1000)")
    args = ap.parse_args()
    from emulator.sim.phone import spawn_phone

    server = AdbServer.private()
    phone = None
    try:
        phone = spawn_phone(Path(tempfile.mkdtemp(prefix="bench-seed-")))
        device = AdbAndroidDevice(server, server.connect(phone.serial))
        results = {}
        for name, run in (("per-row", per_row), ("batched", apply_plan)):
            plan = make_plan(args.n, name)
            before = device.round_trips
            t = time.perf_counter()
            run(device, plan)
            results[name] = (time.perf_counter() - t, device.round_trips - before)
        n = args.n
        print(f"seeding {n} records (contacts + SMS + events), virtual phone, adb {server.adb}")
        print(f"{'path':<10}{'seconds':>10}{'round trips':>14}{'trips/record':>15}")
        for name, (sec, trips) in results.items():
            print(f"{name:<10}{sec:>10.2f}{trips:>14}{trips / n:>15.3f}")
        (s1, r1), (s2, r2) = results["per-row"], results["batched"]
        print(
            f"ratio: {s1 / s2:.1f}x faster, {r1 / max(r2, 1):.0f}x fewer round trips "
            "(batched includes read-back verification)"
        )
    finally:
        if phone is not None:
            phone.stop()
        server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
