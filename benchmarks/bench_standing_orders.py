"""What booking standing orders before every request costs the bank, and a year's catch-up.

Two banks side by side in this process, each the real app under uvicorn on loopback with
the same seeded account (2,000 transactions, 50 active standing orders, none due): one as
the service host runs it (due orders checked before every request), one with that check
taken out. Their calls alternate, a new connection each (as the other benchmarks do), and
the script prints p50/p99 of each and the ratio. Then the world clock jumps a year: the
first request books 50 orders x 53 weekly executions, timed beside the request after it.

    python benchmarks/bench_standing_orders.py [CALLS]
"""

from __future__ import annotations

import base64
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, installed or not

from rig.services import bank_app
from rig.services.audit import AuditLog, WorldClock, write_clock
from rig.services.base import json_round_trip
from rig.services.web_app import Db, WebContext, WebServer

NOW = datetime.fromisoformat("2026-03-16T09:00:00+01:00")
USER, PASSWORD = "maya", "bench-password"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
ORDERS, TXNS = 50, 2000


def bank(folder: Path, name: str, hook: bool) -> tuple[int, Path, Any]:
    clock_path = folder / f"{name}-clock.json"
    write_clock(clock_path, NOW, frozen=True)
    clock = WorldClock(NOW, clock_path)
    db = Db(folder / f"{name}.sqlite3", bank_app.SCHEMA)
    ctx = WebContext(name, db, clock, [{"user": USER, "password": PASSWORD}], "admin")
    app = bank_app.build(ctx, AuditLog(folder / f"{name}-audit.jsonl", clock, "bank"))
    if not hook:
        ctx.before_request = None
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO accounts VALUES ('acc', ?, 'Giro', 'DE02100100100006820101', 'EUR', ?)",
            (USER, 10**9),
        )
        conn.execute(
            "INSERT INTO payees VALUES ('pay', ?, 'Berger', 'DE89370400440532013000', ?, 1)",
            (USER, NOW.isoformat()),
        )
        for i in range(TXNS):
            t = (NOW - timedelta(hours=i)).isoformat()
            conn.execute(
                "INSERT INTO transactions (id, account_id, booked_at, amount_cents, currency, "
                "counterparty, reference, balance_cents, origin) VALUES (?,?,?,?,?,?,?,?,?)",
                (f"t{i}", "acc", t, -100, "EUR", f"Shop {i % 40}", "card", 10**9, "seed"),
            )
        for i in range(ORDERS):
            conn.execute(
                "INSERT INTO standing_orders (id, user, account_id, payee_id, amount_cents, "
                "currency, reference, interval, next_date, created_at, first_date) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (f"so{i}", USER, "acc", "pay", 100, "EUR", f"order {i}", "weekly",
                 "2026-03-17", NOW.isoformat(), "2026-03-17"),
            )  # fmt: skip
    server = WebServer(app, name)
    return server.start(), clock_path, server


def call(port: int, path: str) -> float:
    started = time.perf_counter()
    status, _ = json_round_trip("bank", port, "GET", path, None, AUTH, 30)
    assert status == 200, status
    return (time.perf_counter() - started) * 1000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(calls: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-orders-") as tmp:
        folder = Path(tmp)
        on_port, on_clock, on = bank(folder, "on", hook=True)
        off_port, _, off = bank(folder, "off", hook=False)
        try:
            for path in ("/accounts", "/accounts/acc/transactions?limit=50"):
                times: dict[str, list[float]] = {"on": [], "off": []}
                for i in range(calls):  # each goes first every other round
                    for which in ("on", "off") if i % 2 else ("off", "on"):
                        times[which].append(call(on_port if which == "on" else off_port, path))
                p50 = {k: statistics.median(v) for k, v in times.items()}
                print(
                    f"GET {path:40s} checked p50 {p50['on']:6.2f} ms p99 "
                    f"{pct(times['on'], 0.99):6.2f} | unchecked p50 {p50['off']:6.2f} ms p99 "
                    f"{pct(times['off'], 0.99):6.2f} | ratio p50 {p50['on'] / p50['off']:.2f}"
                )
            write_clock(on_clock, NOW + timedelta(days=365), frozen=True)
            first = call(on_port, "/accounts")
            second = call(on_port, "/accounts")
            _, rows = json_round_trip(
                "bank", on_port, "GET", "/accounts/acc/transactions?limit=5000", None, AUTH, 30
            )
            booked = sum(1 for r in rows if r["id"].startswith("txn-so"))
            print(
                f"a year's jump: the first request booked {booked} executions in {first:.0f} ms "
                f"({first / max(booked, 1):.3f} ms each); the next request {second:.2f} ms"
            )
        finally:
            on.stop()
            off.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
