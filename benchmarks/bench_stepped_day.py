"""A stepped 8-hour day with the oracle: 16 heartbeats and 10 live events (issue #15's
target: under 2 minutes on this machine).

The day is a task written to a temporary folder: the virtual phone and the world's mail
and calendar services, a stepped clock, a heartbeat every 30 minutes from 09:00 until
17:00, and ten live events between them (four SMS through the emulator console, three
mails through SMTP, a calendar entry created and one moved through CalDAV, a file pushed
to the phone). At every beat the oracle looks at the phone (Messages, its screen's text)
and sleeps on; at the last it tells the user what the last SMS said, which the task
checks. Beside it, in the same run, the same world for one beat with no live events: the
difference is what the day itself costs (clock steps, deliveries, the looks).

    PYTHONPATH=. python benchmarks/bench_stepped_day.py
    PYTHONPATH=. python benchmarks/bench_stepped_day.py --laptop --think 3

Prints wall time per episode, the phases, beats opened, live deliveries and their
latency, and the day's agent phase against the one-beat baseline's.

With ``--laptop`` the day gets a QEMU laptop too, and it runs twice side by side: with the
stepped world pausing the VM between actions (``[clock] pause_devices``, the default) and
without. At every beat the oracle "thinks" ``--think`` seconds, then reads the laptop's
``date`` through its shell: the laptop's clock against the beat's world time, and what the
pause (and the laptop's mail/calendar sync after each clock jump) costs in wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401 - the checkout on sys.path

ROOT = Path(__file__).resolve().parents[1]

HEAD = """\
id: bench-stepped-day
title: A stepped 8-hour day
mode: proactive
surfaces: [gui]
instruction: Look after my day.
now: 2026-03-17T09:00:00+01:00
timezone: Europe/Berlin
devices: {phone: android}
services: [mail, calendar]
events:
  persona: maya
  generator: {days: 7, seed: 5, density: 0.4, noise: 0.4, conflicts: 0}
  plot:
    - {t: -1d 10:00, kind: calendar.created, target: service:calendar, event_id: standup,
       title: Standup, start: "+0d 11:00", end: "+0d 11:30"}
clock: {mode: stepped}
limits: {max_steps: 200, max_seconds: 900}
"""

DAY = """\
heartbeats: {every: 30m, until: +8h, prompt: "Heartbeat: look at my phone."}
live:
  - {t: +0d 09:20, kind: sms.received, target: phone, address: "+49 170 5550 101",
     body: "SMS 1 of 4"}
  - {t: +0d 10:05, kind: mail.received, target: service:mail, message_id: "<m1@bench.example>",
     sender: "A <a@bench.example>", to: [maya.fischer@posteo.example], subject: Mail 1, body: one}
  - {t: +0d 10:40, kind: calendar.moved, target: service:calendar, event_id: standup,
     start: "+0d 12:00", end: "+0d 12:30"}
  - {t: +0d 11:15, kind: sms.received, target: phone, address: "+49 170 5550 102",
     body: "SMS 2 of 4"}
  - {t: +0d 12:10, kind: mail.received, target: service:mail, message_id: "<m2@bench.example>",
     sender: "B <b@bench.example>", to: [maya.fischer@posteo.example], subject: Mail 2, body: two}
  - {t: +0d 13:00, kind: calendar.created, target: service:calendar, event_id: dentist,
     title: Zahnarzt, start: "+0d 16:00", end: "+0d 16:45"}
  - {t: +0d 13:50, kind: file.placed, target: phone, path: /sdcard/Download/ticket.txt,
     text: "Ticket 4711"}
  - {t: +0d 14:30, kind: sms.received, target: phone, address: "+49 170 5550 103",
     body: "SMS 3 of 4"}
  - {t: +0d 15:20, kind: mail.received, target: service:mail, message_id: "<m3@bench.example>",
     sender: "C <c@bench.example>", to: [maya.fischer@posteo.example], subject: Mail 3, body: three}
  - {t: +0d 16:10, kind: sms.received, target: phone, address: "+49 170 5550 104",
     body: "Pickup code 5531"}
checks:
  - {kind: message, keywords: [pickup], numbers: [{value: 5531}], after: "live[9]"}
"""

ONE = """\
checks:
  - {kind: message, keywords: [pickup]}
"""

DAY_ORACLE = """
def solve(env):
    while True:
        env.launch("phone", "com.google.android.apps.messaging")
        env.screen_text("phone")
        if env.beat.last:
            env.see("phone", "Pickup code 5531")
            env.notify("The last SMS: pickup code 5531.")
            return
        env.next_beat()
"""

ONE_ORACLE = """
def solve(env):
    env.launch("phone", "com.google.android.apps.messaging")
    env.screen_text("phone")
    env.notify("Nothing new; no pickup today.")
"""


LAPTOP_ORACLE = """
import json, os, time

def solve(env):
    seen = []
    while True:
        time.sleep(float(os.environ["BENCH_THINK_S"]))  # the agent thinks; the world stands
        said = float(env.shell("laptop", "date +%s.%N").stdout)
        seen.append([env.beat.at.timestamp(), said])
        env.launch("phone", "com.google.android.apps.messaging")
        env.screen_text("phone")
        if env.beat.last:
            with open(os.environ["BENCH_LAPTOP_CLOCK"], "w") as fh:
                json.dump(seen, fh)
            env.see("phone", "Pickup code 5531")
            env.notify("The last SMS: pickup code 5531.")
            return
        env.next_beat()
"""


def run(
    folder: Path, out: Path, config: Path | None = None, extra: dict | None = None
) -> tuple[float, dict]:
    env = dict(os.environ, **(extra or {}))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    cmd = [sys.executable, "-m", "rig.cli"]
    if config is not None:
        cmd += ["--config", str(config)]
    cmd += ["run", str(folder), "--agent", "oracle"]
    t0 = time.perf_counter()
    done = subprocess.run([*cmd, "--out", str(out)], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"rig run failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, json.loads((out / "score.json").read_text(encoding="utf-8"))


def write(base: Path, name: str, task: str, oracle: str) -> Path:
    folder = base / name
    folder.mkdir()
    (folder / "task.yaml").write_text(task, encoding="utf-8")
    (folder / "oracle.py").write_text(oracle, encoding="utf-8")
    return folder


def phases(score: dict) -> str:
    return ", ".join(f"{k} {v['seconds']:.1f}s" for k, v in score["phases"].items())


def laptop_day(think: float) -> None:
    """The day with a QEMU laptop, the VM paused between actions and not, side by side."""
    task = HEAD.replace("devices: {phone: android}", "devices: {phone: android, laptop: linux}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-day-") as tmp:
        base = Path(tmp)
        day = write(base, "day", task + DAY, LAPTOP_ORACLE)
        for pause in (True, False):
            config = base / f"rig-{pause}.toml"
            config.write_text(f"[clock]\npause_devices = {str(pause).lower()}\n")
            seen = base / f"clock-{pause}.json"
            extra = {"BENCH_THINK_S": str(think), "BENCH_LAPTOP_CLOCK": str(seen)}
            wall, score = run(day, base / f"out-{pause}", config, extra)
            errors = [said - world for world, said in json.loads(seen.read_text())]
            rows.append((pause, wall, score, errors))
    print(f"stepped day with a QEMU laptop, the oracle thinking {think:g} s at every beat")
    for pause, wall, score, errors in rows:
        name = "paused between actions" if pause else "not paused (re-set at each step)"
        agent = score["phases"]["agent"]["seconds"]
        print(
            f"  {name:34s} {'PASS' if score['passed'] else 'FAIL'}  wall {wall:6.1f} s  "
            f"agent {agent:6.1f} s  laptop date - world time at each beat: median "
            f"{statistics.median(errors):+7.2f} s, worst {max(errors, key=abs):+7.2f} s "
            f"({len(errors)} beats)"
        )
        stats = {k: v for k, v in score["phases"]["agent"].items() if k not in ("status",)}
        print(f"    agent phase record: {stats}")
    (_, wall_on, s_on, _), (_, wall_off, s_off, _) = rows
    agent_on, agent_off = s_on["phases"]["agent"]["seconds"], s_off["phases"]["agent"]["seconds"]
    print(
        f"  paused / not paused: wall x{wall_on / wall_off:.2f}, agent phase "
        f"x{agent_on / agent_off:.2f} ({(agent_on - agent_off) / len(rows[0][3]):+.2f} s per beat)"
    )
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"load average: {' '.join(load)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--laptop", action="store_true", help="the day with a QEMU laptop")
    parser.add_argument("--think", type=float, default=3.0, help="seconds before each beat's look")
    args = parser.parse_args()
    if args.laptop:
        laptop_day(args.think)
        return
    with tempfile.TemporaryDirectory(prefix="bench-day-") as tmp:
        base = Path(tmp)
        day = write(base, "day", HEAD + DAY, DAY_ORACLE)
        one = write(base, "one", HEAD.replace("mode: stepped", "mode: frozen") + ONE, ONE_ORACLE)
        wall_day, s_day = run(day, base / "out-day")
        wall_one, s_one = run(one, base / "out-one")
        beats = json.loads((base / "out-day" / "beats.json").read_text(encoding="utf-8"))
    live = s_day["live"]
    ok = [d for d in live if d.get("ok")]
    latency = max((d.get("latency_s") or 0.0) for d in ok) if ok else float("nan")
    agent_day = s_day["phases"]["agent"]["seconds"]
    agent_one = s_one["phases"]["agent"]["seconds"]
    print(f"stepped day: {'PASS' if s_day['passed'] else 'FAIL'} in {wall_day:.1f} s wall")
    first, last = beats[0]["world_time"][11:16], beats[-1]["world_time"][11:16]
    print(
        f"  {len(beats)} heartbeats ({first}..{last}), {len(ok)}/{len(live)} live events "
        f"delivered, slowest delivery {latency:.3f} s, {s_day['steps']} steps"
    )
    print(f"  phases: {phases(s_day)}")
    print(f"one beat, no live events: {'PASS' if s_one['passed'] else 'FAIL'} in {wall_one:.1f} s")
    print(f"  phases: {phases(s_one)}")
    print(
        f"agent phase: day {agent_day:.1f} s vs one beat {agent_one:.1f} s "
        f"(x{agent_day / agent_one:.1f}; {(agent_day - agent_one) / max(len(beats) - 1, 1):.2f} s "
        "per extra beat with its deliveries)"
    )
    print(f"target: the day under 120 s wall: {'met' if wall_day < 120 else 'NOT met'}")
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"load average: {' '.join(load)}")


if __name__ == "__main__":
    main()
