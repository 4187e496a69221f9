"""Streams on disk: canonical bytes, hostile text byte for byte, bad lines located."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.events import EVENT_ADAPTER, ChatMessage, MailReceived, NoteWritten, SmsReceived
from tasks.loader import ProblemsFound
from tasks.stream import dumps, parse_stream, read_stream, write_stream

PIECES = ["'", '"', "$", "`", "\\", "%", "\n", "\r", "\t", ";", "|", "&", "<", ">", "{}", "*"]
PIECES += ["😀", "👍🏽", "中文", "日本語", "한국어", "€", "\u200b", "\u2028", "$(rm -rf /)", "%s%n"]
HOSTILE = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(st.characters(blacklist_categories=("Cs",)))),
    max_size=12,
).map("".join)
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=1)))


@settings(max_examples=150, deadline=None)
@given(body=HOSTILE, subject=HOSTILE, path=HOSTILE)
def test_hostile_text_survives_byte_for_byte(body, subject, path):
    events = [
        SmsReceived(id="a", t=T0, kind="sms.received", target="phone", address="+1", body=body),
        MailReceived(
            id="b",
            t=T0,
            kind="mail.received",
            target="laptop",
            message_id="<m@x>",
            sender="a@x",
            to=["b@x"],
            subject=subject,
            body=body,
        ),
        NoteWritten(
            id="c",
            t=T0,
            kind="note.written",
            target="phone",
            path="notes/n-" + path.replace("/", "_").replace("\x00", "_") + ".md",
            text=body,
        ),
        ChatMessage(
            id="d", t=T0, kind="chat.message", target="phone", room="#r", sender=subject, body=body
        ),
    ]
    data = dumps(events)
    assert data.count(b"\n") == len(events)  # newlines inside text never split a record
    back = parse_stream(data.decode("utf-8"))
    assert back == events
    assert dumps(back) == data
    assert back[0].body == body and back[1].subject == subject


def test_file_round_trip_and_atomic_write(tmp_path, maya_stream):
    out = tmp_path / "s.jsonl"
    write_stream(maya_stream[:300], out)
    assert not list(tmp_path.glob("*.tmp"))
    assert dumps(read_stream(out)) == out.read_bytes()


def test_keys_in_fixed_order(maya_stream):
    line = dumps([maya_stream[0]]).decode()
    assert line.startswith('{"id":"g')
    assert line.index('"t"') < line.index('"kind"') < line.index('"target"')


def test_bad_lines_are_reported_with_their_numbers(tmp_path):
    good = (
        '{"id":"x","t":"2026-03-01T09:00:00+01:00","kind":"call.missed",'
        '"target":"phone","number":"1"}'
    )
    text = "\n".join(
        [
            good,
            "{not json",
            good.replace("call.missed", "call.dropped"),
            good.replace('"number":"1"', '"number":"1","volume":3'),
            good.replace("+01:00", ""),
        ]
    )
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    with pytest.raises(ProblemsFound) as info:
        read_stream(path)
    lines = [str(p) for p in info.value.problems]
    assert lines[0].startswith(f"{path}:2: json: ")
    assert lines[1].startswith(f"{path}:3: kind: unknown kind 'call.dropped'")
    assert lines[2] == f"{path}:4: volume: unknown key"
    assert lines[3].startswith(f"{path}:5: t: ")


def test_relative_times_resolve_only_with_a_now():
    data = {
        "t": "-3d 09:15",
        "kind": "alarm.set",
        "target": "phone",
        "alarm_id": "a",
        "hour": 7,
        "minute": 0,
    }
    ctx = {"now": T0, "tz": "Europe/Berlin"}
    event = EVENT_ADAPTER.validate_python(data, context=ctx)
    assert event.t.isoformat() == "2026-02-26T09:15:00+01:00"
    with pytest.raises(ValueError, match="relative time needs"):
        EVENT_ADAPTER.validate_python(data)
