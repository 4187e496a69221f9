"""The world's bank, host side: accounts, transactions, payees, transfers, standing orders.

A transfer to a payee the persona never paid through the app (``verified`` 0)
waits for a one-time code that the bank sends by SMS to the persona's phone
through the phone's own incoming-SMS path (the emulator console's ``sms send``,
which the virtual phone and real emulators both serve): the code never appears
in an answer, the audit log or the state the rig reads.

Standing orders book themselves as world time reaches their dates
(:mod:`rig.services.standing_orders`), checked before every request, so the phone's
app, curl on the laptop and the rig's state readers all see the same account.
"""

import hashlib
import secrets
import sqlite3
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rig.services.audit import AuditLog
from rig.services.standing_orders import book_due
from rig.services.web_app import ApiError, WebContext, cents, make_app, money

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, name TEXT NOT NULL, iban TEXT NOT NULL,
    currency TEXT NOT NULL, balance_cents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, booked_at TEXT NOT NULL,
    amount_cents INTEGER NOT NULL, currency TEXT NOT NULL, counterparty TEXT NOT NULL,
    reference TEXT NOT NULL, balance_cents INTEGER, origin TEXT NOT NULL,
    counterparty_iban TEXT);
CREATE TABLE IF NOT EXISTS payees (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, name TEXT NOT NULL, iban TEXT NOT NULL,
    created_at TEXT NOT NULL, verified INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transfers (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, account_id TEXT NOT NULL, payee_id TEXT NOT NULL,
    amount_cents INTEGER NOT NULL, currency TEXT NOT NULL, reference TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, executed_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS standing_orders (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, account_id TEXT NOT NULL, payee_id TEXT NOT NULL,
    amount_cents INTEGER NOT NULL, currency TEXT NOT NULL, reference TEXT NOT NULL,
    interval TEXT NOT NULL, next_date TEXT NOT NULL, created_at TEXT NOT NULL,
    cancelled_at TEXT, first_date TEXT, end_date TEXT);
CREATE TABLE IF NOT EXISTS _codes (transfer_id TEXT PRIMARY KEY, digest TEXT NOT NULL);
"""
# Columns added since the first schema: a resumed older database gets them (all NULL).
ADDED = {
    "transactions": ("counterparty_iban",),
    "standing_orders": ("first_date", "end_date"),
}
MAX_ATTEMPTS = 3
Text = Annotated[str, StringConstraints(min_length=1, max_length=140)]
Iban = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9 ]{8,32}$")]
Amount = Annotated[Decimal, Field(gt=0, le=1_000_000, decimal_places=2)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewPayee(_Body):
    name: Text
    iban: Iban


class NewTransfer(_Body):
    from_account: Text
    payee_id: Text | None = None
    payee: NewPayee | None = Field(default=None, description="a new payee, instead of payee_id")
    amount: Amount
    reference: Annotated[str, StringConstraints(max_length=140)] = ""


class Confirm(_Body):
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class NewStandingOrder(_Body):
    from_account: Text
    payee_id: Text
    amount: Amount
    reference: Annotated[str, StringConstraints(max_length=140)] = ""
    interval: Literal["weekly", "monthly", "quarterly", "half-yearly", "yearly"]
    first_date: Day
    end_date: Day | None = Field(default=None, description="the last day it may run")


def _account(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "iban": row["iban"],
        "currency": row["currency"],
        "balance": money(row["balance_cents"]),
    }


def _txn(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "account_id", "booked_at", "currency", "counterparty")}
    out["counterparty_iban"] = row.get("counterparty_iban")
    out["reference"] = row["reference"]
    out["amount"] = money(row["amount_cents"])
    out["balance_after"] = None if row["balance_cents"] is None else money(row["balance_cents"])
    return out


def _payee(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "name", "iban", "created_at")}
    out["verified"] = bool(row["verified"])
    return out


def _transfer(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "account_id", "payee_id", "currency", "reference", "status")}
    out.update(created_at=row["created_at"], executed_at=row["executed_at"])
    out["amount"] = money(row["amount_cents"])
    return out


def _order(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "account_id", "payee_id", "currency", "reference", "interval", "next_date")
    out = {k: row[k] for k in keys}
    out.update(first_date=row.get("first_date"), end_date=row.get("end_date"))
    out.update(created_at=row["created_at"], cancelled_at=row["cancelled_at"])
    out["amount"] = money(row["amount_cents"])
    end = row.get("end_date")
    if row["cancelled_at"] is not None:
        out["status"] = "cancelled"
    elif end and str(row["next_date"]) > str(end):
        out["status"] = "ended"
    else:
        out["status"] = "active"
    return out


def _digest(transfer_id: str, code: str) -> str:
    return hashlib.sha256(f"{transfer_id}:{code}".encode()).hexdigest()


def send_code_sms(options: dict[str, Any], text: str) -> None:
    """Deliver ``text`` to the persona's phone as an incoming SMS (the console's ``sms send``)."""
    from emulator.console import Console

    sms = options.get("sms")
    if not sms:
        raise ApiError(409, "no phone is registered for one-time codes; call the bank")
    try:
        with Console(int(sms["console_port"]), token=sms.get("token") or "", timeout=10) as con:
            con.command(f"sms send {sms.get('sender', '+4930555010')} {text}")
    except Exception as exc:  # the phone is the world's; its absence is not the request's fault
        raise ApiError(424, f"the one-time code could not be sent to your phone ({exc})") from None


def build(ctx: WebContext, audit: AuditLog) -> FastAPI:
    bank = ctx.options.get("display_name", "Clawrig Bank")
    app = make_app(
        ctx,
        audit,
        f"{bank} API",
        "Accounts, transactions, payees, transfers and standing orders. HTTP Basic auth. "
        "Writes accept an Idempotency-Key header. A transfer to a payee you have not paid "
        "before answers 202 with status code_required: confirm it with the 6-digit code "
        "the bank sends by SMS to your phone (POST /transfers/{id}/confirm). Standing orders "
        "(weekly, monthly, quarterly, half-yearly, yearly; optional end_date) are booked on "
        "their dates: a monthly one keeps its first date's day, or the month's last day.",
    )
    db = ctx.db
    _add_columns(db)

    zone = _zone(ctx.options.get("timezone"))

    def local_now() -> datetime:
        """World time now, in the world's zone when the bank knows it (days start there)."""
        now = ctx.clock.now()
        return now.astimezone(zone) if zone else now

    def today() -> date:
        return local_now().date()

    def book_standing_orders() -> None:
        """Book what world time has made due (before every request but the rig's seeding)."""
        now = local_now()
        due = "SELECT 1 FROM standing_orders WHERE cancelled_at IS NULL AND next_date <= ?"
        if db.one(due + " LIMIT 1", (now.date().isoformat(),)) is None:
            return  # the usual case: a read, no write transaction (book_due checks again)
        with db.transaction() as conn:
            bookings = book_due(conn, now)
        for b in bookings:
            audit.write(
                "bank",
                "STANDING ORDER",
                order=b.order_id,
                account=b.account_id,
                execution_date=b.day.isoformat(),
                booked_at=b.booked_at,
                amount_cents=b.amount_cents,
                transaction=b.transaction_id,
                balance_cents=b.balance_cents,
                status="booked" if b.transaction_id else f"not executed: {b.problem}",
            )

    ctx.before_request = book_standing_orders

    def user(request: Request) -> str:
        return ctx.user(request)

    User = Annotated[str, Depends(user)]

    def account_of(who: str, account_id: str) -> dict[str, Any]:
        row = db.one("SELECT * FROM accounts WHERE id=? AND user=?", (account_id, who))
        if row is None:
            raise ApiError(404, f"no account {account_id!r}")
        return row

    def payee_of(who: str, payee_id: str) -> dict[str, Any]:
        row = db.one("SELECT * FROM payees WHERE id=? AND user=?", (payee_id, who))
        if row is None:
            raise ApiError(404, f"no payee {payee_id!r}")
        return row

    @app.post("/_rig/book", include_in_schema=False, dependencies=[Depends(ctx.admin)])
    def rig_book(body: dict[str, Any]) -> dict[str, Any]:
        """A live booking (``rig/live_events.py``): its balance counted from the account's
        inside one transaction, so a standing order booked just before is not lost."""
        try:
            account, row = dict(body["account"]), dict(body["transaction"])
            given = bool(body.get("balance_given"))
            with db.transaction() as conn:
                acc = conn.execute(
                    "SELECT * FROM accounts WHERE id=?", (row["account_id"],)
                ).fetchone()
                if acc is None:
                    _insert(conn, "accounts", account)
                elif not given:
                    row["balance_cents"] = acc["balance_cents"] + int(row["amount_cents"])
                conn.execute(
                    "UPDATE accounts SET balance_cents=? WHERE id=?",
                    (row["balance_cents"], row["account_id"]),
                )
                _insert(conn, "transactions", row)
        except (KeyError, TypeError, ValueError, sqlite3.Error) as exc:
            raise ApiError(422, f"not a booking: {exc}") from None
        return row

    @app.get("/accounts", summary="Your accounts with their balances")
    def accounts(who: User) -> list[dict[str, Any]]:
        return [_account(r) for r in db.rows("SELECT * FROM accounts WHERE user=?", (who,))]

    @app.get("/accounts/{account_id}", summary="One account")
    def account(account_id: str, who: User) -> dict[str, Any]:
        return _account(account_of(who, account_id))

    @app.get("/accounts/{account_id}/transactions", summary="Transactions, newest first")
    def transactions(
        account_id: str,
        who: User,
        since: Annotated[str | None, Query(max_length=40)] = None,
        until: Annotated[str | None, Query(max_length=40)] = None,
        q: Annotated[str | None, Query(max_length=100, description="counterparty or ref")] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    ) -> list[dict[str, Any]]:
        account_of(who, account_id)
        sql, args = "SELECT * FROM transactions WHERE account_id=?", [account_id]
        if since:
            sql, args = sql + " AND booked_at >= ?", [*args, since]
        if until:
            sql, args = sql + " AND booked_at <= ?", [*args, until]
        if q:
            sql += " AND (instr(lower(counterparty), lower(?)) OR instr(lower(reference), lower(?))"
            sql += ")"
            args += [q, q]
        sql += " ORDER BY booked_at DESC, rowid DESC LIMIT ?"
        return [_txn(r) for r in db.rows(sql, [*args, limit])]

    @app.get("/payees", summary="Saved payees")
    def payees(who: User) -> list[dict[str, Any]]:
        return [_payee(r) for r in db.rows("SELECT * FROM payees WHERE user=?", (who,))]

    @app.post("/payees", status_code=201, summary="Save a payee (unverified until first paid)")
    def add_payee(body: NewPayee, who: User) -> dict[str, Any]:
        return _payee(_new_payee(who, body))

    def _new_payee(who: str, body: NewPayee) -> dict[str, Any]:
        iban = body.iban.replace(" ", "")
        same = db.one("SELECT * FROM payees WHERE user=? AND iban=?", (who, iban))
        if same is not None:
            return same
        pid = f"pay-{uuid.uuid4().hex[:10]}"
        db.run("INSERT INTO payees VALUES (?,?,?,?,?,0)", (pid, who, body.name, iban, ctx.now()))
        return payee_of(who, pid)

    @app.delete("/payees/{payee_id}", summary="Forget a payee")
    def delete_payee(payee_id: str, who: User) -> dict[str, Any]:
        payee_of(who, payee_id)
        paying = db.one(
            "SELECT id FROM standing_orders WHERE payee_id=? AND cancelled_at IS NULL "
            "AND (end_date IS NULL OR next_date <= end_date)",
            (payee_id,),
        )
        if paying is not None:
            raise ApiError(409, f"standing order {paying['id']} pays this payee; cancel it first")
        db.run("DELETE FROM payees WHERE id=?", (payee_id,))
        return {"deleted": payee_id}

    def execute(conn: Any, t: dict[str, Any]) -> None:
        acc = conn.execute("SELECT * FROM accounts WHERE id=?", (t["account_id"],)).fetchone()
        if acc["balance_cents"] < t["amount_cents"]:
            raise ApiError(409, "insufficient funds", balance=money(acc["balance_cents"]))
        payee = conn.execute("SELECT * FROM payees WHERE id=?", (t["payee_id"],)).fetchone()
        now = ctx.now()
        balance = acc["balance_cents"] - t["amount_cents"]
        conn.execute("UPDATE accounts SET balance_cents=? WHERE id=?", (balance, acc["id"]))
        conn.execute(
            "INSERT INTO transactions (id, account_id, booked_at, amount_cents, currency, "
            "counterparty, reference, balance_cents, origin, counterparty_iban) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                f"txn-{t['id']}",
                acc["id"],
                now,
                -t["amount_cents"],
                t["currency"],
                payee["name"],
                t["reference"],
                balance,
                "transfer",
                payee["iban"],
            ),
        )
        conn.execute("UPDATE transfers SET status='done', executed_at=? WHERE id=?", (now, t["id"]))
        conn.execute("UPDATE payees SET verified=1 WHERE id=?", (payee["id"],))

    @app.post("/transfers", status_code=201, summary="Send money (202 when a code is needed)")
    def transfer(body: NewTransfer, who: User) -> Any:
        from fastapi.responses import JSONResponse

        if (body.payee_id is None) == (body.payee is None):
            raise ApiError(422, "give exactly one of payee_id or payee")
        acc = account_of(who, body.from_account)
        payee = payee_of(who, body.payee_id) if body.payee_id else _new_payee(who, body.payee)
        tid = f"tr-{uuid.uuid4().hex[:10]}"
        amount = cents(body.amount)
        row = (tid, who, acc["id"], payee["id"], amount, acc["currency"], body.reference)
        if payee["verified"]:
            with db.transaction() as conn:
                conn.execute(
                    "INSERT INTO transfers VALUES (?,?,?,?,?,?,?,'pending',?,NULL,0)",
                    (*row, ctx.now()),
                )
                execute(conn, _row(conn, "transfers", tid))
            return _transfer(db.one("SELECT * FROM transfers WHERE id=?", (tid,)))
        if acc["balance_cents"] < amount:
            raise ApiError(409, "insufficient funds", balance=money(acc["balance_cents"]))
        code = f"{secrets.randbelow(1_000_000):06d}"
        db.run(
            "INSERT INTO transfers VALUES (?,?,?,?,?,?,?,'code_required',?,NULL,0)",
            (*row, ctx.now()),
        )
        db.run("INSERT INTO _codes VALUES (?,?)", (tid, _digest(tid, code)))
        try:
            send_code_sms(
                ctx.options,
                f"{bank}: {code} is your code for a transfer of {money(amount):.2f} "
                f"{acc['currency']} to {' '.join(payee['name'].split())[:40]}. Never share it.",
            )
        except ApiError:
            db.run("UPDATE transfers SET status='failed' WHERE id=?", (tid,))
            raise
        answer = _transfer(db.one("SELECT * FROM transfers WHERE id=?", (tid,)))
        answer["message"] = "a one-time code was sent by SMS to your phone"
        return JSONResponse(answer, 202)

    @app.post("/transfers/{transfer_id}/confirm", summary="Confirm with the SMS code")
    def confirm(transfer_id: str, body: Confirm, who: User) -> dict[str, Any]:
        t = db.one("SELECT * FROM transfers WHERE id=? AND user=?", (transfer_id, who))
        if t is None:
            raise ApiError(404, f"no transfer {transfer_id!r}")
        if t["status"] != "code_required":
            raise ApiError(409, f"transfer is {t['status']}, not waiting for a code")
        want = db.one("SELECT digest FROM _codes WHERE transfer_id=?", (transfer_id,))
        ok = want is not None and secrets.compare_digest(
            want["digest"], _digest(transfer_id, body.code)
        )
        if not ok:
            attempts = t["attempts"] + 1
            status = "cancelled" if attempts >= MAX_ATTEMPTS else "code_required"
            db.run(
                "UPDATE transfers SET attempts=?, status=? WHERE id=?",
                (attempts, status, transfer_id),
            )
            raise ApiError(403, "wrong code", attempts_left=MAX_ATTEMPTS - attempts)
        with db.transaction() as conn:
            execute(conn, _row(conn, "transfers", transfer_id))
            conn.execute("DELETE FROM _codes WHERE transfer_id=?", (transfer_id,))
        return _transfer(db.one("SELECT * FROM transfers WHERE id=?", (transfer_id,)))

    @app.get("/transfers", summary="Your transfers, newest first")
    def transfers(who: User) -> list[dict[str, Any]]:
        rows = db.rows("SELECT * FROM transfers WHERE user=? ORDER BY rowid DESC", (who,))
        return [_transfer(r) for r in rows]

    @app.get("/transfers/{transfer_id}", summary="One transfer")
    def one_transfer(transfer_id: str, who: User) -> dict[str, Any]:
        t = db.one("SELECT * FROM transfers WHERE id=? AND user=?", (transfer_id, who))
        if t is None:
            raise ApiError(404, f"no transfer {transfer_id!r}")
        return _transfer(t)

    @app.get("/standing-orders", summary="Standing orders")
    def standing(who: User) -> list[dict[str, Any]]:
        return [_order(r) for r in db.rows("SELECT * FROM standing_orders WHERE user=?", (who,))]

    @app.post("/standing-orders", status_code=201, summary="Set up a standing order")
    def add_standing(body: NewStandingOrder, who: User) -> dict[str, Any]:
        acc = account_of(who, body.from_account)
        payee = payee_of(who, body.payee_id)
        if not payee["verified"]:
            raise ApiError(409, "pay this payee once with a confirmed transfer first")
        first, end = _day(body.first_date, "first_date"), _day(body.end_date, "end_date")
        day = today()
        if first is not None and first < day:
            raise ApiError(422, f"first_date {first} is in the past (today is {day})")
        if end is not None and first is not None and end < first:
            raise ApiError(422, f"end_date {end} is before first_date {first}")
        sid = f"so-{uuid.uuid4().hex[:10]}"
        db.run(
            "INSERT INTO standing_orders (id, user, account_id, payee_id, amount_cents, "
            "currency, reference, interval, next_date, created_at, cancelled_at, first_date, "
            "end_date) VALUES (?,?,?,?,?,?,?,?,?,?,NULL,?,?)",
            (
                sid,
                who,
                acc["id"],
                payee["id"],
                cents(body.amount),
                acc["currency"],
                body.reference,
                body.interval,
                body.first_date,
                ctx.now(),
                body.first_date,
                body.end_date,
            ),
        )
        book_standing_orders()  # one that starts today runs as it is made
        return _order(db.one("SELECT * FROM standing_orders WHERE id=?", (sid,)))

    @app.delete("/standing-orders/{order_id}", summary="Cancel a standing order")
    def cancel_standing(order_id: str, who: User) -> dict[str, Any]:
        row = db.one("SELECT * FROM standing_orders WHERE id=? AND user=?", (order_id, who))
        if row is None:
            raise ApiError(404, f"no standing order {order_id!r}")
        if row["cancelled_at"] is None:
            db.run("UPDATE standing_orders SET cancelled_at=? WHERE id=?", (ctx.now(), order_id))
        return _order(db.one("SELECT * FROM standing_orders WHERE id=?", (order_id,)))

    return app


def _day(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(422, f"{field} {text!r} is not a date") from None


def _zone(name: Any) -> ZoneInfo | None:
    """The world's zone (its days, across DST); None: the fixed offset of the task's now."""
    try:
        return ZoneInfo(str(name)) if name else None
    except (ValueError, ZoneInfoNotFoundError):
        return None


def _add_columns(db: Any) -> None:
    """Bring a resumed database made before a column was added up to the schema."""
    for table, columns in ADDED.items():
        have = {r["name"] for r in db.rows(f"PRAGMA table_info({table})")}
        for column in columns:
            if column not in have:
                db.run(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")


def _insert(conn: Any, table: str, row: dict[str, Any]) -> None:
    known = {r["name"] for r in conn.execute(f"PRAGMA table_info({table})").fetchall()}
    cols = [c for c in row if c in known]
    conn.execute(
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
        [row[c] for c in cols],
    )


def _row(conn: Any, table: str, rid: str) -> dict[str, Any]:
    return dict(conn.execute(f"SELECT * FROM {table} WHERE id=?", (rid,)).fetchone())
