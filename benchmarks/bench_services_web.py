"""The world's services with chat: start time and memory, seeding, API latency per device.

Prints, from one run: time to every service healthy and the PSS of the world's
processes for part 1 alone, for all six web and part 1 services, and for all
seven with chat (Synapse), alternating (median of ROUNDS starts each); Synapse
alone from the template database and from a fresh schema, alternating; seeding
1,000 chat messages + 2,000 bank transactions + 200 orders (+ their parcels) into
one world with read-back (seconds, round trips per record), beside 200 chat
messages sent the old way (one application-service request per message); and
p50/p99 of a bank API call from the rig (loopback), from the phone's side (the
phone apps' HTTP client, :mod:`emulator.sim.webclient`, on the phone's own port)
and from the laptop (``curl`` in a restored VM, through guestfwd to the laptop's
own port; skipped with ``--no-vm``).

    python benchmarks/bench_services_web.py [ROUNDS] [--no-vm]
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, installed or not

from benchmarks.bench_services import NOW, TEXT, _family, _out, _pss_kb
from rig.services.base import Account
from rig.services.stack import ServiceStack
from tasks.compile import compile_stream
from tasks.events import EVENT_ADAPTER

PART1 = ["mail", "calendar", "contacts"]
WEB = ["bank", "shop", "parcels"]
ALL = PART1 + WEB
ROLES = ["phone", "laptop"]  # every service listens once more per device role
ROOMS = ["friends", "#nordhaus-team", "Lena Albrecht", "family", "climbing"]


def _account() -> list[Account]:
    return [Account("maya", ("maya@x.example",))]


def startup(rounds: int) -> None:
    worlds = {"part 1": PART1, "all six": ALL, "all seven": [*ALL, "chat"]}
    times: dict[str, list[float]] = {label: [] for label in worlds}
    pss: dict[str, list[int]] = {label: [] for label in worlds}
    cpu: dict[str, list[float]] = {label: [] for label in worlds}
    for _ in range(rounds):
        for label, names in worlds.items():
            stack = ServiceStack(names, _out(), NOW, _account(), clients=ROLES)
            t0 = time.perf_counter()
            stack.start()
            times[label].append(time.perf_counter() - t0)
            family = _family(stack.process.pid)
            pss[label].append(sum(_pss_kb(p) for p in family))
            cpu[label].append(sum(_cpu_s(p) for p in family))
            stack.stop()
    for label in times:
        med, mem = statistics.median(times[label]), statistics.median(pss[label]) / 1024
        print(
            f"{label:9}: all healthy median {med * 1000:.0f} ms over {rounds} starts "
            f"(min {min(times[label]) * 1000:.0f}, max {max(times[label]) * 1000:.0f}), "
            f"PSS {mem:.1f} MB, CPU to healthy {statistics.median(cpu[label]) * 1000:.0f} ms "
            f"(host and children, load-independent)"
        )
    med = statistics.median(times["all seven"])
    mem = statistics.median(pss["all seven"]) / 1024
    print(
        f"all seven / all six start time: "
        f"{med / statistics.median(times['all six']):.2f}x; targets < 3 s to healthy: "
        f"{'met' if med < 3 else 'NOT met'}, < 250 MB PSS: {'met' if mem < 250 else 'NOT met'}"
    )


def _cpu_s(pid: int) -> float:
    try:
        used = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return used.user + used.system


def synapse_alone(rounds: int) -> None:
    """Synapse to ready from the template database and from a fresh schema, alternating."""
    from rig.services.chat_server import Synapse, template_db

    template = template_db()
    got: dict[str, list[float]] = {"template": [], "fresh schema": []}
    cpu: dict[str, list[float]] = {"template": [], "fresh schema": []}
    for _ in range(rounds):
        for label, db in (("template", template), ("fresh schema", None)):
            root = Path(tempfile.mkdtemp(prefix="bench-synapse-"))
            (root / "rt").mkdir()
            synapse = Synapse(root / "state", root / "rt", [], template=db)
            t0 = time.perf_counter()
            synapse.spawn()
            try:
                synapse.wait_ready()
                got[label].append(time.perf_counter() - t0)
                assert synapse.process is not None
                used = psutil.Process(synapse.process.pid).cpu_times()
                cpu[label].append(used.user + used.system)
            finally:
                synapse.stop()
                shutil.rmtree(root, ignore_errors=True)
    for label, values in got.items():
        print(
            f"synapse alone, {label:12}: ready median {statistics.median(values) * 1000:.0f} ms "
            f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}), its CPU to "
            f"ready {statistics.median(cpu[label]) * 1000:.0f} ms (load-independent)"
        )
    ratio = statistics.median(got["fresh schema"]) / statistics.median(got["template"])
    print(f"fresh schema / template: {ratio:.2f}x")


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


def _chat_stream(messages: int, tag: str = "") -> list:
    raw = [
        {
            "id": f"c{tag}{i}",
            "t": (NOW - timedelta(minutes=5 * (messages - i))).isoformat(),
            "kind": "chat.message",
            "target": "service:chat",
            "room": f"{tag}{ROOMS[i % len(ROOMS)]}",
            "sender": f"Person {i % 12}",
            "body": f"{TEXT} #{i}",
            "outgoing": i % 5 == 0,
        }
        for i in range(messages)
    ]
    return [EVENT_ADAPTER.validate_python(r) for r in raw]


def _one_by_one(chat: Any, plan: Any) -> int:
    """The seeding before the batch module: one application-service request per message
    (after the same users and rooms, made by the module) and the same read-back; returns
    the messages sent."""
    plan_rooms = type(plan)(rooms=plan.rooms, messages=[])
    chat.seed(plan_rooms)
    ids = {m["room"]: m["room_id"] for m in _rooms(chat)}
    for n, m in enumerate(plan.messages):
        chat._ok(
            "PUT",
            f"/_matrix/client/v3/rooms/{quote(ids[m.room])}/send/m.room.message/old{n}",
            {"msgtype": "m.text", "body": m.body},
            user_id=chat.user_id(m.sender),
            ts=int(m.t.timestamp() * 1000),
        )
    chat.messages()  # the same read-back as the batch's
    return len(plan.messages)


def _rooms(chat: Any) -> list[dict[str, Any]]:
    rooms = chat._ok("GET", "/_matrix/client/v3/joined_rooms", user_id=chat.me)["joined_rooms"]
    out = []
    for rid in rooms:
        status, named = chat._call(
            "GET", f"/_matrix/client/v3/rooms/{quote(rid)}/state/m.room.name", user_id=chat.me
        )
        out.append({"room_id": rid, "room": named.get("name") if status == 200 else rid})
    return out


def seeding(txns: int = 2000, orders: int = 200, messages: int = 1000, old: int = 200) -> None:
    """Every kind into one world with chat; then ``old`` messages one request each."""
    stream = sorted([*_stream(txns, orders), *_chat_stream(messages)], key=lambda e: e.t)
    t0 = time.perf_counter()
    plans = compile_stream({}, "Europe/Berlin", stream, services=(*WEB, "chat"), now=NOW)
    compiled = time.perf_counter() - t0
    with ServiceStack([*WEB, "chat"], _out(), NOW, _account()) as stack:
        records, trips, total = 0, 0, compiled
        for name, plan in plans.services.items():
            n = len(plan.messages) if name == "chat" else sum(map(len, plan.tables.values()))
            t = time.perf_counter()
            digest = stack[name].seed(plan)
            s = time.perf_counter() - t
            records, trips, total = records + n, trips + digest["round_trips"], total + s
            print(
                f"  seed {name:8} {n:5d} records in {s:6.2f} s, {digest['round_trips']} round "
                f"trips ({digest['round_trips'] / n:.4f}/record)"
            )
        per = trips / records
        print(
            f"seeding {messages} chat messages + {txns} transactions + {orders} orders + "
            f"{orders} parcels = {records} records with read-back: {total:.2f} s (compile "
            f"{compiled:.2f} s), {trips} round trips, {per:.4f}/record; target < 0.05: "
            f"{'met' if per < 0.05 else 'NOT met'}"
        )
        side = compile_stream(
            {}, "Europe/Berlin", _chat_stream(old, "old "), services=("chat",), now=NOW
        ).services["chat"]
        batch = compile_stream(
            {}, "Europe/Berlin", _chat_stream(old, "new "), services=("chat",), now=NOW
        ).services["chat"]
        t = time.perf_counter()
        sent = _one_by_one(stack["chat"], side)
        one = time.perf_counter() - t
        before = stack["chat"].round_trips
        t = time.perf_counter()
        stack["chat"].seed(batch)
        both = time.perf_counter() - t
        print(
            f"{old} chat messages with read-back: one request each {one:.2f} s ({sent} sends) / "
            f"batch module {both:.2f} s ({stack['chat'].round_trips - before} round trips) "
            f"= {one / both:.2f}x"
        )


def latency(calls: int = 300, vm: bool = True) -> None:
    """p50/p99 of bank ``GET /accounts`` from the rig, the phone's side and the laptop."""
    from emulator.sim.accounts import DavAccount
    from emulator.sim.webclient import call

    with ServiceStack(["bank"], _out(), NOW, _account(), clients=ROLES) as stack:
        plans = compile_stream({}, "Europe/Berlin", _stream(200, 0), services=("bank",), now=NOW)
        stack["bank"].seed(plans.services["bank"])
        bank = stack["bank"]
        user, password = bank.account.user, bank.account.password
        phone = DavAccount(f"http://10.0.2.2:{bank.port_for('phone')}", user, password)
        rows = {
            "rig (loopback, a new connection each)": lambda: bank.request("GET", "/accounts")[0],
            "phone side (the apps' HTTP client, phone port)": lambda: call(
                phone, "GET", "/accounts"
            )[0],
        }
        for label, fn in rows.items():
            lat = []
            for _ in range(calls):
                t = time.perf_counter()
                assert fn() == 200
                lat.append(time.perf_counter() - t)
            _print_latency(label, lat)
        if vm:
            _print_latency("laptop (curl in the VM, guestfwd)", _laptop(stack, calls))
        clients = {r["client"] for r in bank.audit() if r["op"] == "HTTP GET"}
        print(f"audit clients of those calls: {sorted(c for c in clients if ':' not in c)}")


def _laptop(stack: ServiceStack, calls: int) -> list[float]:
    from linux_vm.backends import QemuBackend
    from rig.config import RigConfig
    from rig.service_clients import connect_devices
    from rig.world import World

    backend = QemuBackend(RigConfig().backend_config("linux"), forwards={})
    backend.prepare()
    work = Path(tempfile.mkdtemp(prefix="bench-laptop-"))
    vm = backend.acquire("laptop", work / "vm")
    try:
        world = World(now=NOW, timezone="Europe/Berlin")
        world.devices["laptop"] = vm
        world.services = dict(stack.services)
        connect_devices(world, "Maya")
        url = "http://bank.clawrig.world:8081/accounts"
        r = vm.exec(
            f"for i in $(seq {calls}); do curl -sn -o /dev/null -w '%{{http_code}} "
            f"%{{time_total}}\\n' {url}; done",
            timeout=600,
        )
        lines = [line.split() for line in r.stdout.splitlines() if line.strip()]
        assert len(lines) == calls and all(code == "200" for code, _ in lines), r.stdout[-300:]
        return [float(t) for _code, t in lines]
    finally:
        backend.release(vm)
        shutil.rmtree(work, ignore_errors=True)


def _print_latency(label: str, lat: list[float]) -> None:
    lat = sorted(lat)
    p50, p99 = lat[len(lat) // 2], lat[max(int(len(lat) * 0.99) - 1, 0)]
    print(
        f"bank GET /accounts, {label}: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
        f"over {len(lat)} calls"
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 5
    print(f"load before: {Path('/proc/loadavg').read_text().split()[:3]}")
    startup(rounds)
    synapse_alone(rounds)
    seeding()
    latency(vm="--no-vm" not in sys.argv)
    print(f"load after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
