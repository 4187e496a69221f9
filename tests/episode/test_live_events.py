"""Live events land through the real paths and are seen by the devices' own apps and tools.

Real parts: the virtual phone behind the real adb server (its console takes ``sms send``,
its Mail app syncs over IMAP, its notification shade shows unread SMS), the world's
service host (SMTP/IMAP with Dovecot, Radicale, Synapse, the bank under uvicorn).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from rig.api import TaskEnv

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HOSTILE = 'Kita: pickup moved to 15:00 — bring the form! 你好 $x `id` 100% "ok" 🎒'

STEPPED = """\
id: live-kinds
title: Live events of every kind
mode: proactive
surfaces: [gui]
instruction: Watch what happens.
now: 2026-03-16T09:00:00+01:00
timezone: Europe/Berlin
devices: {phone: android}
services: [mail, calendar, chat, bank]
events:
  persona: maya
  generator: {days: 1, seed: 5}
  plot:
    - {t: -1d 10:00, kind: calendar.created, target: service:calendar, event_id: standup,
       title: Standup, start: "+0d 11:00", end: "+0d 11:30"}
    - {t: -1d 10:00, kind: bank.transaction, target: service:bank, account: Haushaltskonto,
       amount: 2000.00, currency: EUR, counterparty: Lindgren Analytics, reference: Salary,
       balance: 2500.00}
clock: {mode: stepped}
live:
  - {t: +3m, kind: sms.received, target: phone, address: "+49 170 1234567", body: '__SMS__'}
  - {t: +5m, kind: mail.received, target: service:mail, message_id: "<live-1@school.example>",
     sender: "Schule am Park <office@school.example>", to: [maya.fischer@posteo.example],
     subject: "Wandertag moved to Friday", body: "Dear parents, the trip moves. 🥾"}
  - {t: +10m, kind: calendar.moved, target: service:calendar, event_id: standup,
     start: "+0d 12:00", end: "+0d 12:30"}
  - {t: +10m, kind: calendar.created, target: service:calendar, event_id: dentist,
     title: Zahnarzt Dr. Baumann, start: "+0d 16:00", end: "+0d 16:45"}
  - {t: +20m, kind: chat.message, target: service:chat, room: Familie, sender: Jonas Fischer,
     body: "Ich hole Emil heute ab 🚲"}
  - {t: +30m, kind: bank.transaction, target: service:bank, account: Haushaltskonto,
     amount: -42.50, currency: EUR, counterparty: Stadtwerke Berlin, reference: Abschlag März}
  - {t: +40m, kind: file.placed, target: phone, path: /sdcard/Download/ticket.txt,
     text: "Ticket 4711 — Gleis 3"}
checks:
  - {kind: message, keywords: [pickup]}
"""

RUNNING = """\
id: live-running
title: A live SMS during a long step
mode: proactive
surfaces: [gui]
instruction: Watch what happens.
now: 2026-03-16T09:00:00+01:00
timezone: Europe/Berlin
devices: {phone: android}
clock: {mode: running}
live:
  - {t: +4m, kind: sms.received, target: phone, address: "+49 170 1234567", body: early}
checks:
  - {kind: message, keywords: [early]}
"""


def _task(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "task.yaml").write_text(text, encoding="utf-8")
    (folder / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    return folder


def _ui(env: TaskEnv) -> str:
    obs, _, _ = env.step({"action": "ui_tree", "device": "phone"})
    return obs.text


def _wait_next(env: TaskEnv) -> str:
    obs, _, _ = env.step({"action": "wait"})
    assert obs.ok, obs.error
    return obs.text


def test_stepped_wait_delivers_every_kind_seen_by_the_devices(tmp_path):
    body = HOSTILE.replace("'", "''")
    folder = _task(tmp_path, "live-kinds", STEPPED.replace("__SMS__", body))
    out = tmp_path / "run"
    with TaskEnv(folder, out=out) as env:
        env.reset()
        world = env.episode.world
        phone = world["phone"]
        now = datetime.fromisoformat("2026-03-16T09:00:00+01:00")

        # SMS: a real incoming message on the phone, with its notification in the shade.
        assert "advanced 3m" in _wait_next(env)
        rows = phone.shell("content query --uri content://sms/inbox --projection body:date:read")
        assert HOSTILE in rows.stdout and "read=0" in rows.stdout
        assert f"date={int((now + timedelta(minutes=3)).timestamp() * 1000)}" in rows.stdout
        env.step({"action": "swipe", "device": "phone", "x1": 540, "y1": 5, "x2": 540, "y2": 1400})
        assert "bring the form" in _ui(env)  # the notification in the shade
        env.step({"action": "key", "device": "phone", "key": "back"})

        # Mail: in the phone's Mail app (IMAP), not in the outbox (nobody sent it).
        assert "advanced 2m" in _wait_next(env)
        env.step({"action": "launch", "device": "phone", "app": "com.android.email"})
        assert "Wandertag moved to Friday" in _ui(env)
        mail = world.services["mail"]
        assert mail.outbox() == []
        got = [m for m in mail.messages(("INBOX",)) if m.subject == "Wandertag moved to Friday"]
        assert len(got) == 1 and "🥾" in got[0].body

        # Calendar: one entry moved, one created (CalDAV), both as the calendar has them.
        _wait_next(env)
        events = {e.uid: e for e in world.services["calendar"].events(tz="Europe/Berlin")}
        assert events["standup"].start.hour == 12 and events["standup"].end.minute == 30
        assert events["dentist"].summary == "Zahnarzt Dr. Baumann"

        # Chat: from Jonas in the family room, stamped with the world time.
        _wait_next(env)
        said = [m for m in world.services["chat"].messages() if m["body"].endswith("🚲")]
        assert len(said) == 1 and said[0]["sender_name"] == "Jonas Fischer"
        assert said[0]["room"] == "Familie"
        assert said[0]["ts"] == now + timedelta(minutes=20)

        # Bank: the persona's own API shows the booking and the new balance.
        _wait_next(env)
        bank = world.services["bank"]
        status, accounts = bank.request("GET", "/accounts")
        assert status == 200
        (giro,) = [a for a in accounts if a["name"] == "Haushaltskonto"]
        assert giro["balance"] == 2457.5
        status, txns = bank.request("GET", f"/accounts/{giro['id']}/transactions")
        assert any(t["counterparty"] == "Stadtwerke Berlin" for t in txns), txns

        # File: on the phone's shared storage, byte for byte.
        _wait_next(env)
        data = phone.read_bytes("/sdcard/Download/ticket.txt")
        assert data.decode("utf-8") == "Ticket 4711 — Gleis 3"

        # Nothing more is due: an error observation, the clock stays.
        obs, _, _ = env.step({"action": "wait"})
        assert not obs.ok and "nothing more is due" in obs.error
        obs, _, _ = env.step({"action": "wait", "seconds": 3600})
        assert obs.ok and "advanced 1h" in obs.text
        env.step({"action": "notify", "text": "The pickup moved to 15:00."})
    lines = [json.loads(x) for x in (out / "live.jsonl").read_text().splitlines()]
    assert [x["kind"] for x in lines] == [
        "sms.received",
        "mail.received",
        "calendar.moved",
        "calendar.created",
        "chat.message",
        "bank.transaction",
        "file.placed",
    ]
    assert all(x["ok"] for x in lines), lines
    assert all(x["delivered"] == x["due"] for x in lines)  # stepped: delivered at its time
    score = json.loads((out / "score.json").read_text())
    assert score["passed"] and len(score["live"]) == 7
    assert score["messages"][0]["world_time"] == "2026-03-16T10:40:00+01:00"


def test_running_live_event_due_during_a_long_step_is_delivered_on_time(tmp_path):
    folder = _task(tmp_path, "live-running", RUNNING.replace("+4m", "+0m"))
    text = (folder / "task.yaml").read_text(encoding="utf-8")
    # Due 4 s into the agent phase: written as an absolute time 4 s after now.
    text = text.replace("t: +0m", "t: '2026-03-16T09:00:06+01:00'")
    (folder / "task.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    with TaskEnv(folder, out=out) as env:
        env.reset()
        started = time.monotonic()
        obs, _, _ = env.step({"action": "wait", "device": "phone", "seconds": 10})
        assert obs.ok and "waited 10s" in obs.text
        assert time.monotonic() - started >= 10  # one long step: delivery was not between steps
        rows = env.episode.world["phone"].shell(
            "content query --uri content://sms/inbox --projection body:date"
        )
        assert "body=early" in rows.stdout
    (entry,) = [json.loads(x) for x in (out / "live.jsonl").read_text().splitlines()]
    assert entry["ok"] and entry["latency_s"] < 1.0, entry
    delivered = datetime.fromisoformat(entry["delivered"])
    due = datetime.fromisoformat(entry["due"])
    assert timedelta(0) <= delivered - due < timedelta(seconds=1), entry
