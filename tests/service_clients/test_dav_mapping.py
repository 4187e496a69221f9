"""The phone's DAV sync mapping: provider rows <-> iCalendar/vCard, hostile text byte for byte."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.sim.davsync import contact_to_vcf, event_to_ics, ics_to_event, vcf_to_contact

SPECIALS = [*"'\"$`\\%;,:\n", "😀", "日本語", "👩‍💻", "$(id)", "`id`", "\\n", "é"]
text = (
    st.lists(
        st.one_of(
            st.sampled_from(SPECIALS),
            st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=6),
        ),
        max_size=8,
    )
    .map("".join)
    .map(str.strip)
)
STAMP = datetime(2026, 3, 16, 8, 0, tzinfo=ZoneInfo("UTC"))


def _event(**over):
    start = int(datetime(2026, 3, 17, 10, 30, tzinfo=ZoneInfo("Europe/Berlin")).timestamp() * 1000)
    row = {
        "title": "t",
        "location": "",
        "description": "",
        "dtstart": start,
        "dtend": start + 3_600_000,
        "duration": None,
        "allDay": 0,
        "tz": "Europe/Berlin",
        "rrule": None,
        "attendees": [],
        "reminders": [],
    }
    row.update(over)
    return row


@settings(max_examples=60, deadline=None)
@given(title=text, location=text, description=text)
def test_event_text_round_trips(title, location, description):
    row = _event(title=title, location=location, description=description)
    uid, back = ics_to_event(event_to_ics(row, "u-1", STAMP), "UTC")
    assert uid == "u-1"
    assert (back["title"], back["location"], back["description"]) == (title, location, description)


def test_event_time_zone_series_alarms_and_attendees_round_trip():
    row = _event(
        rrule="FREQ=WEEKLY;COUNT=4",
        dtend=None,
        duration="P3600S",
        reminders=[15],
        attendees=[("Jonas F", "jonas@example.org")],
    )
    text = event_to_ics(row, "u-2", STAMP)
    assert "TZID=Europe/Berlin" in text
    _uid, back = ics_to_event(text, "UTC")
    assert back == row


def test_an_all_day_event_stays_a_date():
    start = int(datetime(2026, 3, 17, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
    row = _event(allDay=1, tz="UTC", dtstart=start, dtend=start + 86_400_000)
    text = event_to_ics(row, "u-3", STAMP)
    assert "DTSTART;VALUE=DATE:20260317" in text
    assert ics_to_event(text, "Europe/Berlin")[1] == row


@settings(max_examples=60, deadline=None)
@given(given_name=text, family=text, note=text, org=text)
def test_contact_text_round_trips(given_name, family, note, org):
    name = " ".join(x for x in (given_name, family) if x) or "x"
    row = {
        "name": name,
        "given": given_name,
        "family": family,
        "phones": [["+49 30 1234", 2], ["030 999", 1]],
        "emails": [["a@example.org", 1], ["b@example.org", 2]],
        "org": org,
        "note": note,
    }
    uid, back = vcf_to_contact(contact_to_vcf(row, "c-1"))
    assert uid == "c-1"
    assert back == row
