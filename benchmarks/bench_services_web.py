"""The bank, shop and parcels: start time and memory per world, seeding, API latency.

Prints, from one run: time to every service healthy and the PSS of the world's
service host, for part 1 alone (mail, calendar, contacts) and for a world with
all six services side by side (median of ROUNDS starts each, alternating);
seeding 2,000 bank transactions + 200 orders (+ their parcels) with read-back
(seconds, round trips per record); and p50/p99 of a bank API call over loopback
HTTP (``GET /accounts`` and ``GET /accounts/ID/transactions?limit=50``); then one
world with all seven services (chat: Synapse) to healthy, its PSS, and seeding
1,000 chat messages with read-back.

    python benchmarks/bench_services_web.py [ROUNDS] [--no-chat]
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, installed or not

from benchmarks.bench_services import NOW, TEXT, _family, _out, _pss_kb
from rig.services.base import Account
from rig.services.stack import ServiceStack
from tasks.compile import compile_stream
from tasks.events import EVENT_ADAPTER

PART1 = ["mail", "calendar", "contacts"]
WEB = ["bank", "shop", "parcels"]
ALL = PART1 + WEB


def _account() -> list[Account]:
    return [Account("maya", ("maya@x.example",))]


def startup(rounds: int) -> None:
    times: dict[str, list[float]] = {"part 1": [], "all six": []}
    pss: dict[str, list[int]] = {"part 1": [], "all six": []}
    for _ in range(rounds):
        for label, names in (("part 1", PART1), ("all six", ALL)):
            stack = ServiceStack(names, _out(), NOW, _account())
            t0 = time.perf_counter()
            stack.start()
            times[label].append(time.perf_counter() - t0)
            pss[label].append(sum(_pss_kb(p) for p in _family(stack.process.pid)))
            stack.stop()
    for label in times:
        med, mem = statistics.median(times[label]), statistics.median(pss[label]) / 1024
        print(
            f"{label:8}: all healthy median {med * 1000:.0f} ms over {rounds} starts "
            f"(min {min(times[label]) * 1000:.0f}, max {max(times[label]) * 1000:.0f}), "
            f"PSS {mem:.1f} MB"
        )
    ratio = statistics.median(times["all six"]) / statistics.median(times["part 1"])
    extra = (statistics.median(pss["all six"]) - statistics.median(pss["part 1"])) / 1024
    print(f"all six / part 1 start time: {ratio:.2f}x; the web services add {extra:.1f} MB PSS")
    med = statistics.median(times["all six"])
    print(f"target < 3 s to healthy (parts 1 and 2): {'met' if med < 3 else 'NOT met'}")


def _stream(txns: int, orders: int) -> list:
    raw = []
    balance = 100_000.0
    for i in range(txns):
        amount = -12.34 if i % 7 else 1500.0
        balance += amount
        raw.append(
            {
                "id": f"b{i}",
                "t": (NOW - timedelta(minutes=30 * (txns - i))).isoformat(),
                "kind": "bank.transaction",
                "target": "service:bank",
                "account": "Girokonto",
                "amount": f"{amount:.2f}",
                "currency": "EUR",
                "counterparty": f"Payee {i % 150} {TEXT[:24]}",
                "reference": TEXT,
                "balance": f"{balance:.2f}",
            }
        )
    for i in range(orders):
        t = NOW - timedelta(hours=7 * (orders - i))
        raw.append(
            {
                "id": f"o{i}",
                "t": t.isoformat(),
                "kind": "shop.order",
                "target": "service:shop",
                "order_id": f"ord-{i}",
                "shop": "Nordhaus",
                "lines": [
                    {"name": f"Item {i % 40} {TEXT[:10]}", "qty": 1 + i % 2, "price": "9.99"},
                    {"name": "Batteries AA (8)", "qty": 1, "price": "4.49"},
                ],
                "currency": "EUR",
                "status": "delivered",
            }
        )
        raw.append(
            {
                "id": f"p{i}",
                "t": (t + timedelta(hours=1)).isoformat(),
                "kind": "parcel.update",
                "target": "service:parcels",
                "tracking": f"T{i:06d}",
                "carrier": "DHL",
                "status": "delivered",
                "text": TEXT,
                "order_id": f"ord-{i}",
            }
        )
    raw.sort(key=lambda r: r["t"])
    return [EVENT_ADAPTER.validate_python(r) for r in raw]


def seeding_and_latency(txns: int = 2000, orders: int = 200, calls: int = 400) -> None:
    stream = _stream(txns, orders)
    t0 = time.perf_counter()
    plans = compile_stream({}, "Europe/Berlin", stream, services=tuple(WEB), now=NOW)
    compiled = time.perf_counter() - t0
    with ServiceStack(WEB, _out(), NOW, _account()) as stack:
        records, trips, total = 0, 0, compiled
        for name, plan in plans.services.items():
            n = sum(len(rows) for rows in plan.tables.values())
            t = time.perf_counter()
            digest = stack[name].seed(plan)
            s = time.perf_counter() - t
            records, trips, total = records + n, trips + digest["round_trips"], total + s
            print(
                f"  seed {name:8} {n:5d} rows in {s:6.2f} s, {digest['round_trips']} round "
                f"trips ({digest['round_trips'] / n:.4f}/row)"
            )
        per = trips / records
        print(
            f"seeding {txns} transactions + {orders} orders + {orders} parcels = {records} rows "
            f"with read-back: {total:.2f} s (compile {compiled:.2f} s), {per:.4f} round "
            f"trips/row; target < 0.05: {'met' if per < 0.05 else 'NOT met'}"
        )
        bank = stack["bank"]
        acc = bank.request("GET", "/accounts")[1][0]["id"]
        for path in ("/accounts", f"/accounts/{acc}/transactions?limit=50"):
            lat = []
            for _ in range(calls):
                t = time.perf_counter()
                status, _body = bank.request("GET", path)
                lat.append(time.perf_counter() - t)
                assert status == 200
            lat.sort()
            p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
            shown = path.replace(acc, "ID")
            print(
                f"bank GET {shown}: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
                f"over {calls} calls (loopback HTTP, a new connection each)"
            )


def chat(messages: int = 1000) -> None:
    """Synapse: start to healthy and PSS (a world with all seven services), and seeding
    ``messages`` chat messages with read-back."""
    raw = [
        {
            "id": f"c{i}",
            "t": (NOW - timedelta(minutes=5 * (messages - i))).isoformat(),
            "kind": "chat.message",
            "target": "service:chat",
            "room": "friends" if i % 3 else "#nordhaus-team",
            "sender": f"Person {i % 12}",
            "body": f"{TEXT} #{i}",
            "outgoing": i % 5 == 0,
        }
        for i in range(messages)
    ]
    stream = [EVENT_ADAPTER.validate_python(r) for r in raw]
    plans = compile_stream({}, "Europe/Berlin", stream, services=("chat",), now=NOW)
    stack = ServiceStack([*ALL, "chat"], _out(), NOW, _account())
    t0 = time.perf_counter()
    stack.start()
    up = time.perf_counter() - t0
    try:
        family = _family(stack.process.pid)
        pss = sum(_pss_kb(p) for p in family) / 1024
        print(
            f"all seven (with chat): all healthy in {up * 1000:.0f} ms, PSS {pss:.1f} MB in "
            f"{len(family)} processes; targets < 3 s: {'met' if up < 3 else 'NOT met'}, "
            f"< 250 MB: {'met' if pss < 250 else 'NOT met'}"
        )
        t = time.perf_counter()
        digest = stack["chat"].seed(plans.services["chat"])
        s = time.perf_counter() - t
        per = digest["round_trips"] / messages
        print(
            f"seeding {messages} chat messages ({digest['rooms']} rooms, {digest['users']} "
            f"users) with read-back: {s:.2f} s, {digest['round_trips']} round trips "
            f"({per:.3f}/message); target < 0.05: {'met' if per < 0.05 else 'NOT met'}"
        )
    finally:
        stack.stop()


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 5
    print(f"load before: {Path('/proc/loadavg').read_text().split()[:3]}")
    startup(rounds)
    seeding_and_latency()
    if "--no-chat" not in sys.argv:
        chat()
    print(f"load after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
