"""The world's chat, controller side: Matrix endpoints, health, seeding, readers.

Seeding and reading go straight to the world's Synapse as the application service
(``?user_id=`` acts as any user of the world, ``?ts=`` gives a message its own
time), not through the audit proxy that devices use. Every contact who speaks in
the stream becomes a user with their name as display name; every room is created
by the persona, who invites and is joined by its members; history is read back
with one ``/messages`` per room and must match sender, body and timestamp.
"""

from __future__ import annotations

import hashlib
import http.client
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from rig.services.audit import read_audit
from rig.services.base import Account, ServiceDown, json_round_trip, role_port
from rig.services.chat_server import SERVER_NAME, localpart

SEED_PATH = "/_synapse/client/clawrig/seed"  # rig/services/synapse_modules/clawrig_seed.py
SEED_BATCH = 500  # messages per seeding request (Synapse writes ~20-60 per second)


class ChatService:
    name = "chat"

    def __init__(self, stack: Any, ports: Mapping[str, Any]) -> None:
        self.port = int(ports["http"])
        self.client_ports: dict[str, dict[str, int]] = dict(ports.get("clients") or {})
        self.synapse_port = int(ports["synapse"])
        self.account: Account = stack.accounts[0]
        self.me = f"@{self.account.user}:{SERVER_NAME}"
        self.audit_path: Path = stack.audit_path(self.name)
        self._as_token = (Path(stack.runtime) / "chat.as_token").read_text().strip()
        self.round_trips = 0

    def port_for(self, role: str | None = None) -> int:
        """A device role's own port on the audit proxy (the audit names the role), or the
        rig's."""
        return role_port(self.name, self.port, self.client_ports, role)

    def endpoint(self, role: str | None = None) -> dict[str, Any]:
        return {
            "url": f"http://127.0.0.1:{self.port_for(role)}",
            "server_name": SERVER_NAME,
            "user": self.me,
            "password": self.account.password,
        }

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        user_id: str | None = None,
        ts: int | None = None,
    ) -> tuple[int, Any]:
        """One client-server API request to Synapse as the application service."""
        query = {k: v for k, v in (("user_id", user_id), ("ts", ts)) if v is not None}
        if query:
            path += ("&" if "?" in path else "?") + urlencode(query)
        headers = {"Authorization": f"Bearer {self._as_token}", "Content-Type": "application/json"}
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        self.round_trips += 1
        what = f"{method} {path.split('?')[0]}"  # the query may carry an access token
        return json_round_trip(
            self.name, self.synapse_port, method, path, data, headers, 60, what=what
        )

    def _ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        status, answer = self._call(method, path, body, **kw)
        if status != 200:
            raise ServiceDown(self.name, f"{method} {path} answered {status}: {str(answer)[:300]}")
        return answer

    def health(self) -> None:
        answer = self._ok("GET", "/_matrix/client/v3/account/whoami", user_id=self.me)
        if answer.get("user_id") != self.me:
            raise ServiceDown(self.name, f"whoami answered {answer!r}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            conn.connect()
            conn.close()
        except OSError as exc:
            raise ServiceDown(self.name, f"the client proxy does not answer: {exc}") from exc

    # -- seeding --------------------------------------------------------------------------
    def user_id(self, name: str | None) -> str:
        return self.me if name is None else f"@{localpart(name)}:{SERVER_NAME}"

    def seed(self, plan: Any) -> dict[str, Any]:
        """Users, rooms, joins and messages through the homeserver's seed module (one request
        per :data:`SEED_BATCH` messages), then every room read back over the client API."""
        before = self.round_trips
        people = sorted(
            {m.sender for m in plan.messages if m.sender is not None}
            | {p for members in plan.rooms.values() for p in members}
        )
        body: dict[str, Any] = {
            "users": [{"localpart": localpart(p), "displayname": p} for p in people],
            "rooms": [
                {
                    "key": room,
                    "name": room,
                    "creator": self.me,
                    "invite": [self.user_id(p) for p in members],
                    "is_direct": len(members) == 1 and members[0] == room,
                }
                for room, members in plan.rooms.items()
            ],
        }
        room_ids: dict[str, str] = {}
        messages = [
            {"room": m.room, "sender": self.user_id(m.sender), "body": m.body, "ts": _ms(m.t)}
            for m in plan.messages
        ]
        for start in range(0, max(len(messages), 1), SEED_BATCH):
            batch = messages[start : start + SEED_BATCH]
            body["messages"] = [{**m, "room": room_ids.get(m["room"], m["room"])} for m in batch]
            answer = self._seed_request(body)
            room_ids.update(answer["rooms"])
            if len(answer["events"]) != len(batch):
                raise ServiceDown(self.name, f"seed sent {len(answer['events'])} of {len(batch)}")
            body = {}
        want = sorted((m.room, self.user_id(m.sender), m.body, _ms(m.t)) for m in plan.messages)
        got = sorted(
            (r["room"], r["sender"], r["body"], r["ts_ms"])
            for r in self.messages()
            if r["room"] in plan.rooms
        )
        if got != want:
            missing = [w for w in want if w not in got][:2]
            raise ServiceDown(
                self.name,
                f"seed did not read back: {len(got)} of {len(want)} "
                f"messages, first missing {missing!r}",
            )
        digest = hashlib.sha256(json.dumps(want, ensure_ascii=False).encode()).hexdigest()
        return {
            "digest": digest,
            "messages": len(want),
            "rooms": len(room_ids),
            "users": len(people),
            "round_trips": self.round_trips - before,
        }

    def _seed_request(self, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Authorization": f"Bearer {self._as_token}", "Content-Type": "application/json"}
        self.round_trips += 1
        status, answer = json_round_trip(
            self.name, self.synapse_port, "POST", SEED_PATH, data, headers, 600
        )
        if status != 200 or not isinstance(answer, dict):
            raise ServiceDown(self.name, f"seeding answered {status}: {str(answer)[:300]}")
        return answer

    # -- readers --------------------------------------------------------------------------
    def messages(self) -> list[dict[str, Any]]:
        """Every text message in every room the persona is in, oldest first per room."""
        rooms = self._ok("GET", "/_matrix/client/v3/joined_rooms", user_id=self.me)["joined_rooms"]
        out: list[dict[str, Any]] = []
        names: dict[str, str] = {}
        for rid in rooms:
            status, named = self._call(
                "GET", f"/_matrix/client/v3/rooms/{quote(rid)}/state/m.room.name", user_id=self.me
            )
            room = named.get("name", rid) if status == 200 else rid
            members = self._ok(
                "GET", f"/_matrix/client/v3/rooms/{quote(rid)}/joined_members", user_id=self.me
            )["joined"]
            for uid, info in members.items():
                names[uid] = (info or {}).get("display_name") or uid
            for e in self._history(rid):
                if e.get("type") != "m.room.message":
                    continue
                content = e.get("content") or {}
                out.append(
                    {
                        "event_id": e["event_id"],
                        "room": room,
                        "room_id": rid,
                        "sender": e["sender"],
                        "sender_name": names.get(e["sender"], e["sender"]),
                        "body": content.get("body", ""),
                        "ts_ms": e["origin_server_ts"],
                        "ts": datetime.fromtimestamp(e["origin_server_ts"] / 1000, UTC),
                        "members": sorted(names.get(u, u) for u in members),
                        "in_reply_to": (
                            (content.get("m.relates_to") or {}).get("m.in_reply_to") or {}
                        ).get("event_id"),
                    }
                )
        return out

    def _history(self, rid: str) -> list[dict[str, Any]]:
        """A room's events, oldest first (Synapse answers at most 1,000 per page)."""
        events: list[dict[str, Any]] = []
        since = ""
        while True:
            page = self._ok(
                "GET",
                f"/_matrix/client/v3/rooms/{quote(rid)}/messages?dir=f&limit=1000{since}",
                user_id=self.me,
            )
            events.extend(page.get("chunk") or [])
            if not page.get("chunk") or not page.get("end"):
                return events
            since = f"&from={quote(page['end'])}"

    def snapshot(self) -> dict[str, Any]:
        rows = {
            m["event_id"]: {
                **{k: v for k, v in m.items() if k != "ts"},
                "from_me": m["sender"] == self.me,
            }
            for m in self.messages()
        }
        return {"collections": {"messages": rows}}

    def audit(self) -> list[dict[str, Any]]:
        return read_audit(self.audit_path)

    def read_state(self, query: Any) -> Any:
        from rig.services import readers

        return readers.read(self, query)

    def close(self) -> None:
        pass


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)
