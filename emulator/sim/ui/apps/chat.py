"""Chat: a Matrix client on the world's homeserver — rooms with unread counts, a room, send,
reply, react.

The room list and a room's recent messages come from one ``/sync``
(:mod:`emulator.sim.matrix`), fetched when the app opens, when a list is pulled
down and after every action. Opening a room moves the read marker to its last
message, so the server's unread count drops to 0 as on Element. Tapping (or
long-pressing) a message opens its actions: Reply, and a row of reactions.
"""

from __future__ import annotations

from typing import Any, ClassVar

from emulator.sim.matrix import MatrixClient, MatrixError, rooms
from emulator.sim.ui.apps.base import Entry
from emulator.sim.ui.apps.contacts import avatar
from emulator.sim.ui.apps.webapp import SOFT, Refused, WebApp
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import Bubble, Button, ButtonRow, Dialog, ListRow, Text, short_time

REACTIONS = ("👍", "❤️", "😂", "🎉", "✅")


class ChatApp(WebApp):
    package = "world.clawrig.chat"
    label = "Chat"
    color = (13, 189, 139)
    apk = "/data/app/world.clawrig.chat/base.apk"
    service = "chat"
    server_label = "the chat server"
    item_screens: ClassVar[frozenset[str]] = frozenset({"room"})
    activities: ClassVar[dict[str, str]] = {
        "main": ".features.home.HomeActivity",
        "room": ".features.room.RoomActivity",
    }

    def __init__(self, ui: Any) -> None:
        super().__init__(ui)
        self._client: MatrixClient | None = None

    @property
    def client(self) -> MatrixClient:
        account = self.account
        if account is None:
            raise Refused("No Chat account is set up on this phone")
        if self._client is None or self._client.account != account:
            path = f"/data/data/{self.package}/files/session.json"
            self._client = MatrixClient(account, self.ctx.vfs, path)
        return self._client

    def attempt(self, entry: Entry, work: Any) -> bool:
        def guarded() -> None:
            try:
                work()
            except MatrixError as exc:
                raise Refused(str(exc)) from None

        return super().attempt(entry, guarded)

    def refresh(self, entry: Entry) -> bool:
        def work() -> None:
            state = self.client.sync(self.cache.get("sync"))
            self.remember(sync=state, loaded=True)

        return self.attempt(entry, work)

    def rooms(self) -> list[dict[str, Any]]:
        return rooms(self.cache.get("sync") or {})

    def room(self, room_id: str) -> dict[str, Any] | None:
        return next((r for r in self.rooms() if r.get("room_id") == room_id), None)

    def when(self, ms: Any) -> str:
        return short_time(self.ctx.clock.now(), ms)

    # -- the room list ---------------------------------------------------------------------
    def screen_main(self, entry: Entry) -> Screen:
        down = self.unavailable(entry, "Chat", lambda: self.refresh(entry))
        if down is not None:
            return down
        body: list[View] = [*self.banner(entry)]
        listed = self.rooms()
        for r in listed:
            last = (r.get("messages") or [{}])[-1]
            snippet = ""
            if last:
                who = "You" if last.get("mine") else last.get("sender_name", "")
                snippet = f"{who}: {last.get('body', '')}".replace("\n", " ")
            unread = int(r.get("unread") or 0)
            meta = self.when(r.get("last_ts")) if r.get("last_ts") else ""
            if unread:
                meta = f"{unread} · {meta}" if meta else str(unread)
            body.append(
                ListRow(
                    title=str(r.get("name") or ""),
                    subtitle=snippet,
                    meta=meta,
                    bold=unread > 0,
                    avatar=avatar(str(r.get("room_id"))),
                    desc=f"{r.get('name')}, {unread} unread" if unread else str(r.get("name")),
                    rid="room",
                    on_click=lambda r=r: self.open_room(r["room_id"]),
                )
            )
        if not listed:
            body.append(self.empty_note("No rooms yet"))
        screen = Screen(self.toolbar("Chat", up=False), body)
        screen.on_refresh = lambda: self.refresh(entry)
        return screen

    def open_room(self, room_id: str) -> None:
        entry = self.ui.push(self, "room", room_id=room_id)
        room = self.room(room_id) or {}
        messages = room.get("messages") or []
        if messages and room.get("unread"):

            def read() -> None:
                self.client.mark_read(room_id, messages[-1]["event_id"])

            self.attempt(entry, read)
        self.refresh(entry)

    # -- one room --------------------------------------------------------------------------
    def screen_room(self, entry: Entry) -> Screen:
        args = entry["args"]
        room = self.room(str(args.get("room_id")))
        if room is None:
            return Screen(self.toolbar("Chat"), [*self.banner(entry), self.empty_note("No room")])
        messages = room.get("messages") or []
        by_id = {m["event_id"]: m for m in messages}
        group = len(room.get("members") or []) > 2
        body: list[View] = [*self.banner(entry)]
        if room.get("limited"):
            body.append(
                Text(
                    text="Earlier messages are not shown",
                    rid="limited",
                    size=12,
                    color=SOFT,
                    center=True,
                )
            )
        for m in messages:
            mine = bool(m.get("mine"))
            if group and not mine:
                body.append(
                    Text(
                        text=str(m.get("sender_name")),
                        rid="sender",
                        size=12,
                        color=SOFT,
                        vpad=0,
                        pad=20,
                    )
                )
            target = by_id.get(str(m.get("reply_to")))
            if m.get("reply_to"):
                quoted = f"↪ {target['sender_name']}: {target['body']}" if target else "↪ a message"
                body.append(
                    Text(
                        text=quoted,
                        rid="reply_quote",
                        size=12,
                        color=SOFT,
                        vpad=0,
                        pad=20,
                        max_lines=2,
                        right=mine,
                    )
                )

            def menu(eid: str = m["event_id"]) -> None:
                entry["dialog"] = f"message:{eid}"

            bubble = Bubble(
                text=str(m.get("body") or ""),
                outgoing=mine,
                rid="message_text_outgoing" if mine else "message_text",
            )
            bubble.on_click = menu
            bubble.on_long_click = menu
            body.append(bubble)
            reacts = m.get("reactions") or {}
            stamp = self.when(m.get("ts"))
            if reacts:
                stamp = "  ".join(f"{k} {len(v)}" for k, v in reacts.items()) + "   " + stamp
            body.append(
                Text(
                    text=stamp,
                    rid="message_status",
                    size=11,
                    color=SOFT,
                    vpad=0,
                    pad=20,
                    right=mine,
                )
            )
        if not messages:
            body.append(self.empty_note("No messages yet"))
        bottom: list[View] = []
        reply = by_id.get(str(args.get("reply_to"))) if args.get("reply_to") else None
        if reply is not None:
            bottom.append(
                ListRow(
                    title=f"Replying to {reply['sender_name']}",
                    subtitle=str(reply["body"]).replace("\n", " "),
                    meta="Cancel",
                    rid="replying_to",
                    on_click=lambda: args.pop("reply_to", None),
                )
            )
        bottom += [
            self.field(entry, "compose", "Message", hint="Send a message…", multiline=True),
            self.button("Send", lambda: self.send(entry), rid="send_button"),
        ]
        screen = Screen(
            self.toolbar(str(room.get("name") or "")),
            body,
            bottom=bottom,
            stick_to_end=True,
            dialog=self._menu(entry, by_id),
        )
        screen.on_refresh = lambda: self.refresh(entry)
        return screen

    def _menu(self, entry: Entry, by_id: dict[str, Any]) -> Dialog | None:
        dialog = str(entry.get("dialog") or "")
        if not dialog.startswith("message:"):
            return None
        m = by_id.get(dialog.split(":", 1)[1])
        if m is None:
            return None

        def close() -> None:
            entry["dialog"] = None

        def reply() -> None:
            entry["dialog"] = None
            entry["args"]["reply_to"] = m["event_id"]
            entry["focus"] = "compose"
            entry["caret"] = len(self.form(entry, "compose"))

        reactions = [
            Button(
                text=key,
                desc=f"React with {key}",
                rid="reaction",
                on_click=lambda key=key: self.react(entry, m["event_id"], key),
                style="outlined",
                color=self.color,
            )
            for key in REACTIONS
        ]
        return Dialog(
            title=str(m.get("sender_name") or ""),
            on_cancel=close,
            children=[
                Text(text=str(m.get("body") or ""), rid="android:id/message", max_lines=4),
                ButtonRow(children=reactions),
                self.button("Reply", reply, rid="reply", style="text"),
            ],
        )

    def send(self, entry: Entry) -> None:
        text = self.form(entry, "compose")
        if not text.strip():
            return
        args = entry["args"]
        room_id = str(args.get("room_id"))
        reply_to = args.get("reply_to")
        txn = self.submit_key(entry, {"room": room_id, "body": text, "reply_to": reply_to})

        def work() -> None:
            self.client.send(room_id, text, reply_to=reply_to, txn=txn)

        if self.attempt(entry, work):
            entry["form"]["compose"] = ""
            entry["caret"] = 0
            args.pop("reply_to", None)
            args.pop("nonce", None)  # the next message is a new transaction
            self.refresh(entry)

    def react(self, entry: Entry, event_id: str, key: str) -> None:
        entry["dialog"] = None
        room_id = str(entry["args"].get("room_id"))
        mine = self.cache.get("me") or ""
        room = self.room(room_id) or {}
        for m in room.get("messages") or []:
            if m.get("event_id") == event_id and mine in (m.get("reactions") or {}).get(key, []):
                return  # already reacted with this key; Matrix would only duplicate it
        txn = self.submit_key(entry, {"react": event_id, "key": key})
        if self.attempt(entry, lambda: self.client.react(room_id, event_id, key, txn=txn)):
            self.refresh(entry)
