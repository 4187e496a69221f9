"""A task's whole generated stream seeded into a virtual phone and a VM: time and round trips.

One run: generate the stream, compile it into one plan per device, freeze the
clocks, then seed (and verify) phone and laptop one after the other
(``--concurrent`` seeds both at once, as an episode's setup does: on a 2-core
machine the virtual phone and TCG then compete for the cores).
Round trips are counted where they happen: adb requests through
``AdbAndroidDevice`` (its ``round_trips`` counter); SSH commands and programs
sent to the guest's root python helper (``SshSession.exec`` and
``GuestPython.run`` calls, observed by wrappers). Prints events/s, round trips
per event and the figures against issue 8's targets (under 60 s, fewer than
0.05 round trips per event).

``--phone-only`` boots no VM: it seeds the phone's plan into two fresh virtual
phones, once as one archive (what ``seed`` does when the device has ``tar``) and
once with one push per file (the fallback for devices without it), and prints
both side by side.

    .venv/bin/python benchmarks/bench_seed_stream.py [--task PATH] [--concurrent]
    .venv/bin/python benchmarks/bench_seed_stream.py --phone-only
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emulator.adb import AdbServer
from emulator.device import AdbAndroidDevice
from emulator.seeding import apply_plan
from emulator.sim.phone import spawn_phone
from linux_vm.backends import QemuBackend
from linux_vm.helper import GuestPython
from linux_vm.ssh import SshSession
from rig.config import RigConfig
from tasks.compile import compile_plans
from tasks.folder import load_task

ROOT = Path(__file__).resolve().parents[1]
TASK = ROOT / "tests" / "tasks" / "fixtures" / "mail-to-calendar"
TARGET_S, TARGET_RT = 60.0, 0.05


def count_calls(cls: type, name: str, counter: list[int]) -> None:
    real = getattr(cls, name)

    def counted(self: Any, *a: Any, **kw: Any) -> Any:
        counter[0] += 1
        return real(self, *a, **kw)

    setattr(cls, name, counted)


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def phone_paths(loaded: Any, plan: Any, events: int) -> None:
    """The phone's plan seeded into two fresh phones: one archive vs one push per file."""
    server = AdbServer.private()
    work = Path(tempfile.mkdtemp(prefix="bench-seed-phone-"))
    rows = []
    try:
        for name, archive in (("per-file", False), ("archive", True)):
            proc = spawn_phone(work / name, size="720x1280", density=320)
            try:
                phone = AdbAndroidDevice(server, server.connect(proc.serial), role=loaded.phone)
                phone.set_clock(loaded.task.now, loaded.task.timezone)
                before = phone.round_trips
                digest, sec = timed(lambda p=phone, a=archive: apply_plan(p, plan, archive=a))
                assert digest["file_transfer"] == name
                rows.append((name, sec, phone.round_trips - before))
            finally:
                proc.stop()
    finally:
        server.kill()
    print(
        f"phone {loaded.phone}: {events} events, {len(plan.files)} files, "
        f"{len(plan.all_app_rows())} app databases; seeded and verified by read-back"
    )
    print(f"{'path':10} {'seconds':>8} {'events/s':>9} {'adb round trips':>16} {'per event':>10}")
    for name, sec, trips in rows:
        print(f"{name:10} {sec:8.2f} {events / sec:9.0f} {trips:16d} {trips / events:10.4f}")
    (_, s1, r1), (_, s2, r2) = rows
    print(
        f"archive vs per-file: {s1 / s2:.2f}x the speed, {r1 / r2:.0f}x fewer round trips; "
        f"target under {TARGET_RT} round trips/event -> {r2 / events:.4f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--task", type=Path, default=TASK)
    ap.add_argument("--concurrent", action="store_true", help="seed both devices at once")
    ap.add_argument(
        "--phone-only", action="store_true", help="no VM: the phone's archive vs per-file paths"
    )
    args = ap.parse_args()

    loaded = load_task(args.task)
    stream, gen_s = timed(loaded.stream)
    plans, compile_s = timed(compile_plans, loaded, stream)
    per_role = {role: 0 for role in plans}
    for e in stream:
        if e.target in per_role:
            per_role[e.target] += 1
    seeded = sum(per_role.values())
    phone_role, laptop_role = loaded.phone, loaded.laptop
    if args.phone_only:
        if phone_role is None:
            sys.exit(f"{args.task}: the benchmark needs a phone role")
        print(
            f"task {loaded.task.id}: {len(stream)} events, generated in {gen_s:.1f} s, "
            f"compiled in {compile_s:.1f} s"
        )
        phone_paths(loaded, plans[phone_role], per_role[phone_role])
        return
    if phone_role is None or laptop_role is None:
        sys.exit(f"{args.task}: the benchmark needs a phone and a laptop role")

    server = AdbServer.private()
    backend = QemuBackend(RigConfig().backend_config("linux"), progress=lambda _m: None)
    work = Path(tempfile.mkdtemp(prefix="bench-seed-"))
    phone_proc = spawn_phone(work / "phone", size="720x1280", density=320)
    laptop = None
    try:
        phone = AdbAndroidDevice(server, server.connect(phone_proc.serial), role=phone_role)
        backend.prepare()
        laptop, restore_s = timed(backend.acquire, laptop_role, work / "laptop")
        # Counted on the classes (a reconnected session is a new object): one SSH
        # command each, or one program sent to the guest's persistent root python.
        ssh_calls = [0]
        count_calls(SshSession, "exec", ssh_calls)
        count_calls(GuestPython, "run", ssh_calls)
        phone.set_clock(loaded.task.now, loaded.task.timezone)
        laptop.set_clock(loaded.task.now, loaded.task.timezone)
        adb0, ssh0 = phone.round_trips, ssh_calls[0]

        jobs = {phone_role: phone, laptop_role: laptop}
        seconds: dict[str, float] = {}

        def seed(role: str) -> dict[str, Any]:
            result, seconds[role] = timed(jobs[role].seed, plans[role])
            return result

        t0 = time.perf_counter()
        if args.concurrent:
            with ThreadPoolExecutor(len(jobs)) as pool:
                for f in [pool.submit(seed, role) for role in jobs]:
                    f.result()
        else:
            for role in jobs:
                seed(role)
        wall = time.perf_counter() - t0
        adb = phone.round_trips - adb0
        ssh = ssh_calls[0] - ssh0
    finally:
        if laptop is not None:
            backend.release(laptop)
        phone_proc.stop()
        server.kill()

    mode = "concurrently" if args.concurrent else "one after the other"
    rt = (adb + ssh) / seeded
    print(
        f"task {loaded.task.id}: {len(stream)} events ({seeded} to devices, "
        f"{len(plans.skipped)} skipped), generated in {gen_s:.1f} s, compiled in {compile_s:.1f} s"
    )
    print(f"VM restore {restore_s:.1f} s (not counted); seeding {mode}, verified by read-back")
    print(
        f"{'device':8} {'events':>7} {'seconds':>8} {'events/s':>9} {'round trips':>12} "
        f"{'per event':>10}"
    )
    for role, n, trips in (
        (phone_role, per_role[phone_role], adb),
        (laptop_role, per_role[laptop_role], ssh),
    ):
        kind = "adb" if role == phone_role else "ssh"
        print(
            f"{role:8} {n:7d} {seconds[role]:8.1f} {n / seconds[role]:9.0f} "
            f"{trips:8d} {kind} {trips / n:10.4f}"
        )
    print(f"{'total':8} {seeded:7d} {wall:8.1f} {seeded / wall:9.0f} {adb + ssh:12d} {rt:10.4f}")
    print(
        f"target: under {TARGET_S:.0f} s -> {wall:.1f} s ({TARGET_S / wall:.2f}x); "
        f"under {TARGET_RT} round trips/event -> {rt:.4f} ({TARGET_RT / rt:.1f}x)"
    )
    print(f"with generation and compiling: {gen_s + compile_s + wall:.1f} s")


if __name__ == "__main__":
    main()
