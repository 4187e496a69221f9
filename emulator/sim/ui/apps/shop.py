"""Shop: the catalogue with prices, a product with its price history, the cart, orders.

A client of the world's shop API (``GET /products?q=``, ``/products/{id}/prices``,
``PUT/DELETE /cart/items/{id}``, ``POST /orders`` with ``confirm_total``,
``POST /orders/{id}/cancel``, ``POST /alerts``) with the phone's shop account.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from emulator.sim.ui.apps.base import Entry
from emulator.sim.ui.apps.webapp import SOFT, WebApp, amount, day, when
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import ButtonRow, ListRow, Text


class ShopApp(WebApp):
    package = "world.clawrig.shop"
    label = "Shop"
    color = (123, 31, 162)
    apk = "/data/app/world.clawrig.shop/base.apk"
    service = "shop"
    server_label = "the shop"
    item_screens: ClassVar[frozenset[str]] = frozenset({"product", "order"})
    activities: ClassVar[dict[str, str]] = {
        "main": ".MainActivity",
        "product": ".ProductActivity",
        "cart": ".CartActivity",
        "orders": ".OrdersActivity",
        "order": ".OrderActivity",
    }

    def refresh(self, entry: Entry) -> bool:
        query = self.form(entry, "query").strip() if entry.get("screen") == "main" else ""

        def work() -> None:
            path = "/products?" + urlencode({"q": query, "limit": 200} if query else {"limit": 200})
            self.remember(
                products=self.api("GET", path),
                cart=self.api("GET", "/cart"),
                orders=self.api("GET", "/orders"),
                loaded=True,
            )

        return self.attempt(entry, work)

    def _pid(self, pid: str, tail: str = "") -> str:
        return f"/products/{quote(pid, safe='')}{tail}"

    def cart(self) -> dict[str, Any]:
        cart = self.cache.get("cart")
        return cart if isinstance(cart, dict) else {"lines": [], "total": 0}

    def cart_count(self) -> int:
        return sum(int(x.get("qty") or 0) for x in self.cart().get("lines") or [])

    # -- screens ---------------------------------------------------------------------------
    def screen_main(self, entry: Entry) -> Screen:
        down = self.unavailable(entry, "Shop", lambda: self.refresh(entry))
        if down is not None:
            return down
        body: list[View] = [
            *self.banner(entry),
            *self.notice(entry),
            self.field(
                entry,
                "query",
                "Search",
                hint="Search products",
                on_submit=lambda: self.refresh(entry),
            ),
        ]
        products = self.cache.get("products") or []
        for p in products:
            body.append(
                ListRow(
                    title=str(p.get("name") or ""),
                    subtitle=str(p.get("shop") or ""),
                    meta=amount(p.get("price"), str(p.get("currency") or "")),
                    avatar=self.color,
                    rid="product",
                    on_click=lambda p=p: self.open_product(p["id"]),
                )
            )
        if not products:
            body.append(self.empty_note("No products found"))
        count = self.cart_count()
        screen = Screen(
            self.toolbar(
                "Shop",
                up=False,
                actions=[
                    (f"Cart ({count})" if count else "Cart", self.open_cart),
                    ("Orders", lambda: self.ui.push(self, "orders")),
                ],
            ),
            body,
        )
        screen.on_refresh = lambda: self.refresh(entry)
        return screen

    def open_product(self, pid: str) -> None:
        entry = self.ui.push(self, "product", pid=pid)
        entry["form"] = {"qty": "1"}

        def work() -> None:
            entry["args"]["product"] = self.api("GET", self._pid(pid))
            entry["args"]["prices"] = self.api("GET", self._pid(pid, "/prices"))

        self.attempt(entry, work)

    def screen_product(self, entry: Entry) -> Screen:
        args = entry["args"]
        p = args.get("product")
        if not isinstance(p, dict):
            return Screen(self.toolbar("Product"), [*self.banner(entry)])
        cur = str(p.get("currency") or "")
        body: list[View] = [
            *self.banner(entry),
            *self.notice(entry),
            Text(text=str(p.get("name") or ""), rid="name", size=22, bold=True),
            Text(text=str(p.get("shop") or ""), rid="shop", size=14, color=SOFT, vpad=2),
            Text(text=amount(p.get("price"), cur), rid="price", size=24, bold=True),
            Text(text=f"{p.get('stock')} in stock", rid="stock", size=14, color=SOFT, vpad=2),
            self.field(entry, "qty", "Quantity"),
            ButtonRow(
                children=[
                    self.button("Add to cart", lambda: self.add(entry), rid="add_to_cart"),
                    self.button(
                        "Price alert",
                        lambda: self.alert(entry),
                        rid="price_alert",
                        style="outlined",
                    ),
                ]
            ),
            Text(text="Price history", rid="section", size=14, bold=True, color=self.color),
        ]
        history = list(args.get("prices") or [])
        lowest = min((h.get("price") for h in history), default=None)
        for h in reversed(history):
            body.append(
                ListRow(
                    title=amount(h.get("price"), cur),
                    subtitle=day(h.get("at")),
                    meta="lowest" if h.get("price") == lowest and len(history) > 1 else "",
                    rid="price_point",
                )
            )
        return Screen(self.toolbar("Product", actions=[("Cart", self.open_cart)]), body)

    def add(self, entry: Entry) -> None:
        pid = str(entry["args"].get("pid") or "")
        qty_text = self.form(entry, "qty").strip() or "1"
        if not qty_text.isdigit() or int(qty_text) < 1:
            entry["args"]["error"] = "Quantity must be a whole number"
            return
        have = next(
            (int(x.get("qty") or 0) for x in self.cart().get("lines") or [] if x.get("id") == pid),
            0,
        )
        body = {"qty": have + int(qty_text)}

        def work() -> None:
            self.remember(cart=self.api("PUT", f"/cart/items/{quote(pid, safe='')}", body))

        if self.attempt(entry, work):
            entry["args"]["notice"] = f"In your cart: {body['qty']}"

    def alert(self, entry: Entry) -> None:
        """A price alert whose target is the lowest price the history shows."""
        pid = str(entry["args"].get("pid") or "")
        history = entry["args"].get("prices") or []
        if not history:
            entry["args"]["error"] = "No price history to set an alert from"
            return
        target = min(h["price"] for h in history)
        body = {"product_id": pid, "target_price": f"{target:.2f}"}
        key = self.submit_key(entry, body)
        if self.attempt(entry, lambda: self.api("POST", "/alerts", body, key=key)):
            entry["args"]["notice"] = f"Price alert set at {target:.2f}"

    def open_cart(self) -> None:
        entry = self.ui.push(self, "cart")

        def work() -> None:
            self.remember(cart=self.api("GET", "/cart"))

        self.attempt(entry, work)

    def screen_cart(self, entry: Entry) -> Screen:
        cart = self.cart()
        body: list[View] = [*self.banner(entry)]
        lines = cart.get("lines") or []
        cur = ""
        for line in lines:
            cur = str(line.get("currency") or "")
            pid = str(line.get("id") or "")
            body.append(
                ListRow(
                    title=str(line.get("name") or ""),
                    subtitle=f"{line.get('qty')} × {amount(line.get('price'), cur)}",
                    meta=amount(float(line.get("price") or 0) * int(line.get("qty") or 0), cur),
                    rid="cart_line",
                )
            )
            body.append(
                ButtonRow(
                    children=[
                        self.button(
                            "−",
                            lambda p=pid, q=line["qty"]: self.set_qty(entry, p, q - 1),
                            rid="decrease",
                            style="outlined",
                        ),
                        self.button(
                            "+",
                            lambda p=pid, q=line["qty"]: self.set_qty(entry, p, q + 1),
                            rid="increase",
                            style="outlined",
                        ),
                        self.button(
                            "Remove",
                            lambda p=pid: self.set_qty(entry, p, 0),
                            rid="remove",
                            style="text",
                        ),
                    ]
                )
            )
        if not lines:
            body.append(self.empty_note("Your cart is empty"))
            return Screen(self.toolbar("Cart"), body)
        total = cart.get("total")
        body.append(Text(text=f"Total: {amount(total, cur)}", rid="total", size=20, bold=True))
        dialog = None
        if entry.get("dialog") == "order":
            dialog = self.confirm(
                entry,
                "Place this order?",
                f"{len(lines)} item(s), total {amount(total, cur)}",
                "Place order",
                lambda: self.place(entry),
            )
        bottom = [
            self.button("Place order", lambda: entry.update(dialog="order"), rid="place_order")
        ]
        return Screen(self.toolbar("Cart"), body, bottom=bottom, dialog=dialog)

    def set_qty(self, entry: Entry, pid: str, qty: int) -> None:
        path = f"/cart/items/{quote(pid, safe='')}"

        def work() -> None:
            if qty <= 0:
                self.remember(cart=self.api("DELETE", path))
            else:
                self.remember(cart=self.api("PUT", path, {"qty": qty}))

        self.attempt(entry, work)

    def place(self, entry: Entry) -> None:
        body = {"confirm_total": self.cart().get("total")}
        key = self.submit_key(entry, body)
        answer: dict[str, Any] = {}

        def work() -> None:
            answer.update(self.api("POST", "/orders", body, key=key))

        if self.attempt(entry, work):
            self.refresh(entry)
            self.ui.replace(self, "order", oid=answer.get("id"), placed=True)

    def screen_orders(self, entry: Entry) -> Screen:
        body: list[View] = [*self.banner(entry)]
        orders = self.cache.get("orders") or []
        for o in orders:
            names = ", ".join(str(x.get("name")) for x in o.get("lines") or [])
            body.append(
                ListRow(
                    title=names or str(o.get("id")),
                    subtitle=f"{day(o.get('created_at'))} · {o.get('status')}",
                    meta=amount(o.get("total"), str(o.get("currency") or "")),
                    rid="order",
                    on_click=lambda o=o: self.ui.push(self, "order", oid=o["id"]),
                )
            )
        if not orders:
            body.append(self.empty_note("No orders yet"))
        screen = Screen(self.toolbar("Orders"), body)
        screen.on_refresh = lambda: self.refresh(entry)
        return screen

    def screen_order(self, entry: Entry) -> Screen:
        oid = entry["args"].get("oid")
        o = next((x for x in self.cache.get("orders") or [] if x.get("id") == oid), None)
        if o is None:
            return Screen(self.toolbar("Order"), [*self.banner(entry), self.empty_note("No order")])
        cur = str(o.get("currency") or "")
        body: list[View] = [*self.banner(entry)]
        if entry["args"].get("placed"):
            body.append(Text(text="Thank you! Your order is placed.", rid="notice", size=16))
        body += [
            Text(text=f"Order {o.get('id')}", rid="order_id", size=20, bold=True),
            Text(text=f"{when(o.get('created_at'))} · {o.get('status')}", rid="status", size=14),
        ]
        for line in o.get("lines") or []:
            body.append(
                ListRow(
                    title=str(line.get("name") or ""),
                    subtitle=f"{line.get('qty')} × {amount(line.get('price'), cur)}",
                    rid="order_line",
                )
            )
        body.append(Text(text=f"Total: {amount(o.get('total'), cur)}", rid="total", bold=True))
        actions = []
        dialog = None
        if o.get("status") == "placed":
            actions.append(("Cancel order", lambda: entry.update(dialog="cancel")))
            if entry.get("dialog") == "cancel":
                dialog = self.confirm(
                    entry,
                    "Cancel this order?",
                    f"Order {o.get('id')}",
                    "Cancel order",
                    lambda: self.cancel(entry, str(oid)),
                )
        return Screen(self.toolbar("Order", actions=actions), body, dialog=dialog)

    def cancel(self, entry: Entry, oid: str) -> None:
        if self.attempt(entry, lambda: self.api("POST", f"/orders/{quote(oid, safe='')}/cancel")):
            self.refresh(entry)
