"""Always-on worlds: live-event latency to the device, and clock agreement over a running clock.

One world with a running clock (the virtual phone, a QEMU laptop, the mail, bank and
calendar services) and ``N`` live SMS and ``N`` live mails due a few seconds apart.
Printed from the one run, side by side against the 1 s targets of issue 15:

* **SMS to the phone** (``sms send`` on the emulator console): from due time to visible
  on the phone — the first ``content query`` of the SMS inbox over adb that shows it (host
  time, polled every 50 ms: the poll's round trip is in the figure), and the SMS's own
  ``date`` (the phone's clock when it arrived) minus its due time;
* **mail to the laptop** (SMTP to the mail service): from due time to visible in the
  laptop's IMAP session (a poller in the VM on ``mail.clawrig.world:143``, NOOP + SEARCH
  every 50 ms, stamped with the laptop's own clock);
* the live engine's own due → delivered (``live.jsonl``'s ``latency_s``);
* **clock agreement**: every device and audited service against the controller's world
  time (``rig/clock_agreement.py``) at the start and every ``--every`` seconds for
  ``--for`` seconds of running clock (default 300 s; ``--hour`` runs the hour issue 15
  names, ``--for 3600``).

With ``--speed N`` (a running clock at N world seconds per second, no live events) it
prints clock agreement alone, for ``--for`` seconds (default 60) per way of keeping the
laptop, whose kernel clock runs at real time: kept by its own root helper (the default),
then, in the same world, trimmed from the host (the keeper's rounds). The phone and the
services are read at each read, the laptop too and, every ``--sample`` seconds in
between, alone with a single read: the lag a program on it finds, side by side for the
two ways.

    python benchmarks/bench_always_on.py [--events N] [--for SECONDS | --hour] [--every S]
    python benchmarks/bench_always_on.py --speed 60 [--for 60] [--every 5] [--sample 0.1]
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, installed or not

from rig.api import TaskEnv
from rig.clock_agreement import device_offset, read_clocks, spread
from rig.clock_keeper import guest_interval
from rig.world_clock import keep_interval

NOW = datetime.fromisoformat("2026-03-16T09:00:00+01:00")
FIRST_S = 40  # the first event's offset: the world is up and the pollers are running
GAP_S = 4

TASK = """\
id: bench-always-on
title: Always-on benchmark
mode: proactive
surfaces: [cross-device]
instruction: Watch what happens.
now: {now}
timezone: Europe/Berlin
devices: {{phone: android, laptop: linux}}
services: [mail, bank, calendar]
events:
  persona: maya
  generator: {{days: 1, seed: 5}}
clock: {{mode: running}}
limits: {{max_steps: 40, max_seconds: 7200}}
live:
{live}
checks:
  - {{kind: message, keywords: [bench]}}
"""

# Runs in the laptop: the persona's IMAP session, polled; prints "subject<TAB>epoch" as each
# bench mail first shows, stamped with the laptop's clock.
LAPTOP_POLLER = r"""
import imaplib, json, sys, time
cfg = json.loads(sys.argv[1])
want = set(cfg["subjects"])
end = time.time() + cfg["timeout"]
imap = imaplib.IMAP4("mail.clawrig.world", 143)
imap.login(cfg["user"], cfg["password"])
imap.select("INBOX", readonly=True)
while want and time.time() < end:
    imap.noop()
    typ, data = imap.search(None, 'SUBJECT "bench-mail-"')
    for num in (data[0] or b"").split():
        typ, got = imap.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subject = got[0][1].decode().split(":", 1)[1].strip()
        if subject in want:
            want.discard(subject)
            print(f"{subject}\t{time.time():.3f}", flush=True)
    time.sleep(0.05)
imap.logout()
"""


def _at(seconds: float) -> str:
    return (NOW + timedelta(seconds=seconds)).isoformat()


def _task(folder: Path, n: int) -> dict[str, datetime]:
    due: dict[str, datetime] = {}
    lines = []
    for i in range(n):
        sms_t, mail_t = FIRST_S + 2 * i * GAP_S, FIRST_S + (2 * i + 1) * GAP_S
        due[f"bench-sms-{i}"] = NOW + timedelta(seconds=sms_t)
        due[f"bench-mail-{i}"] = NOW + timedelta(seconds=mail_t)
        lines.append(
            f'  - {{t: "{_at(sms_t)}", kind: sms.received, target: phone, '
            f'address: "+49 170 1234567", body: bench-sms-{i}}}'
        )
        lines.append(
            f'  - {{t: "{_at(mail_t)}", kind: mail.received, target: service:mail, '
            f'message_id: "<bench-{i}@school.example>", sender: "School <office@school.example>", '
            f"to: [maya.fischer@posteo.example], subject: bench-mail-{i}, body: Hello {i}}}"
        )
    folder.mkdir()
    text = TASK.format(now=NOW.isoformat(), live="\n".join(lines))
    (folder / "task.yaml").write_text(text, encoding="utf-8")
    (folder / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    return due


SPEED_TASK = """\
id: bench-clock-speed
title: Clock at a speed benchmark
mode: reactive
surfaces: [cross-device]
instruction: Watch the clocks.
now: {now}
timezone: Europe/Berlin
devices: {{phone: android, laptop: linux}}
services: [bank, calendar]
events:
  persona: maya
  generator: {{days: 1, seed: 5}}
clock: {{mode: running, speed: {speed}}}
limits: {{max_steps: 40, max_seconds: 7200}}
checks:
  - {{kind: message, keywords: [bench]}}
"""


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:+8.0f} ms"


_GUEST_SETS = (
    "import __main__\nk = getattr(__main__, 'KEPT', {}).get('clock')\nprint(k.sets if k else 0)"
)


def _speed_phase(env: TaskEnv, duration: float, every: float, sample: float) -> dict[str, Any]:
    """Read the clocks for ``duration`` s: all of them every ``every`` s (three reads each,
    the shortest round trip counts), the laptop alone every ``sample`` s in between."""
    world, clock = env.episode.world, env.episode.env.clock
    laptop = world["laptop"]
    rows: list[tuple[float, list[Any]]] = []
    single: list[Any] = []
    sets0 = int(laptop.privileged_python(_GUEST_SETS).stdout)
    started = time.time()
    next_read, end = started, started + duration
    while time.time() < end:
        if time.time() >= next_read:
            rows.append((time.time() - started, read_clocks(world, clock)))
            next_read += every
        single.append(device_offset("laptop", laptop, clock, samples=1))
        time.sleep(sample)
    ran = time.time() - started
    sets = int(laptop.privileged_python(_GUEST_SETS).stdout) - sets0
    return {"rows": rows, "single": single, "ran": ran, "guest_sets": sets}


def _worst(readings: list[Any]) -> str:
    # A read whose error bar is a second or more cannot tell: counted apart.
    sure = [r for r in readings if r.error_s < 1.0]
    if not sure:
        return f"no read with an error bar under 1 s ({len(readings)} reads)"
    w = max(sure, key=lambda r: abs(r.offset_s))
    return (
        f"worst |offset| {abs(w.offset_s) * 1000:.0f} ms (error bar {w.error_s * 1000:.0f} ms);"
        f" {len(sure)} of {len(readings)} reads with error bars < 1 s"
    )


def speed_bench(speed: float, duration: float, every: float, sample: float) -> int:
    """Clock agreement at a speed, in one world: the phone and the services throughout, the
    laptop kept by its own root helper (a reference measured every 30 s) and then, side
    by side, trimmed from the host by the keeper's rounds (how it was kept before)."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-clock-speed-"))
    (tmp / "task").mkdir()
    text = SPEED_TASK.format(now=NOW.isoformat(), speed=speed)
    (tmp / "task" / "task.yaml").write_text(text, encoding="utf-8")
    (tmp / "task" / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}")
    phases: dict[str, dict[str, Any]] = {}
    with TaskEnv(tmp / "task", out=tmp / "run") as env:
        env.reset()
        clock = env.episode.env.clock
        phases["guest"] = _speed_phase(env, duration, every, sample)
        clock.keep_in_guest(False)
        keeps0 = clock.keeps
        phases["host"] = _speed_phase(env, duration, every, sample)
        phases["host"]["keeps"] = clock.keeps - keeps0
        load_after = Path("/proc/loadavg").read_text().strip()
    hours = duration * speed / 3600
    print(f"clock agreement at speed {speed:g}, {duration:.0f} s of host time ({hours:.1f} world")
    print("hours) per way of keeping the laptop; offsets from world time, error bars x speed")
    ways = {
        "guest": f"laptop kept by its own helper, every {guest_interval(speed) * 1000:.1f} ms",
        "host": f"laptop trimmed from the host, every {keep_interval(speed)} s",
    }
    for way, phase in phases.items():
        rows = phase["rows"]
        names = [r.clock for r in rows[0][1]]
        print(f"{ways[way]}:")
        print("  elapsed " + "".join(f"{n:>18}" for n in names) + "   max error bar")
        for elapsed, readings in rows:
            cells = "".join(f"{_ms(r.offset_s):>18}" for r in readings)
            err = max(r.error_s for r in readings)
            print(f"  {elapsed:5.0f} s {cells}   {err * 1000:6.0f} ms")
        reads = [r for _, rs in rows for r in rs]
        print(f"  phone and services: {_worst([r for r in reads if r.clock != 'laptop'])}")
        print(f"  laptop, best of three: {_worst([r for r in reads if r.clock == 'laptop'])}")
    print(f"laptop, a single read every {sample} s (what a program on it finds):")
    print("  way     reads  error bar<1s  median lag  p90 lag  worst lag  most ahead")
    lags: dict[str, list[float]] = {}
    for way, phase in phases.items():
        sure = sorted(-b.offset_s for b in phase["single"] if b.error_s < 1.0)
        lags[way] = sure or [0.0]
        p90 = sure[int(len(sure) * 0.9)] if sure else 0.0
        median = statistics.median(lags[way])
        print(
            f"  {way:6} {len(phase['single']):6} {len(sure):13} {median:10.2f} s"
            f" {p90:7.2f} s {max(lags[way]):9.2f} s {-min(lags[way]):+10.2f} s"
        )
    g, h = phases["guest"], phases["host"]
    med = {way: max(statistics.median(v), 1e-3) for way, v in lags.items()}
    top = {way: max(max(v), 1e-3) for way, v in lags.items()}
    print(
        f"  host / guest: median lag {med['host'] / med['guest']:.1f}x,"
        f" worst lag {top['host'] / top['guest']:.1f}x"
    )
    print(
        f"  guest: {g['guest_sets'] / g['ran']:.0f} settings a second; host: the keeper's"
        f" rounds one per {h['ran'] / max(h['keeps'], 1):.2f} s"
    )
    print(f"load after: {load_after}")
    return 0


def _poll_phone(phone: Any, names: set[str], seen: dict[str, tuple[float, int]], end: float):
    """Host time of the first inbox query that shows each SMS, and the SMS's own date."""
    query = (
        "content query --uri content://sms/inbox --projection body:date "
        "--where \"body LIKE 'bench-sms-%'\""
    )
    while len(seen) < len(names) and time.time() < end:
        out = phone.shell(query, timeout=10).stdout
        now = time.time()
        for body, date in re.findall(r"body=(bench-sms-\d+), date=(\d+)", out):
            if body in names and body not in seen:
                seen[body] = (now, int(date))
        time.sleep(0.05)


def _stats(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (
        f"median {statistics.median(values) * 1000:6.0f} ms   "
        f"max {max(values) * 1000:6.0f} ms   ({len(values)})"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=5, help="live SMS and live mails (each)")
    ap.add_argument("--for", dest="duration", type=float, default=300.0, help="seconds to run")
    ap.add_argument("--hour", action="store_true", help="run the clock for an hour")
    ap.add_argument("--every", type=float, default=60.0, help="seconds between clock reads")
    ap.add_argument("--speed", type=float, default=1.0, help="clock agreement at this speed")
    ap.add_argument("--sample", type=float, default=0.1, help="--speed: between-trim reads")
    args = ap.parse_args()
    if args.speed != 1.0:
        dur = 60.0 if "--for" not in sys.argv else args.duration
        every = 5.0 if "--every" not in sys.argv else args.every
        return speed_bench(args.speed, dur, every, args.sample)
    duration = 3600.0 if args.hour else args.duration
    tmp = Path(tempfile.mkdtemp(prefix="bench-always-on-"))
    due = _task(tmp / "task", args.events)
    sms = {k for k in due if k.startswith("bench-sms-")}
    mails = sorted(k for k in due if k.startswith("bench-mail-"))
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}")
    t_boot = time.perf_counter()
    with TaskEnv(tmp / "task", out=tmp / "run") as env:
        env.reset()
        up = time.perf_counter() - t_boot
        print(f"world up (phone, QEMU laptop, mail, bank, calendar): {up:.1f} s")
        world, clock = env.episode.world, env.episode.env.clock
        started = time.time()
        last_due = max(due.values())
        deadline = clock.host_time(last_due) + 60
        phone_seen: dict[str, tuple[float, int]] = {}
        phone_poll = threading.Thread(
            target=_poll_phone, args=(world["phone"], sms, phone_seen, deadline), daemon=True
        )
        phone_poll.start()
        mail = world.services["mail"]
        cfg = {
            "subjects": mails,
            "user": mail.account.user,
            "password": mail.account.password,
            "timeout": deadline - time.time(),
        }
        laptop_out: dict[str, str] = {}

        def poll_laptop() -> None:
            cmd = f"python3 -c {shlex.quote(LAPTOP_POLLER)} {shlex.quote(json.dumps(cfg))}"
            r = world["laptop"].exec(cmd, timeout=cfg["timeout"] + 60)  # not the agent's shell
            laptop_out["stdout"], laptop_out["stderr"] = r.stdout, r.stderr

        laptop_poll = threading.Thread(target=poll_laptop, daemon=True)
        laptop_poll.start()

        agreement: list[tuple[float, list[Any]]] = [(0.0, read_clocks(world, clock))]
        next_read = started + args.every
        end = started + duration
        while time.time() < end:
            time.sleep(max(0.0, min(next_read, end) - time.time()))
            agreement.append((time.time() - started, read_clocks(world, clock)))
            next_read += args.every
        phone_poll.join(timeout=120)
        laptop_poll.join(timeout=120)
        deliveries = list(env.episode.live.deliveries)
        load_after = Path("/proc/loadavg").read_text().strip()

    seen_laptop = {}
    for line in laptop_out.get("stdout", "").splitlines():
        subject, _, stamp = line.partition("\t")
        seen_laptop[subject] = float(stamp)
    host_phone = [phone_seen[k][0] - clock.host_time(due[k]) for k in sorted(phone_seen)]
    dev_phone = [phone_seen[k][1] / 1000 - due[k].timestamp() for k in sorted(phone_seen)]
    dev_laptop = [seen_laptop[k] - due[k].timestamp() for k in sorted(seen_laptop)]
    engine = {
        kind: [d["latency_s"] for d in deliveries if d["kind"] == kind and d.get("ok")]
        for kind in ("sms.received", "mail.received")
    }
    print()
    print(f"live-event latency, due -> visible on the device ({args.events} of each; target < 1 s)")
    print(f"  SMS on the phone, first adb inbox query (host)    {_stats(host_phone)}")
    print(f"  SMS on the phone, its date - due (phone clock)     {_stats(dev_phone)}")
    print(f"  mail in the laptop's IMAP (laptop clock)           {_stats(dev_laptop)}")
    print(f"  engine due -> delivered, sms                       {_stats(engine['sms.received'])}")
    print(f"  engine due -> delivered, mail                      {_stats(engine['mail.received'])}")
    missing = sorted((sms - set(phone_seen)) | (set(mails) - set(seen_laptop)))
    if missing or laptop_out.get("stderr", "").strip():
        print(f"  NOT SEEN: {missing} {laptop_out.get('stderr', '').strip()[:300]}")
    worst = max([*host_phone, *dev_phone, *dev_laptop], default=float("nan"))
    print(f"  worst / target: {worst:.2f}")
    print()
    print(f"clock agreement over {duration:.0f} s of running clock (target < 1 s)")
    names = [r.clock for r in agreement[0][1]]
    print("  elapsed  spread   " + "  ".join(f"{n:>16}" for n in names) + "   max error bar")
    for elapsed, readings in agreement:
        by = {r.clock: r for r in readings}
        cells = "  ".join(f"{by[n].offset_s * 1000:+13.0f} ms" for n in names)
        err = max(r.error_s for r in readings) * 1000
        print(f"  {elapsed:6.0f} s {spread(readings) * 1000:5.0f} ms  {cells}   {err:5.0f} ms")
    # A read whose error bar is as wide as the target cannot tell: counted apart.
    sure = [r for _, r in agreement if max(x.error_s for x in r) < 0.5]
    worst_spread = max((spread(r) for r in sure), default=float("nan"))
    print(
        f"  worst spread / target: {worst_spread:.2f} "
        f"(reads with every error bar < 500 ms: {len(sure)} of {len(agreement)})"
    )
    print(f"load after: {load_after}")
    return 0 if not missing else 1


if __name__ == "__main__":
    sys.exit(main())
