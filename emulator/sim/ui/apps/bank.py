"""Bank: accounts and balances, transactions, transfers (with the SMS code), standing orders.

A client of the world's bank API (``GET /accounts``, ``POST /transfers``,
``POST /transfers/{id}/confirm``, ``/standing-orders`` …) with the phone's bank
account. A transfer to a payee the bank does not know yet asks for the
one-time code the bank texts to this phone: it arrives in Messages, and the
user types it into the code screen, as with a real banking app.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote

from emulator.sim.ui.apps.base import Entry
from emulator.sim.ui.apps.webapp import SOFT, WebApp, amount, day
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import ButtonRow, ListRow, Text


def _money(text: str) -> str:
    """What the user typed as an amount, as the API takes it (``120,50`` -> ``120.50``)."""
    value = text.strip().replace(" ", "")
    if "," in value and "." not in value:
        value = value.replace(",", ".")
    return value


class BankApp(WebApp):
    package = "world.clawrig.bank"
    label = "Bank"
    color = (0, 105, 92)
    apk = "/data/app/world.clawrig.bank/base.apk"
    service = "bank"
    server_label = "the bank"
    item_screens: ClassVar[frozenset[str]] = frozenset({"account", "code"})
    activities: ClassVar[dict[str, str]] = {
        "main": ".MainActivity",
        "account": ".AccountActivity",
        "transfer": ".TransferActivity",
        "code": ".ConfirmCodeActivity",
        "standing": ".StandingOrdersActivity",
        "standing_new": ".NewStandingOrderActivity",
    }

    # -- server round trips ------------------------------------------------------------
    def refresh(self, entry: Entry) -> bool:
        def work() -> None:
            accounts = self.api("GET", "/accounts")
            payees = self.api("GET", "/payees")
            orders = self.api("GET", "/standing-orders")
            self.remember(accounts=accounts, payees=payees, standing=orders, loaded=True)

        return self.attempt(entry, work)

    def load_transactions(self, entry: Entry, account_id: str) -> None:
        def work() -> None:
            rows = self.api("GET", f"/accounts/{quote(account_id, safe='')}/transactions?limit=100")
            self.remember(transactions={**self.cache.get("transactions", {}), account_id: rows})

        self.attempt(entry, work)

    # -- helpers -----------------------------------------------------------------------------
    def accounts(self) -> list[dict[str, Any]]:
        return list(self.cache.get("accounts") or [])

    def payees(self) -> list[dict[str, Any]]:
        return list(self.cache.get("payees") or [])

    def payee_name(self, payee_id: str) -> str:
        for p in self.payees():
            if p.get("id") == payee_id:
                return str(p.get("name") or payee_id)
        return payee_id

    def _from(self, entry: Entry) -> dict[str, Any] | None:
        accounts = self.accounts()
        if not accounts:
            return None
        chosen = entry["args"].get("from")
        for a in accounts:
            if a.get("id") == chosen:
                return a
        return accounts[0]

    def _from_row(self, entry: Entry) -> ListRow:
        acc = self._from(entry)

        def cycle() -> None:
            accounts = self.accounts()
            if not accounts:
                return
            ids = [a["id"] for a in accounts]
            now = acc["id"] if acc else ids[0]
            entry["args"]["from"] = ids[(ids.index(now) + 1) % len(ids)]

        if acc is None:
            return ListRow(title="From: no account", rid="from_account")
        return ListRow(
            title=f"From: {acc['name']}",
            subtitle=f"{acc['iban']} · {amount(acc['balance'], acc.get('currency', ''))}",
            meta="Change" if len(self.accounts()) > 1 else "",
            rid="from_account",
            on_click=cycle,
        )

    def _back_to_main(self, notice: str) -> None:
        while len(self.ui.stack) > 2 and self.ui.top.get("pkg") == self.package:
            if self.ui.top.get("screen") == "main":
                break
            self.ui.stack.pop()
        top = self.ui.top
        if top.get("pkg") == self.package and top.get("screen") == "main":
            top["args"]["notice"] = notice
            top["args"].pop("error", None)
            self.refresh(top)
        else:
            self.ui.push(self, "main", notice=notice)

    # -- screens -------------------------------------------------------------------------
    def screen_main(self, entry: Entry) -> Screen:
        down = self.unavailable(entry, "Bank", lambda: self.refresh(entry))
        if down is not None:
            return down
        body: list[View] = [*self.banner(entry), *self.notice(entry)]
        for acc in self.accounts():
            body.append(
                ListRow(
                    title=str(acc.get("name") or ""),
                    subtitle=str(acc.get("iban") or ""),
                    meta=amount(acc.get("balance"), str(acc.get("currency") or "")),
                    avatar=self.color,
                    rid="account",
                    on_click=lambda a=acc: self.open_account(a["id"]),
                )
            )
        if not self.accounts():
            body.append(self.empty_note("No accounts"))
        body.append(
            ButtonRow(
                children=[
                    self.button("Transfer", self.open_transfer, rid="transfer"),
                    self.button(
                        "Standing orders",
                        lambda: self.ui.push(self, "standing"),
                        rid="standing_orders",
                        style="outlined",
                    ),
                ]
            )
        )
        screen = Screen(self.toolbar("Bank", up=False), body)
        screen.on_refresh = lambda: self.refresh(entry)
        return screen

    def open_account(self, account_id: str) -> None:
        entry = self.ui.push(self, "account", account_id=account_id)
        self.load_transactions(entry, account_id)

    def open_transfer(self, **form: str) -> None:
        entry = self.ui.push(self, "transfer")
        entry["form"] = {"payee": "", "iban": "", "amount": "", "reference": "", **form}
        entry["focus"], entry["caret"] = "payee", len(entry["form"]["payee"])

    def screen_account(self, entry: Entry) -> Screen:
        aid = entry["args"].get("account_id")
        acc = next((a for a in self.accounts() if a.get("id") == aid), None)
        if acc is None:
            return Screen(self.toolbar("Account"), [self.empty_note("This account is gone")])
        cur = str(acc.get("currency") or "")
        body: list[View] = [
            *self.banner(entry),
            Text(text=amount(acc.get("balance"), cur), rid="balance", size=28, bold=True),
            Text(text=str(acc.get("iban") or ""), rid="iban", size=14, color=SOFT, vpad=2),
            Text(text="Transactions", rid="section", size=14, bold=True, color=self.color),
        ]
        rows = (self.cache.get("transactions") or {}).get(aid) or []
        for t in rows:
            ref = str(t.get("reference") or "")
            body.append(
                ListRow(
                    title=str(t.get("counterparty") or ""),
                    subtitle=f"{day(t.get('booked_at'))} · {ref}" if ref else day(t["booked_at"]),
                    meta=amount(t.get("amount"), str(t.get("currency") or "")),
                    rid="transaction",
                )
            )
        if not rows:
            body.append(self.empty_note("No transactions"))
        screen = Screen(
            self.toolbar(
                str(acc.get("name") or "Account"), actions=[("Transfer", self.transfer_from(aid))]
            ),
            body,
        )
        screen.on_refresh = lambda: self.refresh(entry) and self.load_transactions(entry, aid)
        return screen

    def transfer_from(self, account_id: str) -> Any:
        def go() -> None:
            self.open_transfer()
            self.ui.top["args"]["from"] = account_id

        return go

    def screen_transfer(self, entry: Entry) -> Screen:
        body: list[View] = [
            *self.banner(entry),
            self._from_row(entry),
            self.field(entry, "payee", "Payee name"),
            self.field(entry, "iban", "IBAN"),
            self.field(entry, "amount", "Amount (EUR)"),
            self.field(entry, "reference", "Reference"),
        ]
        payees = self.payees()
        if payees:
            body.append(
                Text(text="Saved payees", rid="section", size=14, bold=True, color=self.color)
            )

        def pick(p: dict[str, Any]) -> None:
            entry["form"]["payee"] = str(p.get("name") or "")
            entry["form"]["iban"] = str(p.get("iban") or "")

        for p in payees:
            body.append(
                ListRow(
                    title=str(p.get("name") or ""),
                    subtitle=str(p.get("iban") or ""),
                    meta="" if p.get("verified") else "new",
                    rid="payee",
                    on_click=lambda p=p: pick(p),
                )
            )
        send = self.button("Send money", lambda: self.send(entry), rid="send_money")
        return Screen(self.toolbar("New transfer"), body, bottom=[send])

    def send(self, entry: Entry) -> None:
        acc = self._from(entry)
        name = self.form(entry, "payee").strip()
        iban = self.form(entry, "iban").replace(" ", "").upper()
        if acc is None or not name or not iban or not self.form(entry, "amount").strip():
            entry["args"]["error"] = "Fill in payee, IBAN and amount"
            return
        body: dict[str, Any] = {
            "from_account": acc["id"],
            "amount": _money(self.form(entry, "amount")),
            "reference": self.form(entry, "reference"),
        }
        known = next((p for p in self.payees() if p.get("iban") == iban), None)
        if known is not None and known.get("name") == name:
            body["payee_id"] = known["id"]
        else:
            body["payee"] = {"name": name, "iban": iban}
        key = self.submit_key(entry, body)
        answer: dict[str, Any] = {}

        def work() -> None:
            answer.update(self.api("POST", "/transfers", body, key=key))

        if not self.attempt(entry, work):
            return
        sent = f"{amount(answer.get('amount'), acc.get('currency', ''))} to {name}"
        if answer.get("status") == "code_required":
            self.ui.replace(self, "code", transfer_id=answer["id"], what=sent)
            self.ui.top["focus"] = "code"
        else:
            self._back_to_main(f"Sent {sent}")

    def screen_code(self, entry: Entry) -> Screen:
        what = entry["args"].get("what") or ""
        body: list[View] = [
            *self.banner(entry),
            Text(text=f"Confirm the transfer of {what}", rid="what", size=18, bold=True),
            Text(
                text="We sent a 6-digit code by SMS to your phone. Enter it to confirm.",
                rid="hint",
                size=14,
                color=SOFT,
            ),
            self.field(entry, "code", "SMS code", on_submit=lambda: self.confirm_code(entry)),
            self.button("Confirm", lambda: self.confirm_code(entry), rid="confirm"),
        ]
        return Screen(self.toolbar("Security check"), body)

    def confirm_code(self, entry: Entry) -> None:
        tid = entry["args"].get("transfer_id") or ""
        code = "".join(self.form(entry, "code").split())

        def work() -> None:
            self.api("POST", f"/transfers/{quote(tid, safe='')}/confirm", {"code": code})

        if self.attempt(entry, work):
            self._back_to_main(f"Sent {entry['args'].get('what') or ''}".strip())
        elif "cancelled" in str(entry["args"].get("error")) or "not waiting" in str(
            entry["args"].get("error")
        ):
            entry["form"]["code"] = ""

    def screen_standing(self, entry: Entry) -> Screen:
        body: list[View] = [*self.banner(entry), *self.notice(entry)]
        orders = list(self.cache.get("standing") or [])
        pending = entry["args"].get("cancel")
        dialog = None
        for o in orders:
            cancelled = o.get("cancelled_at")
            ended = o.get("status") == "ended"
            ref = str(o.get("reference") or "")
            when = "ended" if ended else f"next {o.get('next_date')}"
            body.append(
                ListRow(
                    title=self.payee_name(str(o.get("payee_id") or "")),
                    subtitle=f"{o.get('interval')}, {when}" + (f" · {ref}" if ref else ""),
                    meta="cancelled"
                    if cancelled
                    else amount(o.get("amount"), o.get("currency", "")),
                    rid="standing_order",
                    on_click=None
                    if cancelled
                    else (lambda o=o: entry["args"].update(cancel=o["id"])),
                )
            )
            if pending == o.get("id"):

                def cancel(oid: str = o["id"]) -> None:
                    entry["args"].pop("cancel", None)
                    if self.attempt(
                        entry,
                        lambda: self.api("DELETE", f"/standing-orders/{quote(oid, safe='')}"),
                    ):
                        self.refresh(entry)

                dialog = self.confirm(
                    entry,
                    "Cancel this standing order?",
                    f"{self.payee_name(str(o.get('payee_id')))}: "
                    f"{amount(o.get('amount'), o.get('currency', ''))} {o.get('interval')}",
                    "Cancel order",
                    cancel,
                )
                dialog.on_cancel = lambda: entry["args"].pop("cancel", None)
        if not orders:
            body.append(self.empty_note("No standing orders"))
        screen = Screen(
            self.toolbar("Standing orders"),
            body,
            fab=self.fab("New standing order", self.open_standing_new),
            dialog=dialog,
        )
        screen.on_refresh = lambda: self.refresh(entry)
        return screen

    def open_standing_new(self) -> None:
        entry = self.ui.push(self, "standing_new", interval="monthly")
        first = (self.ctx.clock.now() + timedelta(days=1)).date().isoformat()
        entry["form"] = {"amount": "", "reference": "", "first_date": first}

    def screen_standing_new(self, entry: Entry) -> Screen:
        args = entry["args"]
        body: list[View] = [*self.banner(entry), self._from_row(entry)]
        body.append(Text(text="Pay to", rid="section", size=14, bold=True, color=self.color))
        verified = [p for p in self.payees() if p.get("verified")]
        for p in verified:
            row = ListRow(
                title=str(p.get("name") or ""),
                subtitle=str(p.get("iban") or ""),
                meta="✓" if args.get("payee_id") == p.get("id") else "",
                rid="payee",
                on_click=lambda p=p: args.update(payee_id=p["id"]),
            )
            row.selected = args.get("payee_id") == p.get("id")
            body.append(row)
        if not verified:
            body.append(self.empty_note("Pay someone once with a transfer first"))
        body += [
            self.field(entry, "amount", "Amount (EUR)"),
            self.field(entry, "reference", "Reference"),
            self.field(entry, "first_date", "First payment (YYYY-MM-DD)"),
        ]
        interval = args.get("interval") or "monthly"
        rows = []
        for choice in ("weekly", "monthly"):
            b = self.button(
                choice.capitalize(),
                lambda c=choice: args.update(interval=c),
                rid=f"interval_{choice}",
                style="filled" if interval == choice else "outlined",
            )
            b.selected = interval == choice
            rows.append(b)
        body.append(ButtonRow(children=rows))
        create = self.button("Create standing order", lambda: self.create_standing(entry))
        return Screen(self.toolbar("New standing order"), body, bottom=[create])

    def create_standing(self, entry: Entry) -> None:
        args = entry["args"]
        acc = self._from(entry)
        if acc is None or not args.get("payee_id") or not self.form(entry, "amount").strip():
            args["error"] = "Choose a payee and an amount"
            return
        body = {
            "from_account": acc["id"],
            "payee_id": args["payee_id"],
            "amount": _money(self.form(entry, "amount")),
            "reference": self.form(entry, "reference"),
            "interval": args.get("interval") or "monthly",
            "first_date": self.form(entry, "first_date").strip(),
        }
        key = self.submit_key(entry, body)
        if self.attempt(entry, lambda: self.api("POST", "/standing-orders", body, key=key)):
            self.ui.back()  # the list resumes and fetches it again
            top = self.ui.top
            if top.get("pkg") == self.package:
                top["args"]["notice"] = "Standing order created"
