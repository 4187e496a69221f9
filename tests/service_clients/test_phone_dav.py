"""The virtual phone's calendar and contacts syncing with the world's Radicale, like DAVx5."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from rig.service_clients import connect_devices
from tests.service_clients import ui

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:standup-1@test
DTSTAMP:20260316T080000Z
DTSTART;TZID=Europe/Berlin:20260316T143000
DTEND;TZID=Europe/Berlin:20260316T150000
SUMMARY:Plumber "Jürgen" 🔧 $5
LOCATION:Küche
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:x
TRIGGER:-PT15M
END:VALARM
END:VEVENT
END:VCALENDAR
"""


def _put(stack, kind: str, name: str, text: str, ctype: str) -> None:
    service = stack[kind]
    status, _h, body = service.request(
        "PUT", service.path() + name, text, {"Content-Type": f"{ctype}; charset=utf-8"}
    )
    assert status in (201, 204), body


def test_an_event_on_the_server_appears_in_the_phones_calendar(stack, world, phone):
    _put(stack, "calendar", "standup.ics", ICS, "text/calendar")
    connect_devices(world, "Maya Fischer")
    rows = phone.read_state(
        {
            "kind": "provider",
            "uri": "content://com.android.calendar/events",
            "projection": ["title", "dtstart", "dtend", "eventTimezone", "eventLocation"],
        }
    )
    assert len(rows) == 1
    row = rows[0]
    assert row["title"] == 'Plumber "Jürgen" 🔧 $5'
    assert row["eventLocation"] == "Küche"
    assert int(row["dtstart"]) == int(
        datetime(2026, 3, 16, 14, 30, tzinfo=BERLIN).timestamp() * 1000
    )
    assert row["eventTimezone"] == "Europe/Berlin"
    phone.launch("com.android.calendar")
    assert ui.find(phone, contains='Plumber "Jürgen" 🔧 $5')


def test_an_event_made_on_the_phone_reaches_the_server(stack, world, phone):
    connect_devices(world, "Maya Fischer")
    phone.launch("com.android.calendar")
    ui.tap(phone, desc="New event")
    ui.tap(phone, rid="title")
    phone.type_text("Dentist `id` 日本")
    ui.tap(phone, desc="Save")
    events = stack["calendar"].events(tz="Europe/Berlin")
    assert [e.summary for e in events] == ["Dentist `id` 日本"]
    assert any(r["op"] == "DAV PUT" for r in stack["calendar"].audit())


def test_a_contact_added_on_the_phone_appears_in_carddav(stack, world, phone):
    connect_devices(world, "Maya Fischer")
    phone.launch("com.android.contacts")
    ui.tap(phone, desc="Add contact")
    ui.tap(phone, rid="first_name")
    phone.type_text("Zoë 'Z'")
    ui.tap(phone, rid="last_name")
    phone.type_text("Müller-李")
    ui.tap(phone, rid="phone")
    phone.type_text("+49 170 1234567")
    ui.tap(phone, rid="email")
    phone.type_text("zoe@example.org")
    ui.tap(phone, desc="Save")
    cards = stack["contacts"].contacts()
    assert len(cards) == 1
    assert cards[0].name == "Zoë 'Z' Müller-李"
    assert cards[0].phones == ["+49 170 1234567"]
    assert cards[0].emails == ["zoe@example.org"]
    puts = [r for r in stack["contacts"].audit() if r["op"] == "DAV PUT"]
    assert len(puts) == 1  # one save, one upload (the app's rows reach the sync together)


def test_server_side_changes_and_deletes_reach_the_phone_on_pull_to_refresh(stack, world, phone):
    _put(stack, "calendar", "standup.ics", ICS, "text/calendar")
    connect_devices(world, "Maya Fischer")
    changed = ICS.replace('Plumber "Jürgen" 🔧 $5', "Plumber moved").replace("T143000", "T160000")
    _put(stack, "calendar", "standup.ics", changed, "text/calendar")
    phone.launch("com.android.calendar")
    w, h = phone.window_size()
    phone.swipe(w // 2, h // 3, w // 2, h * 2 // 3, 400)  # pull the agenda down
    assert ui.find(phone, contains="Plumber moved")
    status, _h, _b = stack["calendar"].request("DELETE", stack["calendar"].path() + "standup.ics")
    assert status in (200, 204)
    phone.swipe(w // 2, h // 3, w // 2, h * 2 // 3, 400)
    assert not ui.find(phone, contains="Plumber")


def test_a_contact_deleted_on_the_phone_is_deleted_on_the_server(stack, world, phone):
    lines = ["BEGIN:VCARD", "VERSION:3.0", "UID:k1", "FN:Kim Ode", "N:Ode;Kim;;;"]
    card = "\r\n".join([*lines, "TEL;TYPE=cell:+491111", "END:VCARD", ""])
    _put(stack, "contacts", "k1.vcf", card, "text/vcard")
    connect_devices(world, "Maya Fischer")
    rows = phone.read_state({"kind": "contacts"})
    assert [r.name for r in rows] == ["Kim Ode"]
    phone.shell("content delete --uri content://com.android.contacts/raw_contacts")
    assert stack["contacts"].contacts() == []


SERIES = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:yoga@test
DTSTAMP:20260301T080000Z
DTSTART;TZID=Europe/Berlin:20260317T180000
DTEND;TZID=Europe/Berlin:20260317T190000
RRULE:FREQ=WEEKLY;COUNT=4
SUMMARY:Yoga
CATEGORIES:Sport
END:VEVENT
BEGIN:VEVENT
UID:yoga@test
DTSTAMP:20260301T080000Z
RECURRENCE-ID;TZID=Europe/Berlin:20260324T180000
DTSTART;TZID=Europe/Berlin:20260324T190000
DTEND;TZID=Europe/Berlin:20260324T200000
SUMMARY:Yoga (late)
END:VEVENT
END:VCALENDAR
"""


def test_a_phone_edit_keeps_what_the_phone_does_not_show(stack, world, phone):
    _put(stack, "calendar", "yoga.ics", SERIES, "text/calendar")
    lines = ["BEGIN:VCARD", "VERSION:3.0", "UID:k2", "FN:Kim Ode", "N:Ode;Kim;;;"]
    lines += ["TEL;TYPE=cell:+491111", "ADR;TYPE=home:;;Weg 1;Berlin;;10115;DE"]
    card = "\r\n".join([*lines, "BDAY:1990-04-01", "END:VCARD", ""])
    _put(stack, "contacts", "k2.vcf", card, "text/vcard")
    connect_devices(world, "Maya Fischer")
    phone.shell("content update --uri content://com.android.calendar/events --bind title:s:Yoga+")
    number = "vnd.android.cursor.item/phone_v2"
    phone.shell(
        "content update --uri content://com.android.contacts/data "
        f"--where \"mimetype='{number}'\" --bind data1:s:+492222"
    )
    events = stack["calendar"].events(tz="Europe/Berlin")
    assert sorted(e.summary for e in events) == ["Yoga (late)", "Yoga+"]  # the override stays
    text = stack["calendar"].objects()[0].data
    assert "CATEGORIES:Sport" in text
    cards = stack["contacts"].contacts()
    assert cards[0].phones == ["+492222"]
    raw = stack["contacts"].objects()[0].data
    assert "ADR;TYPE=home:;;Weg 1;Berlin;;10115;DE" in raw and "BDAY:1990-04-01" in raw
