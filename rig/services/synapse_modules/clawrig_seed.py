"""A Synapse module (loaded by the world's homeserver, not by the rig) that writes seeded
chat history in a few requests.

Matrix has no batch send (MSC2716 is gone from Synapse), so history through the
client-server API costs one request per message. This module uses only Synapse's
documented module API (``register_web_resource``, ``register_user``,
``create_room``, ``update_room_membership``,
``create_and_send_event_into_room`` with the event's ``origin_server_ts``) to make
users, rooms, joins and messages from one JSON body. Only a caller with the
world's application-service token reaches it (anyone else gets 404), and the
audit proxy never forwards its path. It imports nothing from the rig: it runs in
Synapse's own venv.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from twisted.internet import defer
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

PATH = "/_synapse/client/clawrig/seed"


class SeedModule:
    """``modules: [{module: clawrig_seed.SeedModule, config: {token: AS_TOKEN}}]``."""

    def __init__(self, config: dict[str, Any], api: Any) -> None:
        api.register_web_resource(PATH, _SeedResource(api, str(config["token"])))

    @staticmethod
    def parse_config(config: dict[str, Any]) -> dict[str, Any]:
        if not config.get("token"):
            raise ValueError("clawrig_seed needs a token")
        return config


class _SeedResource(Resource):
    isLeaf = True

    def __init__(self, api: Any, token: str) -> None:
        super().__init__()
        self.api, self.token = api, token

    def render_POST(self, request: Any) -> Any:
        auth = (request.getHeader("authorization") or "").encode()
        if not hmac.compare_digest(auth, f"Bearer {self.token}".encode()):
            return _answer(request, 404, {"errcode": "M_UNRECOGNIZED", "error": "not found"})
        try:
            body = json.loads(request.content.read())
        except ValueError:
            return _answer(request, 400, {"errcode": "M_NOT_JSON", "error": "not JSON"})
        done = self.api.run_as_background_process("clawrig_seed", _caught(self._setup), body)
        done.addCallback(self._send, body)
        done.addCallback(lambda result: _answer(request, 400 if "error" in result else 200, result))
        done.addErrback(
            lambda failure: _answer(request, 500, {"errcode": "M_UNKNOWN", "error": str(failure)})
        )
        return NOT_DONE_YET

    async def _setup(self, body: dict[str, Any]) -> dict[str, Any]:
        """``users`` [{localpart, displayname}], then ``rooms`` [{key, creator, name,
        invite, is_direct}] with every invitee joined; answers the rooms' ids by key."""
        api = self.api
        for user in body.get("users", []):
            uid = api.get_qualified_user_id(user["localpart"])
            if await api.check_user_exists(uid) is None:
                await api.register_user(user["localpart"], user.get("displayname"))
        rooms: dict[str, str] = {}
        for room in body.get("rooms", []):
            config = {
                "name": room["name"],
                "preset": "private_chat",
                "invite": room["invite"],
                "is_direct": bool(room.get("is_direct")),
            }
            rooms[room["key"]], _alias = await api.create_room(
                room["creator"], config, ratelimit=False
            )
            for uid in room["invite"]:
                await api.update_room_membership(uid, uid, rooms[room["key"]], "join")
        return {"rooms": rooms}

    def _send(self, setup: dict[str, Any], body: dict[str, Any]) -> Any:
        """``messages`` [{room (a key of this request's rooms, or a room id), sender, body,
        ts}]: each room's in order, the rooms side by side (Synapse then overlaps one
        room's database work with another's); answers the event ids in the given order."""
        if "error" in setup:
            return setup
        rooms = setup["rooms"]
        by_room: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for i, m in enumerate(body.get("messages", [])):
            by_room.setdefault(rooms.get(m["room"], m["room"]), []).append((i, m))
        runs = [
            self.api.run_as_background_process("clawrig_seed_room", _caught(self._room), rid, ms)
            for rid, ms in by_room.items()
        ]

        def combine(results: list[dict[str, Any]]) -> dict[str, Any]:
            events: dict[int, str] = {}
            for result in results:
                if "error" in result:
                    return result
                events.update(result["events"])
            return {"rooms": rooms, "events": [events[i] for i in sorted(events)]}

        return defer.gatherResults(runs, consumeErrors=True).addCallback(combine)

    async def _room(self, room_id: str, messages: list[tuple[int, dict[str, Any]]]) -> Any:
        events = []
        for i, m in messages:
            event = await self.api.create_and_send_event_into_room(
                {
                    "type": "m.room.message",
                    "room_id": room_id,
                    "sender": m["sender"],
                    "content": {"msgtype": "m.text", "body": m["body"]},
                    "origin_server_ts": int(m["ts"]),
                }
            )
            events.append((i, event.event_id))
        return {"events": events}


def _caught(func: Any) -> Any:
    """A background process answers None when it raises: keep the reason instead."""

    async def run(*args: Any) -> dict[str, Any]:
        try:
            return await func(*args)
        except Exception as exc:  # the caller answers it as a 400 with the reason
            return {"errcode": "M_UNKNOWN", "error": f"{type(exc).__name__}: {exc}"}

    return run


def _answer(request: Any, status: int, value: Any) -> Any:
    data = json.dumps(value, ensure_ascii=False).encode("utf-8")
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", b"application/json")
    request.setHeader(b"Content-Length", str(len(data)).encode())
    request.write(data)
    request.finish()
    return NOT_DONE_YET
