"""Hand-written event streams that use every kind, with hostile text in every text field."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from tasks.events import EVENT_ADAPTER, EventBase

HOSTILE = 'it\'s "$HOME" `id` $(date) 50% %s\\n back\\slash\nline two 😀 東京の会議 \ttab '
T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def events(raw: list[dict[str, Any]]) -> list[EventBase]:
    return [EVENT_ADAPTER.validate_python({"id": f"e{i:03d}", **r}) for i, r in enumerate(raw)]


def phone_stream(tag: str, text: str = HOSTILE, role: str = "phone") -> list[dict[str, Any]]:
    """Every kind a phone takes; ``tag`` makes names, numbers and ids unique per use."""
    num = f"+49151{int(hashlib.sha256(tag.encode()).hexdigest(), 16) % 10**7:07d}"
    r = role
    return [
        {
            "t": at(0),
            "kind": "contact.added",
            "target": r,
            "contact_id": f"c-{tag}",
            "name": f"Old {tag}",
            "phones": [num],
            "emails": [f"{tag}@old.example"],
            "org": f"{text} org",
            "note": "first note",
        },
        {
            "t": at(1),
            "kind": "contact.edited",
            "target": r,
            "contact_id": f"c-{tag}",
            "name": f"{text} {tag}",
            "emails": [f"{tag}@new.example"],
            "note": f"{text} note {tag}",
        },
        {
            "t": at(2),
            "kind": "sms.received",
            "target": r,
            "address": num,
            "body": f"{text} in {tag}",
            "read": False,
        },
        {"t": at(3), "kind": "sms.sent", "target": r, "address": num, "body": f"{text} out {tag}"},
        {"t": at(4), "kind": "call.incoming", "target": r, "number": num, "duration_s": 61},
        {"t": at(5), "kind": "call.outgoing", "target": r, "number": num, "duration_s": 7},
        {"t": at(6), "kind": "call.missed", "target": r, "number": num},
        {
            "t": at(7),
            "kind": "calendar.created",
            "target": r,
            "event_id": f"keep-{tag}",
            "title": f"{text} keep {tag}",
            "start": at(30),
            "end": at(31),
            "location": text,
            "description": text,
            "attendees": [{"name": text, "email": "a@b.example"}],
        },
        {
            "t": at(7),
            "kind": "calendar.created",
            "target": r,
            "event_id": f"move-{tag}",
            "title": f"move {tag}",
            "start": at(40),
            "end": at(41),
        },
        {
            "t": at(7),
            "kind": "calendar.created",
            "target": r,
            "event_id": f"drop-{tag}",
            "title": f"drop {tag}",
            "start": at(50),
            "end": at(51),
        },
        {
            "t": at(8),
            "kind": "calendar.moved",
            "target": r,
            "event_id": f"move-{tag}",
            "start": at(60),
            "end": at(62),
        },
        {"t": at(9), "kind": "calendar.cancelled", "target": r, "event_id": f"drop-{tag}"},
        {
            "t": at(10),
            "kind": "alarm.set",
            "target": r,
            "alarm_id": f"a-{tag}",
            "hour": 6,
            "minute": 0,
            "label": "first",
        },
        {
            "t": at(11),
            "kind": "alarm.set",
            "target": r,
            "alarm_id": f"a-{tag}",
            "hour": 7,
            "minute": 15,
            "label": f"{text} {tag}",
            "days": ["mo", "fr"],
        },
        {
            "t": at(12),
            "kind": "note.written",
            "target": r,
            "path": f'Q1 "plan" $x {tag}.md',
            "text": "draft",
        },
        {
            "t": at(13),
            "kind": "note.edited",
            "target": r,
            "path": f'Q1 "plan" $x {tag}.md',
            "text": f"# {text}\n\n{text}\n",
        },
        {
            "t": at(14),
            "kind": "file.downloaded",
            "target": r,
            "name": f"menu {tag}.txt",
            "url": "https://example.org/menu",
            "text": text,
        },
        {
            "t": at(15),
            "kind": "photo.taken",
            "target": r,
            "name": f"IMG_{tag}.jpg",
            "subject": text,
            "lat": 52.5,
            "lon": 13.25,
        },
        {
            "t": at(16),
            "kind": "todo.added",
            "target": r,
            "todo_id": f"t1-{tag}",
            "text": f"{text} {tag}",
            "due": at(72),
        },
        {
            "t": at(17),
            "kind": "todo.added",
            "target": r,
            "todo_id": f"t2-{tag}",
            "text": f"second {tag}",
        },
        {"t": at(18), "kind": "todo.done", "target": r, "todo_id": f"t2-{tag}"},
        {
            "t": at(19),
            "kind": "chat.message",
            "target": r,
            "room": f"{text} room",
            "sender": text,
            "body": f"{text} {tag}",
        },
        {
            "t": at(20),
            "kind": "price.alert",
            "target": r,
            "item": f"{text} {tag}",
            "shop": text,
            "price": "19.99",
            "currency": "EUR",
            "url": "https://shop.example/x",
        },
    ]


def laptop_stream(tag: str, text: str = HOSTILE, role: str = "laptop") -> list[dict[str, Any]]:
    r = role
    one_line = text.replace("\n", " ")
    return [
        {
            "t": at(0),
            "kind": "mail.received",
            "target": r,
            "message_id": f"<in-{tag}@x.example>",
            "sender": "a@x.example",
            "to": ["me@x.example"],
            "cc": ["c@x.example"],
            "subject": f"{one_line} {tag}",
            "body": f"{text}\n{tag}\n",
            "read": False,
        },
        {
            "t": at(1),
            "kind": "mail.sent",
            "target": r,
            "message_id": f"<out-{tag}@x.example>",
            "sender": "me@x.example",
            "to": ["a@x.example"],
            "subject": f"Re: {tag}",
            "body": f"{text} {tag}",
            "in_reply_to": f"<in-{tag}@x.example>",
        },
        {
            "t": at(2),
            "kind": "note.written",
            "target": r,
            "path": f'work/{tag} "n" $x.md',
            "text": "draft",
        },
        {
            "t": at(3),
            "kind": "note.edited",
            "target": r,
            "path": f'work/{tag} "n" $x.md',
            "text": f"{text}\n",
        },
        {
            "t": at(4),
            "kind": "file.downloaded",
            "target": r,
            "name": f"report {tag}.csv",
            "url": "https://example.org/r.csv",
            "text": f'a,b\n1,"{text}"\n',
        },
        {"t": at(5), "kind": "shell.command", "target": r, "command": f"echo '{tag}' | wc -c"},
        {"t": at(6), "kind": "shell.command", "target": r, "command": f'grep -r "$HOME" {tag}'},
        {
            "t": at(7),
            "kind": "todo.added",
            "target": r,
            "todo_id": f"t1-{tag}",
            "text": f"{text} {tag}",
            "due": at(72),
        },
        {
            "t": at(8),
            "kind": "todo.added",
            "target": r,
            "todo_id": f"t2-{tag}",
            "text": f"second {tag}",
        },
        {"t": at(9), "kind": "todo.done", "target": r, "todo_id": f"t2-{tag}"},
        {
            "t": at(10),
            "kind": "bank.transaction",
            "target": r,
            "account": f"DE44 {tag}",
            "amount": "-12.50",
            "currency": "EUR",
            "counterparty": text,
            "reference": text,
            "balance": "100.00",
        },
        {
            "t": at(11),
            "kind": "bank.transaction",
            "target": r,
            "account": f"DE44 {tag}",
            "amount": "1000",
            "currency": "EUR",
            "counterparty": "Employer GmbH",
        },
        {
            "t": at(12),
            "kind": "chat.message",
            "target": r,
            "room": "family",
            "sender": "me",
            "body": f"{text} {tag}",
            "outgoing": True,
        },
    ]
