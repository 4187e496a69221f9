"""Standing orders fall due as world time passes, and the bank books them as a real bank does.

An order is due on its ``next_date`` (a date in the world's time zone): from that day on,
the next request to the bank (any route but the rig's seeding) books it before it is
answered — a debit on the payer's account to the payee with the order's reference,
booked on the execution day — and moves ``next_date`` on by the interval. Every
execution a clock jump skipped is caught up, each on its own day, all in one SQLite
transaction, so concurrent readers see each booked exactly once. A monthly order keeps
the day of its first date (the 31st pays on the 30th in April, on the 31st again in
May). It ends after ``end_date`` or when cancelled. An execution the balance does not
cover is not booked (the day is skipped, as a bank returns it) and the audit says so.
"""

from __future__ import annotations

import calendar
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

MONTHS = {"monthly": 1, "quarterly": 3, "half-yearly": 6, "yearly": 12}
INTERVALS = ("weekly", *MONTHS)
MAX_CATCH_UP = 5000  # executions per order per booking run (a 96-year weekly jump)


def parse_date(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def following(day: date, interval: str, anchor_day: int) -> date | None:
    """The execution after ``day``; a monthly one on ``anchor_day``, or the month's last."""
    if interval == "weekly":
        return day + timedelta(days=7)
    months = MONTHS.get(interval)
    if months is None:
        return None
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor_day, last))


def executions(order: dict[str, Any], today: date) -> tuple[list[date], date | None]:
    """The order's execution days up to ``today`` and the next_date after them (None when
    the order cannot run: an unknown interval or an unreadable date)."""
    day = parse_date(order["next_date"])
    if day is None or order["interval"] not in INTERVALS:
        return [], None
    first = parse_date(order.get("first_date")) or day
    end = parse_date(order.get("end_date"))
    due: list[date] = []
    while day <= today and (end is None or day <= end) and len(due) < MAX_CATCH_UP:
        due.append(day)
        nxt = following(day, order["interval"], first.day)
        if nxt is None:
            return due, None
        day = nxt
    return due, day


@dataclass
class Booking:
    order_id: str
    account_id: str
    day: date
    amount_cents: int
    transaction_id: str | None  # None: not executed
    booked_at: str
    balance_cents: int | None
    problem: str | None = None


def book_due(conn: sqlite3.Connection, now: datetime) -> list[Booking]:
    """Book every execution due by ``now`` (world time), oldest first across all orders.
    Call inside one transaction (``BEGIN IMMEDIATE``): it reads and writes as one."""
    today = now.date()
    rows = conn.execute(
        "SELECT * FROM standing_orders WHERE cancelled_at IS NULL AND next_date <= ? "
        "ORDER BY rowid",
        (today.isoformat(),),
    ).fetchall()
    plan: list[tuple[date, int, dict[str, Any]]] = []
    for position, row in enumerate(rows):
        order = dict(row)
        due, nxt = executions(order, today)
        if nxt is not None and nxt.isoformat() != order["next_date"]:
            conn.execute(
                "UPDATE standing_orders SET next_date=? WHERE id=?", (nxt.isoformat(), order["id"])
            )
        plan += [(day, position, order) for day in due]
    plan.sort(key=lambda p: (p[0], p[1]))
    return [_book(conn, order, day, now) for day, _, order in plan]


def _book(conn: sqlite3.Connection, order: dict[str, Any], day: date, now: datetime) -> Booking:
    when = datetime.combine(day, time(0), now.tzinfo)
    created = _time(order.get("created_at"))
    if created is not None and created > when:  # set up for today: it runs as it is made
        when = min(created, now)
    booked_at = when.isoformat(timespec="seconds")
    amount = int(order["amount_cents"])
    acc = conn.execute("SELECT * FROM accounts WHERE id=?", (order["account_id"],)).fetchone()
    if acc is None:
        return Booking(order["id"], order["account_id"], day, amount, None, booked_at, None,
                       "the account is gone")  # fmt: skip
    if acc["balance_cents"] < amount:
        return Booking(order["id"], acc["id"], day, amount, None, booked_at,
                       acc["balance_cents"], "insufficient funds")  # fmt: skip
    payee = conn.execute("SELECT * FROM payees WHERE id=?", (order["payee_id"],)).fetchone()
    name = payee["name"] if payee is not None else order["payee_id"]
    iban = payee["iban"] if payee is not None else None
    balance = acc["balance_cents"] - amount
    tid = f"txn-{order['id']}-{day.isoformat()}"
    conn.execute("UPDATE accounts SET balance_cents=? WHERE id=?", (balance, acc["id"]))
    conn.execute(
        "INSERT INTO transactions (id, account_id, booked_at, amount_cents, currency, "
        "counterparty, reference, balance_cents, origin, counterparty_iban) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        (tid, acc["id"], booked_at, -amount, order["currency"], name, order["reference"],
         balance, "standing_order", iban),
    )  # fmt: skip
    return Booking(order["id"], acc["id"], day, amount, tid, booked_at, balance)


def _time(text: Any) -> datetime | None:
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None
