"""A world's services: time to all healthy, memory, and seeding a large stream with read-back.

Prints, from one run: the time from "this world needs mail + calendar + contacts" to
every service answering its protocol (median of ROUNDS starts, with the split
between the host's ready line and the health round trips), the PSS of the
services' processes (host, Dovecot and its children), and seeding 1,000 mails +
500 calendar entries + 300 contacts with read-back (seconds and round trips per
record), each against its target.

    python benchmarks/bench_services.py [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, installed or not

from rig.services.base import Account
from rig.services.stack import ServiceStack
from tasks.compile import compile_stream
from tasks.events import EVENT_ADAPTER

NOW = datetime(2026, 3, 16, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
NAMES = ["mail", "calendar", "contacts"]
TEXT = 'Grüße "$HOME" `id` 50% 😀 東京 — line\nand more text about the plumber quote 42,50 €'


def _out() -> Path:
    path = Path(tempfile.mkdtemp(prefix="clawrig-bench-svc-"))
    os.chmod(path, 0o755)
    return path / "services"


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _family(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True)
    children: dict[int, list[int]] = {}
    for line in out.stdout.splitlines():
        p, pp = (int(x) for x in line.split())
        children.setdefault(pp, []).append(p)
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def _cpu_ms(pid: int) -> float:
    """User + system CPU a process has used so far (what other load cannot inflate)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def startup(rounds: int) -> None:
    totals, ready, cpu = [], [], []
    for _ in range(rounds):
        stack = ServiceStack(NAMES, _out(), NOW, [Account("maya", ("maya@x.example",))])
        t0 = time.perf_counter()
        stack.start()
        totals.append(time.perf_counter() - t0)
        ready.append(stack.ready_s)
        cpu.append(_cpu_ms(stack.process.pid))
        stack.stop()
    med = statistics.median(totals)
    print(
        f"all healthy: median {med * 1000:.0f} ms over {rounds} starts "
        f"(host ready line {statistics.median(ready) * 1000:.0f} ms, "
        f"min {min(totals) * 1000:.0f}, max {max(totals) * 1000:.0f}); target < 1000 ms: "
        f"{'met' if med < 1.0 else 'NOT met'}"
    )
    print(f"  the host's own CPU to healthy: median {statistics.median(cpu):.0f} ms")


def _stream(mails: int, entries: int, people: int) -> list:
    raw = []
    for i in range(mails):
        raw.append(
            {
                "id": f"m{i}",
                "t": (NOW - timedelta(minutes=10 * i + 1)).isoformat(),
                "kind": "mail.received",
                "target": "service:mail",
                "message_id": f"<m{i}@x.example>",
                "sender": f"Sender {i} <s{i}@x.example>",
                "to": ["maya@x.example"],
                "subject": f"Subject {i} {TEXT[:20]}",
                "body": f"{TEXT}\n#{i}",
                "read": i % 3 == 0,
            }
        )
    for i in range(entries):
        start = NOW + timedelta(hours=5 * i)
        raw.append(
            {
                "id": f"c{i}",
                "t": (NOW - timedelta(days=1, minutes=i)).isoformat(),
                "kind": "calendar.created",
                "target": "service:calendar",
                "event_id": f"ev{i}",
                "title": f"Entry {i} {TEXT[:30]}",
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
                "location": "Café Kranich",
                "description": TEXT,
                "rrule": "FREQ=WEEKLY;COUNT=4" if i % 10 == 0 else None,
                "attendees": [{"name": "Jonas Fischer", "email": "jonas@x.example"}],
            }
        )
    for i in range(people):
        raw.append(
            {
                "id": f"p{i}",
                "t": (NOW - timedelta(days=2, minutes=i)).isoformat(),
                "kind": "contact.added",
                "target": "service:contacts",
                "contact_id": f"ct{i}",
                "name": f"Person {i} 张伟",
                "phones": [f"+49 30 {1000 + i}", f"+49 151 {2000 + i}"],
                "emails": [f"p{i}@x.example", f"p{i}@work.example"],
                "note": TEXT,
            }
        )
    return [
        EVENT_ADAPTER.validate_python({k: v for k, v in r.items() if v is not None}) for r in raw
    ]


def seeding(mails: int = 1000, entries: int = 500, people: int = 300) -> None:
    stream = _stream(mails, entries, people)
    t0 = time.perf_counter()
    plans = compile_stream({}, "Europe/Berlin", stream, services=tuple(NAMES), now=NOW)
    compiled = time.perf_counter() - t0
    with ServiceStack(NAMES, _out(), NOW, [Account("maya", ("maya@x.example",))]) as stack:
        family = _family(stack.process.pid)
        pss = sum(_pss_kb(p) for p in family)
        print(
            f"PSS of the world's services: {pss / 1024:.1f} MB in {len(family)} processes "
            f"(host, Dovecot and its children); target < 100 MB: "
            f"{'met' if pss < 100 * 1024 else 'NOT met'}"
        )
        total_records, total_trips, total_s = 0, 0, compiled
        for name, plan in plans.services.items():
            n = len(getattr(plan, "messages", None) or plan.events or plan.contacts)
            t = time.perf_counter()
            digest = stack[name].seed(plan)
            s = time.perf_counter() - t
            total_records += n
            total_trips += digest["round_trips"]
            total_s += s
            print(
                f"  seed {name:9} {n:5d} records in {s:6.2f} s, "
                f"{digest['round_trips']} round trips ({digest['round_trips'] / n:.4f}/record)"
            )
        family = _family(stack.process.pid)
        pss = sum(_pss_kb(p) for p in family)
        print(f"PSS after seeding: {pss / 1024:.1f} MB in {len(family)} processes")
    per = total_trips / total_records
    print(
        f"seeding {total_records} records with read-back: {total_s:.2f} s (compile "
        f"{compiled:.2f} s), {per:.4f} round trips/record; target < 0.05: "
        f"{'met' if per < 0.05 else 'NOT met'}"
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"load before: {Path('/proc/loadavg').read_text().split()[:3]}")
    startup(rounds)
    seeding()
    print(f"load after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
