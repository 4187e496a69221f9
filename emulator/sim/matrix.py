"""The phone's Matrix client: login, sync, send, reply, react, read markers.

What the Chat app needs of the client-server API (spec v1.x, ``/_matrix/client/v3``),
through the phone's network (:mod:`emulator.sim.webclient`). The session (access
token, device id) is kept in the app's data folder like a real client keeps it,
and made again with ``m.login.password`` when the server no longer knows it.
:meth:`MatrixClient.sync` keeps what the screens show up to date (a first full
``/sync``, then incremental ones) and :func:`rooms` lists it: joined rooms with
name, members, unread count (the server's ``notification_count``) and the recent
timeline with replies and reactions folded in.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from emulator.sim.webclient import ServiceUnreachable, call, error_text

API = "/_matrix/client/v3"
TIMELINE_LIMIT = 50
MAX_KEPT = 200  # messages per room the app keeps
SYNC_FILTER = {
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
    "room": {
        "timeline": {"limit": TIMELINE_LIMIT},
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
}


class MatrixError(Exception):
    """The homeserver refused a request (its ``error`` text)."""


def _q(value: str) -> str:
    return quote(value, safe="")


class MatrixClient:
    """One account's session; ``vfs`` and ``path`` say where the session file lives."""

    def __init__(self, account: Any, vfs: Any, path: str) -> None:
        self.account, self.vfs, self.path = account, vfs, path
        self._session: dict[str, Any] | None = None

    # -- session ---------------------------------------------------------------------------
    def _stored(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.vfs.read_bytes(self.path))
        except (OSError, ValueError):
            return None
        same = data.get("url") == self.account.url and data.get("login") == self.account.user
        return data if isinstance(data, dict) and same and data.get("access_token") else None

    def session(self) -> dict[str, Any]:
        if self._session is None:
            self._session = self._stored() or self.login()
        return self._session

    @property
    def user_id(self) -> str:
        return str(self.session()["user_id"])

    def login(self) -> dict[str, Any]:
        body = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": self.account.user},
            "password": self.account.password,
            "initial_device_display_name": "Phone",
        }
        status, answer = call(self.account, "POST", f"{API}/login", body, headers=_no_auth())
        if status != 200 or not isinstance(answer, dict) or "access_token" not in answer:
            raise MatrixError(f"login failed: {error_text(status, answer)}")
        session = {
            "url": self.account.url,
            "login": self.account.user,
            "user_id": answer["user_id"],
            "access_token": answer["access_token"],
            "device_id": answer.get("device_id", ""),
        }
        folder = self.path.rsplit("/", 1)[0]
        self.vfs.mkdir(folder)
        self.vfs.write_bytes(self.path, json.dumps(session).encode("utf-8"), 0o600)
        self._session = session
        return session

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One authorised request; a token the server forgot logs in again once."""
        for attempt in (0, 1):
            token = self.session()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            status, answer = call(self.account, method, API + path, body, headers=headers)
            if status == 401 and attempt == 0:
                self._session = None
                if self.vfs.exists(self.path):
                    self.vfs.remove(self.path)
                continue
            if status != 200:
                raise MatrixError(error_text(status, answer))
            return answer
        raise MatrixError("the homeserver refused the login")  # pragma: no cover

    # -- reading ----------------------------------------------------------------------------
    def sync(self, known: dict[str, Any] | None = None) -> dict[str, Any]:
        """``known`` brought up to date: a full ``/sync`` the first time, then incremental
        ones from its ``since`` token, as clients do (Synapse keeps answering a repeated
        initial sync from its cache for minutes, so only ``since`` sees what is new)."""
        known = known if known and known.get("user") == self.user_id else {}
        rooms: dict[str, Any] = dict(known.get("rooms") or {})
        query: dict[str, Any] = {"timeout": 0, "filter": json.dumps(SYNC_FILTER)}
        if known.get("since"):
            query["since"] = known["since"]
        answer = self.request("GET", f"/sync?{urlencode(query)}")
        me = self.user_id
        updates = answer.get("rooms") or {}
        for rid, update in (updates.get("join") or {}).items():
            rooms[rid] = _merge(rooms.get(rid), update, me)
        for rid in updates.get("leave") or {}:
            rooms.pop(rid, None)
        return {"user": me, "since": answer.get("next_batch"), "rooms": rooms}

    # -- writing ----------------------------------------------------------------------------
    def send(self, room_id: str, body: str, reply_to: str | None = None, txn: str = "") -> str:
        content: dict[str, Any] = {"msgtype": "m.text", "body": body}
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        txn = txn or uuid.uuid4().hex
        path = f"/rooms/{_q(room_id)}/send/m.room.message/{_q(txn)}"
        return str(self.request("PUT", path, content)["event_id"])

    def react(self, room_id: str, event_id: str, key: str, txn: str = "") -> str:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        txn = txn or uuid.uuid4().hex
        path = f"/rooms/{_q(room_id)}/send/m.reaction/{_q(txn)}"
        return str(self.request("PUT", path, content)["event_id"])

    def mark_read(self, room_id: str, event_id: str) -> None:
        body = {"m.fully_read": event_id, "m.read": event_id}
        self.request("POST", f"/rooms/{_q(room_id)}/read_markers", body)


def _no_auth() -> dict[str, str]:
    # The login request carries no credentials of its own; "" keeps webclient's Basic out.
    return {"Authorization": ""}


def _merge(room: dict[str, Any] | None, update: dict[str, Any], me: str) -> dict[str, Any]:
    """One joined room's sync update folded into what the app knew of it."""
    room = dict(room or {"name": "", "names": {}, "members": [], "messages": []})
    names: dict[str, str] = dict(room.get("names") or {})
    members = set(room.get("members") or [])
    timeline = update.get("timeline") or {}
    events = list((update.get("state") or {}).get("events") or [])
    events += list(timeline.get("events") or [])
    # A limited timeline has a gap before it: what was known is no longer contiguous.
    messages = [] if timeline.get("limited") else list(room.get("messages") or [])
    by_id = {m["event_id"]: m for m in messages}
    for e in events:
        content = e.get("content") or {}
        kind = e.get("type")
        if "state_key" in e:
            if kind == "m.room.name":
                room["name"] = str(content.get("name") or "")
            elif kind == "m.room.member":
                uid = str(e["state_key"])
                if content.get("displayname"):
                    names[uid] = str(content["displayname"])
                if content.get("membership") == "join":
                    members.add(uid)
                else:
                    members.discard(uid)
        elif kind == "m.room.message" and "body" in content and e["event_id"] not in by_id:
            relates = content.get("m.relates_to") or {}
            msg = {
                "event_id": e["event_id"],
                "sender": e["sender"],
                "body": str(content.get("body") or ""),
                "ts": int(e.get("origin_server_ts") or 0),
                "reply_to": (relates.get("m.in_reply_to") or {}).get("event_id"),
                "reactions": {},
            }
            messages.append(msg)
            by_id[msg["event_id"]] = msg
        elif kind == "m.reaction":
            rel = content.get("m.relates_to") or {}
            target = by_id.get(str(rel.get("event_id")))
            if target is not None and rel.get("key"):
                who = target["reactions"].setdefault(str(rel["key"]), [])
                if e["sender"] not in who:
                    who.append(e["sender"])
    for m in messages:
        m["sender_name"] = names.get(m["sender"], m["sender"])
        m["mine"] = m["sender"] == me
    counts = update.get("unread_notifications")
    if counts is not None:
        room["unread"] = int(counts.get("notification_count") or 0)
    room.update(
        names=names,
        members=sorted(members),
        messages=messages[-MAX_KEPT:],
        limited=bool(timeline.get("limited")) or bool(room.get("limited")),
        last_ts=messages[-1]["ts"] if messages else int(room.get("last_ts") or 0),
    )
    return room


def rooms(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The rooms of a :meth:`MatrixClient.sync` state as the room list shows them: a name
    (the room's, or its other members'), members, unread count, most recent first."""
    me = state.get("user")
    out = []
    for rid, room in (state.get("rooms") or {}).items():
        names = room.get("names") or {}
        others = sorted(names.get(u, u) for u in room.get("members") or [] if u != me)
        out.append(
            {
                **room,
                "room_id": rid,
                "name": room.get("name") or ", ".join(others) or rid,
                "members": sorted(names.get(u, u) for u in room.get("members") or []),
                "unread": int(room.get("unread") or 0),
            }
        )
    out.sort(key=lambda r: -int(r.get("last_ts") or 0))
    return out


__all__ = ["MatrixClient", "MatrixError", "ServiceUnreachable", "rooms"]
