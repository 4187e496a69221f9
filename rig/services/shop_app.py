"""The world's shop, host side: catalogue, prices with history, cart, orders, returns, alerts.

A product's price is the last row of its price history; an order fixes the
prices of its lines at checkout time (the world's clock). A price alert fires
(``triggered_at``) when a price at or under its target is set.
"""

import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rig.services.audit import AuditLog
from rig.services.web_app import ApiError, WebContext, cents, make_app, money

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, shop TEXT NOT NULL, url TEXT NOT NULL,
    currency TEXT NOT NULL, price_cents INTEGER NOT NULL, stock INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS prices (
    id TEXT PRIMARY KEY, product_id TEXT NOT NULL, at TEXT NOT NULL, price_cents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cart (
    user TEXT NOT NULL, product_id TEXT NOT NULL, qty INTEGER NOT NULL,
    PRIMARY KEY (user, product_id));
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL,
    total_cents INTEGER NOT NULL, currency TEXT NOT NULL, origin TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS order_lines (
    id TEXT PRIMARY KEY, order_id TEXT NOT NULL, product_id TEXT NOT NULL, name TEXT NOT NULL,
    qty INTEGER NOT NULL, price_cents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS returns (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, order_id TEXT NOT NULL, product_id TEXT NOT NULL,
    qty INTEGER NOT NULL, reason TEXT NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, product_id TEXT NOT NULL,
    target_cents INTEGER NOT NULL, created_at TEXT NOT NULL, triggered_at TEXT);
"""
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Qty = Annotated[int, Field(ge=1, le=99)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CartLine(_Body):
    qty: Qty


class NewOrder(_Body):
    confirm_total: Annotated[Decimal, Field(ge=0, le=10_000_000, decimal_places=2)] | None = Field(
        default=None, description="refuse the order if the cart's total is not this"
    )


class NewReturn(_Body):
    order_id: Text
    product_id: Text
    qty: Qty = 1
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class NewAlert(_Body):
    product_id: Text
    target_price: Annotated[Decimal, Field(gt=0, le=10_000_000, decimal_places=2)]


def _product(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "name", "shop", "url", "currency", "stock")}
    out["price"] = money(row["price_cents"])
    return out


def _order(db: Any, row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "created_at", "status", "currency")}
    out["total"] = money(row["total_cents"])
    lines = db.rows("SELECT * FROM order_lines WHERE order_id=? ORDER BY rowid", (row["id"],))
    out["lines"] = [
        {
            "product_id": x["product_id"],
            "name": x["name"],
            "qty": x["qty"],
            "price": money(x["price_cents"]),
        }
        for x in lines
    ]
    return out


def _alert(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "product_id", "created_at", "triggered_at")}
    out["target_price"] = money(row["target_cents"])
    return out


def build(ctx: WebContext, audit: AuditLog) -> FastAPI:
    app = make_app(
        ctx,
        audit,
        "Shop API",
        "Catalogue with price history, cart, orders, returns and price alerts. HTTP Basic "
        "auth. Writes accept an Idempotency-Key header.",
    )
    db = ctx.db

    def user(request: Request) -> str:
        return ctx.user(request)

    User = Annotated[str, Depends(user)]

    def product_of(pid: str) -> dict[str, Any]:
        row = db.one("SELECT * FROM products WHERE id=?", (pid,))
        if row is None:
            raise ApiError(404, f"no product {pid!r}")
        return row

    @app.get("/products", summary="Search the catalogue")
    def products(
        _who: User,
        q: Annotated[str | None, Query(max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM products", []
        if q:
            sql, args = sql + " WHERE instr(lower(name), lower(?))", [q]
        return [_product(r) for r in db.rows(sql + " ORDER BY name LIMIT ?", [*args, limit])]

    @app.get("/products/{product_id}", summary="One product")
    def product(product_id: str, _who: User) -> dict[str, Any]:
        return _product(product_of(product_id))

    @app.get("/products/{product_id}/prices", summary="Price history, oldest first")
    def prices(product_id: str, _who: User) -> list[dict[str, Any]]:
        product_of(product_id)
        rows = db.rows("SELECT * FROM prices WHERE product_id=? ORDER BY at", (product_id,))
        return [{"at": r["at"], "price": money(r["price_cents"])} for r in rows]

    @app.get("/cart", summary="Your cart")
    def cart(who: User) -> dict[str, Any]:
        return _cart(who)

    def _cart(who: str) -> dict[str, Any]:
        rows = db.rows(
            "SELECT c.qty, p.* FROM cart c JOIN products p ON p.id=c.product_id "
            "WHERE c.user=? ORDER BY p.name",
            (who,),
        )
        lines = [{**_product(r), "qty": r["qty"]} for r in rows]
        total = sum(r["price_cents"] * r["qty"] for r in rows)
        return {"lines": lines, "total": money(total)}

    @app.put("/cart/items/{product_id}", summary="Put a product in the cart (set its qty)")
    def put_cart(product_id: str, body: CartLine, who: User) -> dict[str, Any]:
        p = product_of(product_id)
        if p["stock"] < body.qty:
            raise ApiError(409, "not enough in stock", stock=p["stock"])
        db.run("INSERT OR REPLACE INTO cart VALUES (?,?,?)", (who, product_id, body.qty))
        return _cart(who)

    @app.delete("/cart/items/{product_id}", summary="Take a product out of the cart")
    def del_cart(product_id: str, who: User) -> dict[str, Any]:
        db.run("DELETE FROM cart WHERE user=? AND product_id=?", (who, product_id))
        return _cart(who)

    @app.post("/orders", status_code=201, summary="Check out the cart")
    def order(body: NewOrder, who: User) -> dict[str, Any]:
        oid = f"ord-{uuid.uuid4().hex[:10]}"
        with db.transaction() as conn:
            rows = [
                dict(r)
                for r in conn.execute(
                    "SELECT c.qty, p.* FROM cart c JOIN products p ON p.id=c.product_id "
                    "WHERE c.user=?",
                    (who,),
                ).fetchall()
            ]
            if not rows:
                raise ApiError(409, "the cart is empty")
            total = sum(r["price_cents"] * r["qty"] for r in rows)
            if body.confirm_total is not None and cents(body.confirm_total) != total:
                raise ApiError(409, "the total changed", total=money(total))
            for r in rows:
                if r["stock"] < r["qty"]:
                    raise ApiError(409, f"{r['name']} is out of stock", product_id=r["id"])
            currency = rows[0]["currency"]
            conn.execute(
                "INSERT INTO orders VALUES (?,?,?,?,?,?,?)",
                (oid, who, ctx.now(), "placed", total, currency, "app"),
            )
            for i, r in enumerate(rows):
                conn.execute(
                    "INSERT INTO order_lines VALUES (?,?,?,?,?,?)",
                    (f"{oid}-{i}", oid, r["id"], r["name"], r["qty"], r["price_cents"]),
                )
                conn.execute("UPDATE products SET stock=stock-? WHERE id=?", (r["qty"], r["id"]))
            conn.execute("DELETE FROM cart WHERE user=?", (who,))
        return _order(db, db.one("SELECT * FROM orders WHERE id=?", (oid,)))

    def order_of(who: str, oid: str) -> dict[str, Any]:
        row = db.one("SELECT * FROM orders WHERE id=? AND user=?", (oid, who))
        if row is None:
            raise ApiError(404, f"no order {oid!r}")
        return row

    @app.get("/orders", summary="Your orders, newest first")
    def orders(who: User) -> list[dict[str, Any]]:
        rows = db.rows("SELECT * FROM orders WHERE user=? ORDER BY created_at DESC", (who,))
        return [_order(db, r) for r in rows]

    @app.get("/orders/{order_id}", summary="One order")
    def one_order(order_id: str, who: User) -> dict[str, Any]:
        return _order(db, order_of(who, order_id))

    @app.post("/orders/{order_id}/cancel", summary="Cancel an order not yet shipped")
    def cancel(order_id: str, who: User) -> dict[str, Any]:
        row = order_of(who, order_id)
        if row["status"] != "placed":
            raise ApiError(409, f"the order is {row['status']}; return it instead")
        db.run("UPDATE orders SET status='cancelled' WHERE id=?", (order_id,))
        return _order(db, order_of(who, order_id))

    @app.get("/returns", summary="Your returns")
    def returns(who: User) -> list[dict[str, Any]]:
        keys = ("id", "order_id", "product_id", "qty", "reason", "created_at", "status")
        rows = db.rows("SELECT * FROM returns WHERE user=? ORDER BY rowid", (who,))
        return [{k: r[k] for k in keys} for r in rows]

    @app.post("/returns", status_code=201, summary="Return items of a delivered order")
    def add_return(body: NewReturn, who: User) -> dict[str, Any]:
        row = order_of(who, body.order_id)
        if row["status"] not in ("delivered", "shipped"):
            raise ApiError(409, f"the order is {row['status']}; only sent orders are returned")
        line = db.one(
            "SELECT SUM(qty) AS n FROM order_lines WHERE order_id=? AND product_id=?",
            (body.order_id, body.product_id),
        )
        done = db.one(
            "SELECT COALESCE(SUM(qty),0) AS n FROM returns WHERE order_id=? AND product_id=?",
            (body.order_id, body.product_id),
        )
        if not line or not line["n"]:
            raise ApiError(404, f"{body.product_id!r} is not in order {body.order_id!r}")
        if done["n"] + body.qty > line["n"]:
            raise ApiError(409, "more than was ordered", returnable=line["n"] - done["n"])
        rid = f"ret-{uuid.uuid4().hex[:10]}"
        db.run(
            "INSERT INTO returns VALUES (?,?,?,?,?,?,?,?)",
            (
                rid,
                who,
                body.order_id,
                body.product_id,
                body.qty,
                body.reason,
                ctx.now(),
                "requested",
            ),
        )
        keys = ("id", "order_id", "product_id", "qty", "reason", "created_at", "status")
        return {
            k: v for k, v in db.one("SELECT * FROM returns WHERE id=?", (rid,)).items() if k in keys
        }

    @app.get("/alerts", summary="Your price alerts")
    def alerts(who: User) -> list[dict[str, Any]]:
        return [_alert(r) for r in db.rows("SELECT * FROM alerts WHERE user=?", (who,))]

    @app.post("/alerts", status_code=201, summary="Be told when a price drops to a target")
    def add_alert(body: NewAlert, who: User) -> dict[str, Any]:
        p = product_of(body.product_id)
        target = cents(body.target_price)
        aid = f"alert-{uuid.uuid4().hex[:10]}"
        fired = ctx.now() if p["price_cents"] <= target else None
        db.run(
            "INSERT INTO alerts VALUES (?,?,?,?,?,?)",
            (aid, who, p["id"], target, ctx.now(), fired),
        )
        return _alert(db.one("SELECT * FROM alerts WHERE id=?", (aid,)))

    @app.delete("/alerts/{alert_id}", summary="Delete a price alert")
    def del_alert(alert_id: str, who: User) -> dict[str, Any]:
        if db.one("SELECT id FROM alerts WHERE id=? AND user=?", (alert_id, who)) is None:
            raise ApiError(404, f"no alert {alert_id!r}")
        db.run("DELETE FROM alerts WHERE id=?", (alert_id,))
        return {"deleted": alert_id}

    return app
