"""The Chat app's sync state: /sync answers (shapes from the client-server spec) folded
into rooms — incremental updates append, a limited timeline starts over, reactions and
replies attach to their messages, a room without a name is named by its other members."""

from __future__ import annotations

from emulator.sim.matrix import _merge, rooms

ME, LENA, OLE = "@maya:w", "@lena:w", "@ole:w"


def member(uid: str, name: str, membership: str = "join") -> dict:
    return {
        "type": "m.room.member",
        "state_key": uid,
        "sender": uid,
        "content": {"membership": membership, "displayname": name},
    }


def text(eid: str, sender: str, body: str, ts: int, reply_to: str | None = None) -> dict:
    content: dict = {"msgtype": "m.text", "body": body}
    if reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    return {
        "type": "m.room.message",
        "event_id": eid,
        "sender": sender,
        "origin_server_ts": ts,
        "content": content,
    }


def react(eid: str, sender: str, target: str, key: str) -> dict:
    rel = {"rel_type": "m.annotation", "event_id": target, "key": key}
    return {
        "type": "m.reaction",
        "event_id": eid,
        "sender": sender,
        "content": {"m.relates_to": rel},
    }


def test_incremental_updates_append_and_fold_reactions_and_replies():
    first = {
        "state": {"events": [member(ME, "Maya"), member(LENA, "Lena Albrecht")]},
        "timeline": {"events": [text("$1", LENA, "Kino?", 1000)], "limited": False},
        "unread_notifications": {"notification_count": 1},
    }
    room = _merge(None, first, ME)
    assert [m["body"] for m in room["messages"]] == ["Kino?"] and room["unread"] == 1
    later = {
        "timeline": {
            "events": [
                text("$2", ME, "Ja!", 2000, reply_to="$1"),
                react("$3", ME, "$1", "👍"),
                react("$4", ME, "$1", "👍"),  # the same key twice counts once
                member(OLE, "Ole Berg"),
            ]
        },
        "unread_notifications": {"notification_count": 0},
    }
    room = _merge(room, later, ME)
    first_msg, reply = room["messages"]
    assert first_msg["reactions"] == {"👍": [ME]}
    assert (reply["reply_to"], reply["mine"], reply["sender_name"]) == ("$1", True, "Maya")
    assert room["unread"] == 0 and room["last_ts"] == 2000
    listed = rooms({"user": ME, "rooms": {"!r": room}})
    assert listed[0]["name"] == "Lena Albrecht, Ole Berg"  # no m.room.name: the others
    assert listed[0]["members"] == ["Lena Albrecht", "Maya", "Ole Berg"]


def test_a_limited_timeline_replaces_what_was_known_and_names_win():
    room = _merge(None, {"timeline": {"events": [text("$1", LENA, "alt", 1)]}}, ME)
    gap = {
        "state": {
            "events": [{"type": "m.room.name", "state_key": "", "content": {"name": "friends"}}]
        },
        "timeline": {"events": [text("$9", LENA, "neu", 9)], "limited": True},
    }
    room = _merge(room, gap, ME)
    assert [m["body"] for m in room["messages"]] == ["neu"] and room["limited"]
    assert rooms({"user": ME, "rooms": {"!r": room}})[0]["name"] == "friends"
