"""Every phone event kind compiled, seeded into the virtual phone through the real adb, read back.

Reads go through the device's own readers (providers, files, app databases) and
are compared with the events, not with the plan, so a compile mistake shows too.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.readers import AppDbQuery, ContactsQuery, FileQuery, ProviderQuery
from emulator.seeding import resolve_alarm_db
from tasks import compile_android as A
from tasks.compile import compile_stream
from tasks.compile_formats import parse_todo_markdown, photo_exif
from tests.compile.streams import HOSTILE, at, events, phone_stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DEVICES = {"phone": "android"}
TZ = "Europe/Berlin"


def ms(hours: float) -> int:
    return int(datetime.fromisoformat(at(hours)).timestamp() * 1000)


def seed_and_read(phone, tag: str, text: str) -> None:
    plans = compile_stream(DEVICES, TZ, events(phone_stream(tag, text)))
    digest = phone.seed(plans["phone"])
    assert len(digest["digest"]) == 64
    # A fixed number of adb requests however many rows and files (one archive carries
    # the files, the SQL and the script): the benchmark shows the per-event figure.
    assert digest["file_transfer"] == "archive"
    assert digest["round_trips"] <= 6  # alarm db lookup, marks, push, run, read back (+features)
    read = phone.read_state

    rows = read(
        ProviderQuery(
            uri="content://com.android.contacts/data",
            projection=["raw_contact_id", "mimetype", "data1"],
            types={"raw_contact_id": int},
        )
    )
    names = [r for r in rows if r["data1"] == f"{text} {tag}"]
    assert len(names) == 1, "the edited name, once"
    mine = {r["data1"] for r in rows if r["raw_contact_id"] == names[0]["raw_contact_id"]}
    assert f"{tag}@new.example" in mine and f"{tag}@old.example" not in mine
    (contact,) = [c for c in read(ContactsQuery()) if c.name == f"{text} {tag}"]
    assert (contact.org, contact.title, contact.note) == (f"{text} org", None, f"{text} note {tag}")

    sms = read(
        ProviderQuery(
            uri="content://sms",
            projection=["address", "body", "type", "read", "date", "thread_id"],
            types={"type": int, "read": int, "date": int, "thread_id": int},
        )
    )
    got = {r["body"]: r for r in sms}
    inbox, sent = got[f"{text} in {tag}"], got[f"{text} out {tag}"]
    assert (inbox["type"], inbox["read"], inbox["date"]) == (1, 0, ms(2))
    assert (sent["type"], sent["read"], sent["address"]) == (2, 1, inbox["address"])
    assert sent["thread_id"] == inbox["thread_id"] is not None  # one conversation per address

    calls = read(
        ProviderQuery(
            uri="content://call_log/calls",
            projection=["number", "type", "duration", "date"],
            where=f"number='{inbox['address']}'",
            types={"type": int, "duration": int, "date": int},
        )
    )
    assert sorted((c["type"], c["duration"], c["date"]) for c in calls) == [
        (1, 61, ms(4)),
        (2, 7, ms(5)),
        (3, 0, ms(6)),
    ]

    cal = read(
        ProviderQuery(
            uri="content://com.android.calendar/events",
            projection=[
                "title",
                "dtstart",
                "dtend",
                "eventLocation",
                "description",
                "eventTimezone",
            ],
            types={"dtstart": int, "dtend": int},
        )
    )
    by_title = {r["title"]: r for r in cal}
    keep = by_title[f"{text} keep {tag}"]
    assert (keep["eventLocation"], keep["description"], keep["eventTimezone"]) == (text, text, TZ)
    assert (by_title[f"move {tag}"]["dtstart"], by_title[f"move {tag}"]["dtend"]) == (
        ms(60),
        ms(62),
    )
    assert f"drop {tag}" not in by_title

    alarms = read(
        AppDbQuery(
            db=resolve_alarm_db(phone),
            table="alarm_templates",
            columns=["hour", "minutes", "label", "daysofweek"],
        )
    )
    assert {"hour": 7, "minutes": 15, "label": f"{text} {tag}", "daysofweek": 0b10001} in alarms
    assert not any(a["label"] == "first" and a["hour"] == 6 for a in alarms if tag in a["label"])

    note = read(FileQuery(path=f'{A.NOTES_DIR}/Q1 "plan" $x {tag}.md'))
    assert note == f"# {text}\n\n{text}\n".encode()
    assert read(FileQuery(path=f"{A.DOWNLOAD_DIR}/menu {tag}.txt")) == text.encode()
    exif = photo_exif(read(FileQuery(path=f"{A.CAMERA_DIR}/IMG_{tag}.jpg")))
    local = datetime.fromisoformat(at(15)).astimezone(ZoneInfo(TZ))
    assert exif["datetime_original"] == local.strftime("%Y:%m:%d %H:%M:%S")
    assert exif["gps"][0] == pytest.approx(52.5) and exif["gps"][1] == pytest.approx(13.25)

    todos = parse_todo_markdown(read(FileQuery(path=A.TODO_FILE)))
    assert (False, f"{text} {tag}") in [(d, t) for d, t, _ in todos]
    assert (True, f"second {tag}") in [(d, t) for d, t, _ in todos]

    chat = read(
        AppDbQuery(
            db=A.CHAT_DB,
            table="messages",
            columns=["room", "sender", "body", "outgoing", "date"],
        )
    )
    assert {
        "room": f"{text} room",
        "sender": text,
        "body": f"{text} {tag}",
        "outgoing": 0,
        "date": ms(19),
    } in chat
    prices = read(
        AppDbQuery(
            db=A.SHOP_DB, table="price_alerts", columns=["item", "shop", "price", "currency"]
        )
    )
    assert {"item": f"{text} {tag}", "shop": text, "price": "19.99", "currency": "EUR"} in prices


def test_every_phone_kind_round_trips_with_hostile_text(phone) -> None:
    seed_and_read(phone, uuid.uuid4().hex[:8], HOSTILE)


# Text the providers and files must keep byte for byte (no NUL: Android's text columns
# and `content` cannot carry it; no surrogates: not UTF-8).
texts = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00", exclude_categories=("Cs",)),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts)
def test_generated_text_round_trips_on_the_phone(phone, text: str) -> None:
    seed_and_read(phone, uuid.uuid4().hex[:8], text)
