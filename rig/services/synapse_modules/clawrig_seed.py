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
        done = self.api.run_as_background_process("clawrig_seed", self._seed, body)
        done.addCallbacks(
            lambda result: _answer(request, 200, result),
            lambda failure: _answer(
                request,
                400,
                {"errcode": "M_UNKNOWN", "error": f"{failure.type.__name__}: {failure.value}"},
            ),
        )
        return NOT_DONE_YET

    async def _seed(self, body: dict[str, Any]) -> dict[str, Any]:
        """``users`` [{localpart, displayname}], ``rooms`` [{key, creator, name, invite,
        is_direct}], ``messages`` [{room (a key or a room id), sender, body, ts}], in that
        order; answers the rooms' ids and the messages' event ids."""
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
        events = []
        for m in body.get("messages", []):
            event = await api.create_and_send_event_into_room(
                {
                    "type": "m.room.message",
                    "room_id": rooms.get(m["room"], m["room"]),
                    "sender": m["sender"],
                    "content": {"msgtype": "m.text", "body": m["body"]},
                    "origin_server_ts": int(m["ts"]),
                }
            )
            events.append(event.event_id)
        return {"rooms": rooms, "events": events}


def _answer(request: Any, status: int, value: Any) -> Any:
    data = json.dumps(value, ensure_ascii=False).encode("utf-8")
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", b"application/json")
    request.setHeader(b"Content-Length", str(len(data)).encode())
    request.write(data)
    request.finish()
    return NOT_DONE_YET
