"""What the phone's shell itself costs per command, against the 1 ms budget of issue 3.

Prints from one run the median in-process ``Shell.run`` time of the commands
clients send most (adbutils, uiautomator2, seeders), the share of it spent
parsing, and seeding throughput: SMS rows per second through ``content
insert`` (one command line per row, and many rows per command line) and
through one ``sqlite3`` transaction.

    .venv/bin/python benchmarks/bench_shell.py [--rounds N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import median_ms, sim_context

from emulator.sim.providers.schema import SMS_DB
from emulator.sim.shell import Shell, parse

BUDGET_MS = 1.0
COMMANDS = [
    "true",
    "echo hi; echo X4EXIT:$?",
    "getprop ro.build.version.sdk",
    "wm size",
    "dumpsys window windows",
    "toybox md5sum /data/local/tmp/u2.jar",
    "ls -l /sdcard/Download",
    "settings get global airplane_mode_on",
    "content query --uri content://sms --projection _id:address:body --where 'type=1'",
    "content insert --uri content://sms/inbox --bind address:s:555 --bind body:s:'hi there'",
    "printf 'a\\nb\\nc\\n' | grep -c b",
    "input keyevent KEYCODE_HOME",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200)
    n = ap.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        ctx = sim_context(Path(tmp), persist_ui=False)
        ctx.vfs.write_bytes("/data/local/tmp/u2.jar", b"\0" * 3_700_000)
        for i in range(20):
            ctx.vfs.write_bytes(f"/sdcard/Download/f{i}.txt", b"x" * i)
            ctx.providers.insert("content://sms/inbox", {"address": str(i), "body": f"m{i}"})
        shell = Shell(ctx)

        def sink(_fd: int, _data: bytes) -> None:
            pass

        print(f"{'command':74} {'run ms':>7} {'parse ms':>8} {'vs 1 ms':>7}")
        for cmd in COMMANDS:
            t = median_ms(lambda c=cmd: shell.run(c, b"", sink), n)
            p = median_ms(lambda c=cmd: parse(c), n)
            print(f"{cmd[:74]:74} {t:7.3f} {p:8.4f} {t / BUDGET_MS:6.2f}x")

        rows = 500
        t0 = time.perf_counter()
        for i in range(rows):
            shell.run(
                f"content insert --uri content://sms/inbox --bind address:s:{i} "
                f"--bind body:s:'row {i}'",
                b"",
                sink,
            )
        one_per_line = rows / (time.perf_counter() - t0)
        script = "\n".join(
            f"content insert --uri content://sms/inbox --bind address:s:{i} --bind body:s:'r {i}'"
            for i in range(rows)
        )
        t0 = time.perf_counter()
        shell.run(script, b"", sink)
        one_script = rows / (time.perf_counter() - t0)
        values = ",".join(f"({i},'{i}','s {i}',1,0)" for i in range(rows))
        sql = f"BEGIN; INSERT INTO sms (date,address,body,type,read) VALUES {values}; COMMIT;"
        t0 = time.perf_counter()
        shell.run(f'sqlite3 {SMS_DB} "{sql}"', b"", sink)
        sqlite_rows = rows / (time.perf_counter() - t0)
        print()
        print(f"{'seeding ' + str(rows) + ' SMS rows':40} {'rows/s':>10} {'vs one per line':>16}")
        print(f"{'content insert, one per Shell.run':40} {one_per_line:10.0f} {1:15.1f}x")
        for label, rate in (
            ("content insert, one script", one_script),
            ("sqlite3, one transaction", sqlite_rows),
        ):
            print(f"{label:40} {rate:10.0f} {rate / one_per_line:15.1f}x")
        ctx.providers.close()


if __name__ == "__main__":
    main()
