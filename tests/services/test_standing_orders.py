"""Standing orders book as world time reaches their dates: the bank's real uvicorn on loopback,
its world clock moved through the anchor file the controller writes (stepped and running)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from rig.services.audit import read_audit, write_clock
from rig.services.stack import ServiceStack
from rig.services.standing_orders import executions, following
from tests.services.conftest import NOW, accounts

pytestmark = pytest.mark.integration
ACC = "acc-giro"
OPENING = 1_000_000  # 10,000.00 EUR


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@contextlib.contextmanager
def seeded_bank(out_dir: Path, options: dict | None = None) -> Iterator[tuple]:
    """The bank at NOW with Maya's Girokonto and her landlord as a payee."""
    with ServiceStack(["bank"], out_dir, NOW, accounts(), options=options) as stack:
        step(stack, NOW)
        svc = stack["bank"]
        tables = {
            "accounts": [{"id": ACC, "user": "maya", "name": "Girokonto",
                          "iban": "DE02100100100006820101", "currency": "EUR",
                          "balance_cents": OPENING}],
            "payees": [{"id": "pay-rent", "user": "maya", "name": "Hausverwaltung Berger",
                        "iban": "DE89370400440532013000", "created_at": "2025-01-01T10:00:00+01:00",
                        "verified": 1}],
        }  # fmt: skip
        status, body = svc.request("POST", "/_rig/seed", {"tables": tables}, admin=True)
        assert status == 200, body
        yield stack, svc


@pytest.fixture
def bank(out_dir: Path) -> Iterator[tuple]:
    with seeded_bank(out_dir) as seeded:
        yield seeded


def step(stack: ServiceStack, world: datetime) -> None:
    write_clock(stack.clock_path, world, frozen=True)


def order(svc, first: str, interval: str = "monthly", amount: str = "850.00", **more) -> dict:
    body = {"from_account": ACC, "payee_id": "pay-rent", "amount": amount,
            "reference": "Miete Whg 3 ✓ \"$HOME\"", "interval": interval, "first_date": first,
            **more}  # fmt: skip
    status, answer = svc.request("POST", "/standing-orders", body)
    assert status == 201, answer
    return answer


def booked(svc) -> list[dict]:
    status, rows = svc.request("GET", f"/accounts/{ACC}/transactions?limit=5000")
    assert status == 200, rows
    return [r for r in rows if r["id"].startswith("txn-so-")]


def balance(svc) -> float:
    return svc.request("GET", f"/accounts/{ACC}")[1]["balance"]


def orders(svc) -> dict[str, dict]:
    return {o["id"]: o for o in svc.request("GET", "/standing-orders")[1]}


def test_an_order_books_once_when_its_day_is_reached(bank):
    stack, svc = bank
    so = order(svc, "2026-03-17")
    assert so["next_date"] == "2026-03-17" and so["status"] == "active"
    step(stack, _at("2026-03-16T23:59:59+01:00"))
    assert booked(svc) == [] and balance(svc) == 10_000.00  # not yet

    step(stack, _at("2026-03-17T08:30:00+01:00"))
    for _ in range(3):  # every reader after the day: the same single booking
        (txn,) = booked(svc)
        assert balance(svc) == 9_150.00
    assert txn["amount"] == -850.00 and txn["balance_after"] == 9_150.00
    assert txn["counterparty"] == "Hausverwaltung Berger"
    assert txn["counterparty_iban"] == "DE89370400440532013000"
    assert txn["reference"] == 'Miete Whg 3 ✓ "$HOME"'
    assert _at(txn["booked_at"]) == _at("2026-03-17T00:00:00+01:00")  # on its day
    assert orders(svc)[so["id"]]["next_date"] == "2026-04-17"

    # The rig's state reader (what checks read) and the audit log agree.
    rows = svc.read_state({"kind": "rows", "table": "transactions"})
    assert [r["origin"] for r in rows if r["id"] == txn["id"]] == ["standing_order"]
    lines = [r for r in svc.read_state({"kind": "audit"}) if r["op"] == "STANDING ORDER"]
    assert len(lines) == 1 and lines[0]["status"] == "booked"
    assert lines[0]["transaction"] == txn["id"] and lines[0]["execution_date"] == "2026-03-17"
    assert _at(lines[0]["t"]) == _at("2026-03-17T08:30:00+01:00")  # noticed at world time


def test_missed_executions_catch_up_each_on_its_day_month_ends_kept(bank):
    stack, svc = bank
    so = order(svc, "2026-03-31")
    step(stack, _at("2026-07-02T12:00:00+01:00"))
    rows = sorted(booked(svc), key=lambda r: r["booked_at"])
    assert [r["booked_at"][:10] for r in rows] == [
        "2026-03-31",
        "2026-04-30",  # a 30-day month: its last day
        "2026-05-31",  # and the 31st again
        "2026-06-30",
    ]
    assert [r["balance_after"] for r in rows] == [9150.0, 8300.0, 7450.0, 6600.0]
    assert balance(svc) == 6_600.00
    assert orders(svc)[so["id"]]["next_date"] == "2026-07-31"


def test_an_ended_or_cancelled_order_stops(bank):
    stack, svc = bank
    weekly = order(svc, "2026-03-17", "weekly", "20.00", end_date="2026-03-31")
    gone = order(svc, "2026-03-18", "monthly", "5.00")
    status, _ = svc.request("DELETE", f"/standing-orders/{gone['id']}")
    assert status == 200
    step(stack, _at("2026-05-01T09:00:00+01:00"))
    days = sorted(r["booked_at"][:10] for r in booked(svc))
    assert days == ["2026-03-17", "2026-03-24", "2026-03-31"]
    now = orders(svc)
    assert now[weekly["id"]]["status"] == "ended" and now[gone["id"]]["status"] == "cancelled"
    step(stack, _at("2026-09-01T09:00:00+01:00"))
    assert len(booked(svc)) == 3 and balance(svc) == 10_000.00 - 60.00


def test_a_cancelled_order_keeps_what_fell_due_before_the_cancel(bank):
    stack, svc = bank
    so = order(svc, "2026-03-20", "weekly", "10.00")
    step(stack, _at("2026-03-28T10:00:00+01:00"))
    svc.request("DELETE", f"/standing-orders/{so['id']}")  # 20th and 27th were due first
    step(stack, _at("2026-04-28T10:00:00+01:00"))
    assert sorted(r["booked_at"][:10] for r in booked(svc)) == ["2026-03-20", "2026-03-27"]


def test_concurrent_readers_book_each_execution_once(bank):
    stack, svc = bank
    order(svc, "2026-03-17", "weekly", "1.00")
    order(svc, "2026-03-31", "monthly", "2.00")
    step(stack, _at("2027-03-16T09:00:00+01:00"))  # a year: 53 + 12 executions
    paths = ["/accounts", f"/accounts/{ACC}/transactions", "/standing-orders", "/payees"]
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def reader(i: int) -> None:
        try:
            barrier.wait(10)
            if i % 5 == 0:
                svc.request("GET", "/_rig/state", admin=True)
            else:
                assert svc.request("GET", paths[i % len(paths)])[0] == 200
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    rows = booked(svc)
    assert len(rows) == len({r["id"] for r in rows}) == 53 + 12
    assert balance(svc) == pytest.approx(10_000.00 - 53 * 1.00 - 12 * 2.00)
    lines = [r for r in read_audit(stack.audit_path("bank")) if r["op"] == "STANDING ORDER"]
    assert len(lines) == 65


def test_a_running_clock_books_when_midnight_passes(bank):
    stack, svc = bank
    step(stack, _at("2026-03-16T23:59:58+01:00"))
    order(svc, "2026-03-17", "monthly", "12.34")
    write_clock(stack.clock_path, _at("2026-03-16T23:59:58+01:00"), frozen=False)
    assert booked(svc) == []
    deadline = time.monotonic() + 20
    while not booked(svc) and time.monotonic() < deadline:
        time.sleep(0.2)
    (txn,) = booked(svc)
    assert _at(txn["booked_at"]) == _at("2026-03-17T00:00:00+01:00")
    assert balance(svc) == 10_000.00 - 12.34


def test_an_order_starting_today_runs_as_it_is_made(bank):
    _, svc = bank
    so = order(svc, "2026-03-16", "monthly", "100.00")
    assert so["next_date"] == "2026-04-16"  # the answer already shows it ran
    (txn,) = booked(svc)
    assert _at(txn["booked_at"]) == NOW  # not before the order existed


def test_an_execution_the_balance_does_not_cover_is_skipped_and_logged(bank):
    stack, svc = bank
    so = order(svc, "2026-03-17", "monthly", "20000.00")
    step(stack, _at("2026-03-18T09:00:00+01:00"))
    assert booked(svc) == [] and balance(svc) == 10_000.00
    assert orders(svc)[so["id"]]["next_date"] == "2026-04-17"
    (line,) = [r for r in read_audit(stack.audit_path("bank")) if r["op"] == "STANDING ORDER"]
    assert line["status"] == "not executed: insufficient funds"


def test_seeded_orders_book_by_their_dates_not_at_seeding(bank):
    stack, svc = bank
    step(stack, _at("2026-03-20T09:00:00+01:00"))
    rows = [
        {"id": "so-later", "user": "maya", "account_id": ACC, "payee_id": "pay-rent",
         "amount_cents": 5000, "currency": "EUR", "reference": "later", "interval": "monthly",
         "next_date": "2026-04-01", "created_at": "2025-12-01T10:00:00+01:00"},
        {"id": "so-due", "user": "maya", "account_id": ACC, "payee_id": "pay-rent",
         "amount_cents": 700, "currency": "EUR", "reference": "due", "interval": "weekly",
         "next_date": "2026-03-10", "created_at": "2025-12-01T10:00:00+01:00"},
    ]  # fmt: skip
    status, _ = svc.request("POST", "/_rig/seed", {"tables": {"standing_orders": rows}}, admin=True)
    assert status == 200
    # The seed itself books nothing; the next reader finds what the date has made due.
    state = {r["id"]: r for r in svc.read_state({"kind": "rows", "table": "standing_orders"})}
    assert state["so-later"]["next_date"] == "2026-04-01"
    assert state["so-due"]["next_date"] == "2026-03-24"
    assert sorted(r["booked_at"][:10] for r in booked(svc)) == ["2026-03-10", "2026-03-17"]


def test_bad_orders_get_a_clear_4xx(bank):
    _, svc = bank
    base = {"from_account": ACC, "payee_id": "pay-rent", "amount": "1.00",
            "interval": "monthly"}  # fmt: skip
    for body, status, words in (
        ({**base, "first_date": "2026-03-15"}, 422, "in the past"),
        ({**base, "first_date": "2026-02-30"}, 422, "not a date"),
        ({**base, "first_date": "2026-04-01", "end_date": "2026-03-31"}, 422, "before"),
        ({**base, "first_date": "2026-04-01", "interval": "daily"}, 422, "invalid"),
    ):
        got, answer = svc.request("POST", "/standing-orders", body)
        assert got == status and words in answer["error"], answer
    order(svc, "2026-04-01")
    got, answer = svc.request("DELETE", "/payees/pay-rent")
    assert got == 409 and "cancel it first" in answer["error"]


@pytest.mark.parametrize(
    ("day", "interval", "anchor", "want"),
    [
        ("2026-01-31", "monthly", 31, "2026-02-28"),
        ("2026-02-28", "monthly", 31, "2026-03-31"),
        ("2028-01-31", "monthly", 31, "2028-02-29"),
        ("2026-11-30", "quarterly", 30, "2027-02-28"),
        ("2028-02-29", "yearly", 29, "2029-02-28"),
        ("2031-02-28", "yearly", 29, "2032-02-29"),
        ("2026-12-28", "weekly", 28, "2027-01-04"),
        ("2026-08-31", "half-yearly", 31, "2027-02-28"),
    ],
)
def test_following_execution_days(day, interval, anchor, want):
    assert following(date.fromisoformat(day), interval, anchor) == date.fromisoformat(want)


def test_executions_respect_the_end_and_unknown_intervals():
    o = {"next_date": "2026-01-31", "first_date": "2026-01-31", "interval": "monthly",
         "end_date": "2026-04-29"}  # fmt: skip
    due, nxt = executions(o, date(2026, 12, 31))
    assert [d.isoformat() for d in due] == ["2026-01-31", "2026-02-28", "2026-03-31"]
    assert nxt == date(2026, 4, 30)  # past the end: the order has ended
    assert executions({**o, "interval": "fortnightly"}, date(2026, 12, 31)) == ([], None)
    assert executions({**o, "next_date": "soon"}, date(2026, 12, 31)) == ([], None)
    assert executions({**o, "end_date": None}, date(2026, 1, 30)) == ([], date(2026, 1, 31))
    assert timedelta(days=7) == following(date(2026, 1, 1), "weekly", 1) - date(2026, 1, 1)


def test_a_live_booking_counts_from_the_balance_after_what_fell_due(bank):
    """The live-event path (``/_rig/book``): one transaction, after any due standing order."""
    stack, svc = bank
    order(svc, "2026-03-17")
    step(stack, _at("2026-03-17T10:12:00+01:00"))
    row = {"id": "live0", "account_id": ACC, "booked_at": "2026-03-17T10:12:00+01:00",
           "amount_cents": 10000, "currency": "EUR", "counterparty": "Erstattung",
           "reference": "refund", "balance_cents": None, "origin": "live"}  # fmt: skip
    body = {"account": {"id": ACC}, "transaction": row, "balance_given": False}
    assert svc.request("POST", "/_rig/book", body)[0] == 404  # the rig's route only
    status, answer = svc.request("POST", "/_rig/book", body, admin=True)
    assert status == 200 and answer["balance_cents"] == OPENING - 85000 + 10000, answer
    assert balance(svc) == 9_250.00
    (rent,) = booked(svc)  # booked first, on its day, before the live booking
    assert rent["balance_after"] == 9_150.00
    again = svc.request("POST", "/_rig/book", body, admin=True)
    assert again[0] == 422 and balance(svc) == 9_250.00  # the same booking twice: refused


def test_days_are_the_world_zones_across_the_dst_change(out_dir: Path):
    """With the task's zone (as ``start_services`` passes it), 30 March starts at 00:00 CEST,
    an hour before 00:00 of the now's fixed offset (+01:00)."""
    options = {"bank": {"timezone": "Europe/Berlin"}}
    with seeded_bank(out_dir, options) as (stack, svc):
        order(svc, "2026-03-30")
        step(stack, _at("2026-03-29T23:59:59+02:00"))
        assert booked(svc) == []
        step(stack, _at("2026-03-30T00:30:00+02:00"))  # 29 March 23:30 at +01:00
        (txn,) = booked(svc)
        assert txn["booked_at"] == "2026-03-30T00:00:00+02:00"
