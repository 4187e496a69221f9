"""Reference solution: read the mother's SMS in the phone's Messages app (the later one
rebooks to 15:20), then on the laptop find Jonas's question in the family room and
answer it there, with curl on the Matrix API and the token of the laptop's
matrix-commander login. (matrix-commander itself takes 30-60 s a call in a loaded TCG
guest, at the edge of the rig's 60 s shell limit: see docs/services-web.md.)"""

import json
import re
import shlex

CREDS = "~/.config/matrix-commander/credentials.json"


def _json(env, command):
    return json.loads(env.shell("laptop", command).stdout)


def solve(env):
    env.launch("phone", "com.google.android.apps.messaging")
    env.tap_text("phone", "Renate Fischer")
    texts = "\n".join(env.see("phone", "umgebucht"))
    assert re.search(r"erst um 15:20", texts), texts
    base = _json(env, f"cat {CREDS}")["homeserver"] + "/_matrix/client/v3"
    auth = f'-H "Authorization: Bearer $(jq -r .access_token {CREDS})"'
    family = None
    for room in _json(env, f"curl -s {auth} {base}/joined_rooms")["joined_rooms"]:
        name = _json(env, f"curl -s {auth} '{base}/rooms/{room}/state/m.room.name'")
        if name.get("name") == "Familie":
            family = room
    assert family, "no family room"
    history = _json(env, f"curl -s {auth} '{base}/rooms/{family}/messages?dir=b&limit=10'")
    asked = [
        e["content"]["body"]
        for e in history["chunk"]
        if e["type"] == "m.room.message" and "Wann landet" in e["content"].get("body", "")
    ]
    assert asked, history
    message = json.dumps(
        {
            "msgtype": "m.text",
            "body": "Mama landet Samstag um 15:20 (Terminal 1, EW 8051, umgebucht).",
        }
    )
    sent = _json(
        env,
        f"curl -s -X PUT {auth} '{base}/rooms/{family}/send/m.room.message/landing-1' "
        f"-d {shlex.quote(message)}",
    )
    assert sent.get("event_id"), sent
