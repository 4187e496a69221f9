"""Calendars and contacts over real CalDAV/CardDAV (Radicale), read with a CalDAV client."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import caldav
import pytest

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:physio-series@test
DTSTAMP:20260316T080000Z
DTSTART;TZID=Europe/Berlin:20260319T081500
DTEND;TZID=Europe/Berlin:20260319T090000
SUMMARY:Physio – Rücken 🦴
LOCATION:Praxis "Am Park", Raum $3
RRULE:FREQ=WEEKLY;COUNT=6;BYDAY=TH
ATTENDEE;CN=Jonas Fischer:mailto:jonas.fischer@mailbox.example
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Physio
TRIGGER:-PT30M
END:VALARM
END:VEVENT
END:VCALENDAR
"""
CARD = """BEGIN:VCARD
VERSION:3.0
UID:lena@test
FN:Lena Albrecht
N:Albrecht;Lena;;;
TEL;TYPE=CELL:+49 176 3322 1100
TEL;TYPE=WORK:+49 30 1234 567
EMAIL;TYPE=HOME:lena.albrecht@gmx.example
EMAIL;TYPE=WORK:l.albrecht@firma.example
ORG:Firma GmbH
END:VCARD
"""


def test_caldav_client_round_trip(stack):
    cal = stack["calendar"]
    ep = cal.endpoint()
    client = caldav.DAVClient(url=ep["url"], username=ep["user"], password=ep["password"])
    calendar = client.calendar(url=ep["url"])
    calendar.save_event(EVENT)
    (event,) = cal.events(tz="Europe/Berlin")
    assert event.summary == "Physio – Rücken 🦴"
    assert event.location == 'Praxis "Am Park", Raum $3'
    assert event.start == datetime(2026, 3, 19, 8, 15, tzinfo=BERLIN)
    assert event.end - event.start == timedelta(minutes=45)
    assert event.rrule == "FREQ=WEEKLY;COUNT=6;BYDAY=TH"
    assert event.attendees == [("Jonas Fischer", "jonas.fischer@mailbox.example")]
    assert event.alarms == ["-1 day, 23:30:00"]
    # The client sees the series through the server's own expansion.
    found = calendar.search(
        start=datetime(2026, 3, 25, tzinfo=BERLIN),
        end=datetime(2026, 4, 5, tzinfo=BERLIN),
        event=True,
        expand=True,
    )
    assert len(found) == 2
    ops = [(r["op"], r["status"]) for r in cal.audit()]
    assert ("DAV PUT", 201) in ops and ("DAV REPORT", 207) in ops
    assert {r.get("user") for r in cal.audit()} <= {"maya", None}
    assert ep["password"] not in stack.audit_path("calendar").read_text()


def test_no_cross_user_reads(stack):
    cal, contacts = stack["calendar"], stack["contacts"]
    maya, jonas = stack.accounts
    cal.import_collection(EVENT)
    status, _h, _b = cal.request("REPORT", cal.path(maya), cal.report_body, {"Depth": "1"}, jonas)
    assert status in (401, 403)
    status, _h, _b = cal.request("GET", cal.path(maya) + "physio-series@test.ics", account=jonas)
    assert status in (401, 403, 404)
    status, _h, _b = contacts.request("PROPFIND", contacts.path(maya), "", {"Depth": "1"}, jonas)
    assert status in (401, 403)
    assert cal.events(account=jonas) == []


def test_carddav_several_numbers_and_emails(stack):
    contacts = stack["contacts"]
    status, _h, _b = contacts.request(
        "PUT", contacts.path() + "lena.vcf", CARD, {"Content-Type": "text/vcard"}
    )
    assert status == 201
    (lena,) = contacts.contacts()
    assert lena.name == "Lena Albrecht"
    assert lena.phones == ["+49 176 3322 1100", "+49 30 1234 567"]
    assert lena.emails == ["lena.albrecht@gmx.example", "l.albrecht@firma.example"]
    assert lena.org == "Firma GmbH"
    assert [r["op"] for r in contacts.audit()][-2:] == ["DAV PUT", "DAV REPORT"]
