"""Messages: conversations from the SMS provider, one thread's bubbles, compose and send.

Sending inserts into ``content://sms/sent`` (type 2) with the thread's
address; the provider files it under the right ``thread_id`` as Android's
telephony provider does.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.apps.contacts import AUTH as CONTACTS
from emulator.sim.ui.apps.contacts import MIME_PHONE, avatar
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import Bubble, ListRow, Text, short_time


def digits(number: Any) -> str:
    """Digits of a phone number, last 10 only: enough to tell two numbers apart."""
    return re.sub(r"\D", "", str(number or ""))[-10:]


class MessagesApp(App):
    package = "com.google.android.apps.messaging"
    label = "Messages"
    color = (11, 87, 208)
    apk = "/product/app/PrebuiltBugle/PrebuiltBugle.apk"
    item_screens: ClassVar[frozenset[str]] = frozenset({"thread"})
    activities: ClassVar[dict[str, str]] = {
        "main": ".ui.ConversationListActivity",
        "thread": ".ui.conversation.ConversationActivity",
        "new": ".ui.appsettings.ContactPickerActivity",
    }

    # -- data -------------------------------------------------------------------------
    def names(self) -> dict[str, str]:
        rows = self.ctx.providers.query(
            f"{CONTACTS}/data", ["data1", "display_name"], "mimetype=?", [MIME_PHONE]
        )
        return {
            digits(r["data1"]): r["display_name"] or r["data1"] for r in rows if digits(r["data1"])
        }

    def who(self, address: str, names: dict[str, str] | None = None) -> str:
        names = self.names() if names is None else names
        return names.get(digits(address), address) if digits(address) else address

    def threads(self) -> list[dict[str, Any]]:
        rows = self.ctx.providers.query(
            "content://sms",
            ["_id", "thread_id", "address", "body", "date", "read", "type"],
            sort="date DESC",
        )
        seen: dict[Any, dict[str, Any]] = {}
        for r in rows:
            t = seen.get(r["thread_id"])
            if t is None:
                seen[r["thread_id"]] = t = {
                    "thread_id": r["thread_id"],
                    "address": r["address"],
                    "snippet": r["body"] or "",
                    "date": r["date"] or 0,
                    "unread": 0,
                }
            if r["read"] in (0, "0") and r["type"] in (1, "1"):
                t["unread"] += 1
        return list(seen.values())

    def thread_of(self, address: str) -> int | None:
        want = digits(address)
        for t in self.threads():
            if (want and digits(t["address"]) == want) or t["address"] == address:
                return int(t["thread_id"])
        return None

    def messages(self, thread_id: int) -> list[dict[str, Any]]:
        return self.ctx.providers.query(
            "content://sms",
            ["_id", "address", "body", "date", "type"],
            "thread_id=?",
            [thread_id],
            sort="date ASC",
        )

    def when(self, ms: Any) -> str:
        return short_time(self.ctx.clock.now(), ms)

    def open_thread(self, thread_id: int, address: str) -> None:
        self.ctx.providers.update(
            "content://sms", {"read": 1, "seen": 1}, "thread_id=? AND read=0", [thread_id]
        )
        self.ui.push(self, "thread", thread_id=thread_id, address=address)

    def send(self, entry: Entry) -> None:
        body = self.form(entry, "compose")
        address = entry["args"].get("address") or ""
        if not body.strip() or not address:
            return
        now = self.ctx.clock.now_ms()
        uri = self.ctx.providers.insert(
            "content://sms/sent",
            {
                "address": address,
                "body": body,
                "date": now,
                "date_sent": now,
                "read": 1,
                "seen": 1,
                "type": 2,
            },
        )
        row = self.ctx.providers.query(uri, ["thread_id"])
        if row:
            entry["args"]["thread_id"] = row[0]["thread_id"]
        entry["form"]["compose"] = ""
        entry["caret"] = 0

    # -- screens ---------------------------------------------------------------------------
    def screen_main(self, entry: Entry) -> Screen:
        names = self.names()
        rows: list[View] = []
        for t in self.threads():
            who = self.who(t["address"], names)
            rows.append(
                ListRow(
                    title=who,
                    subtitle=t["snippet"],
                    meta=self.when(t["date"]),
                    bold=t["unread"] > 0,
                    avatar=avatar(t["address"]),
                    rid="conversation",
                    on_click=lambda t=t: self.open_thread(t["thread_id"], t["address"]),
                )
            )
        if not rows:
            rows.append(self.empty_note("No conversations yet"))
        return Screen(
            self.toolbar("Messages", up=False),
            rows,
            fab=self.fab("Start chat", lambda: self.ui.push(self, "new")),
        )

    def screen_thread(self, entry: Entry) -> Screen:
        args = entry["args"]
        address = args.get("address") or ""
        tid = args.get("thread_id")
        if tid is None and address:
            tid = self.thread_of(address)
        body: list[View] = []
        if tid is not None:
            for msg in self.messages(tid):
                out = msg["type"] not in (1, "1")
                body.append(
                    Bubble(
                        text=msg["body"] or "",
                        outgoing=out,
                        rid="message_text_outgoing" if out else "message_text",
                    )
                )
                body.append(
                    Text(
                        text=self.when(msg["date"]),
                        rid="message_status",
                        size=11,
                        color=(95, 99, 104),
                        vpad=0,
                        pad=20,
                        right=out,
                    )
                )
        bottom = [
            self.field(entry, "compose", "Text message", multiline=True),
            self.button("Send", lambda: self.send(entry), rid="send_message_button"),
        ]
        return Screen(self.toolbar(self.who(address)), body, bottom=bottom, stick_to_end=True)

    def screen_new(self, entry: Entry) -> Screen:
        def go(address: str) -> None:
            address = address.strip()
            if address:
                self.ui.replace(self, "thread", address=address, thread_id=self.thread_of(address))

        body: list[View] = [
            self.field(
                entry,
                "recipient",
                "To",
                hint="Type a name or number",
                on_submit=lambda: go(self.form(entry, "recipient")),
            )
        ]
        body.append(self.button("Next", lambda: go(self.form(entry, "recipient")), rid="next"))
        query = self.form(entry, "recipient").casefold()
        names = self.names()
        for number, name in sorted(names.items(), key=lambda kv: kv[1].casefold()):
            if query and query not in name.casefold() and digits(query) not in number:
                continue
            full = self._full_number(number)
            body.append(
                ListRow(
                    title=name,
                    subtitle=full,
                    avatar=avatar(number),
                    rid="contact",
                    on_click=lambda full=full: go(full),
                )
            )
        return Screen(self.toolbar("New conversation"), body)

    def _full_number(self, number_digits: str) -> str:
        rows = self.ctx.providers.query(f"{CONTACTS}/data", ["data1"], "mimetype=?", [MIME_PHONE])
        for r in rows:
            if digits(r["data1"]) == number_digits:
                return str(r["data1"])
        return number_digits
