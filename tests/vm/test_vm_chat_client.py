"""The laptop's Matrix client: matrix-commander in the image, logged in at seed time through
guestfwd, talking to the world's Synapse; what it sends is what the homeserver holds and
what the virtual phone's Chat app shows."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rig.redact import Redactor
from rig.service_clients import connect_devices
from rig.services.base import Account
from rig.services.stack import ServiceStack
from rig.world import World
from tasks.compile import compile_stream
from tests.compile.streams import HOSTILE, at, events
from tests.console_phone import console_phone
from tests.service_clients import ui
from tests.services.conftest import NOW

pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]
STREAM = [
    {"t": at(0), "kind": "chat.message", "target": "service:chat", "room": "friends",
     "sender": "Lena Albrecht", "body": "Kino am Freitag? " + HOSTILE},
    {"t": at(1), "kind": "chat.message", "target": "service:chat", "room": "Familie",
     "sender": "Jonas Fischer", "body": "Wer holt Emil ab?"},
]  # fmt: skip
# No leading "-" (a program's argument): everything else a person may type.
SENT = 'Um 20:15 – it\'s "$HOME" `id` $(date) 50% %s\\n back\\slash\nZeile 2 😀 東京の会議'


@pytest.fixture
def world(fresh_vm, tmp_path: Path) -> Iterator[World]:
    out = Path(tempfile.mkdtemp(prefix="clawrig-test-chat-client-"))
    os.chmod(out, 0o755)
    try:
        with (
            console_phone(tmp_path) as phone,
            ServiceStack(
                ["chat"], out / "services", NOW, [Account("maya")], clients=["phone", "laptop"]
            ) as stack,
        ):
            plans = compile_stream({}, "Europe/Berlin", events(STREAM), ("chat",), now=NOW)
            stack["chat"].seed(plans.services["chat"])
            w = World(now=NOW, timezone="Europe/Berlin")
            w.add(phone)
            w.devices["laptop"] = fresh_vm
            w.services = dict(stack.services)
            yield w
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _mc(laptop, args: str, ok: bool = True):
    r = laptop.exec(f"matrix-commander {args}", timeout=180)
    if ok:
        assert r.exit_code == 0, (args, r.stdout, r.stderr)
    return r


def test_a_message_sent_with_matrix_commander_reads_back_from_synapse(world):
    laptop, chat = world["laptop"], world.services["chat"]
    redactor = Redactor()
    done = connect_devices(world, "Maya Fischer", redactor=redactor)
    assert ".config/matrix-commander/credentials.json" in done["laptop"]["web"]
    creds_path = "~/.config/matrix-commander/credentials.json"
    assert laptop.exec(f"stat -c %a {creds_path}").stdout.strip() == "600"
    creds = json.loads(laptop.exec(f"cat {creds_path}").stdout)
    assert creds["user_id"] == "@maya:clawrig.world" and creds["room_id"] == ""
    assert creds["homeserver"] == "http://chat.clawrig.world:8008"
    assert redactor.text(creds["access_token"]) != creds["access_token"]  # never recorded
    # The login went through the laptop's own port (guestfwd), as the persona.
    logins = [r for r in chat.audit() if r["path"].endswith("/login") and r["status"] == 200]
    assert [(r["user"], r["client"]) for r in logins if r["client"] == "laptop"] == [
        (chat.me, "laptop")
    ]

    rooms = _mc(laptop, "--joined-rooms").stdout.split()
    assert len(rooms) == 2 and all(r.endswith(":clawrig.world") for r in rooms)
    # The room list of a person's first look: the rooms' last messages with their names.
    tails = _mc(laptop, f"--tail 5 -r {' '.join(shlex.quote(r) for r in rooms)}").stdout
    names = dict(re.findall(r"Message received for room (\S+) \[(\S+)\]", tails))
    assert set(names) == {"friends", "Familie"}
    assert "Kino am Freitag?" in tails and "東京の会議" in tails and "Wer holt Emil ab?" in tails
    info = _mc(laptop, f"--get-room-info {shlex.quote(names['Familie'])} --output json").stdout
    assert json.loads(info.splitlines()[0])["display_name"] == "Familie"

    _mc(laptop, f"-m {shlex.quote(SENT)} -r {shlex.quote(names['friends'])}")
    mine = [m for m in chat.messages() if m["sender"] == chat.me and m["room"] == "friends"]
    assert [m["body"] for m in mine] == [SENT]  # byte for byte, in the right room
    puts = [r for r in chat.audit() if r["op"] == "MATRIX PUT" and "/send/" in r["path"]]
    assert [(r["user"], r["client"]) for r in puts] == [(chat.me, "laptop")]

    # No default room: a message without -r is refused and sends nothing.
    r = _mc(laptop, "-m 'wohin?'", ok=False)
    assert r.exit_code != 0
    assert [m["body"] for m in chat.messages() if m["sender"] == chat.me] == [SENT]

    # The phone's Chat app (same account, its own login) shows it in the room, exactly.
    phone = world["phone"]
    phone.launch("world.clawrig.chat")
    ui.tap(phone, text="friends")
    assert SENT in ui.texts(phone), ui.texts(phone)
