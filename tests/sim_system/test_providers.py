from __future__ import annotations

import sqlite3

import pytest

from emulator.sim.contracts import Providers
from emulator.sim.providers import ProviderError, SqliteProviders
from emulator.sim.providers.schema import SMS_DB


def test_implements_contract(providers: SqliteProviders) -> None:
    assert isinstance(providers, Providers)


def test_sms_boxes_threads_and_conversations(providers: SqliteProviders, clock) -> None:
    u1 = providers.insert("content://sms/inbox", {"address": "+15551234567", "body": "hi"})
    assert u1 == "content://sms/1"
    providers.insert("content://sms/sent", {"address": "5551234567", "body": "yo", "date": 2})
    providers.insert("content://sms/inbox", {"address": "+447700900123", "body": "other"})
    rows = providers.query("content://sms", ["_id", "thread_id", "type", "date"], sort="_id")
    assert [(r["thread_id"], r["type"]) for r in rows] == [(1, 1), (1, 2), (2, 1)]
    assert rows[0]["date"] == clock.now_ms()
    assert [r["body"] for r in providers.query("content://sms/inbox", ["body"], sort="_id")] == [
        "hi",
        "other",
    ]
    assert providers.query("content://sms/sent", ["body"]) == [{"body": "yo"}]
    conv = providers.query("content://sms/conversations", sort="thread_id")
    assert conv == [
        {"thread_id": 1, "msg_count": 2, "snippet": "hi"},
        {"thread_id": 2, "msg_count": 1, "snippet": "other"},
    ]
    assert len(providers.query("content://sms/conversations/1")) == 2
    threads = providers.query(
        "content://mms-sms/conversations", ["_id", "message_count"], sort="_id"
    )
    assert threads == [{"_id": 1, "message_count": 2}, {"_id": 2, "message_count": 1}]
    assert providers.delete("content://sms/3") == 1
    assert len(providers.query("content://mms-sms/conversations")) == 1


def test_sms_update_and_where_args(providers: SqliteProviders) -> None:
    providers.insert("content://sms/inbox", {"address": "1", "body": "a"})
    assert providers.update("content://sms", {"read": 1}, "address = ?", ["1"]) == 1
    assert providers.query("content://sms/1", ["read"]) == [{"read": 1}]
    assert providers.update("content://sms/inbox", {"read": 0}, "body = ?", ["zzz"]) == 0


def test_contacts_aggregate_and_lookup(providers: SqliteProviders) -> None:
    raw = providers.insert("content://com.android.contacts/raw_contacts", {})
    rid = int(raw.rsplit("/", 1)[1])
    providers.insert(
        "content://com.android.contacts/data",
        {
            "raw_contact_id": rid,
            "mimetype": "vnd.android.cursor.item/name",
            "data1": "Ada Lovelace",
        },
    )
    providers.insert(
        "content://com.android.contacts/data",
        {
            "raw_contact_id": rid,
            "mimetype": "vnd.android.cursor.item/phone_v2",
            "data1": "+1 (555) 010-9999",
            "data2": 2,
        },
    )
    providers.insert(
        "content://com.android.contacts/data",
        {
            "raw_contact_id": rid,
            "mimetype": "vnd.android.cursor.item/email_v2",
            "data1": "ada@example.org",
            "data2": 1,
        },
    )
    contacts = providers.query(
        "content://com.android.contacts/contacts", ["_id", "display_name", "has_phone_number"]
    )
    assert contacts == [{"_id": 1, "display_name": "Ada Lovelace", "has_phone_number": 1}]
    name = providers.query(
        "content://com.android.contacts/data",
        ["data2", "data3"],
        "mimetype = ?",
        ["vnd.android.cursor.item/name"],
    )
    assert name == [{"data2": "Ada", "data3": "Lovelace"}]
    look = providers.query(
        "content://com.android.contacts/phone_lookup/5550109999", ["display_name", "number"]
    )
    assert look == [{"display_name": "Ada Lovelace", "number": "+1 (555) 010-9999"}]
    assert providers.query("content://com.android.contacts/phone_lookup/5550100000") == []
    phones = providers.query("content://com.android.contacts/data/phones", ["contact_id", "data4"])
    assert phones == [{"contact_id": 1, "data4": "+15550109999"}]
    assert len(providers.query(f"content://com.android.contacts/raw_contacts/{rid}/data")) == 3
    providers.delete("content://com.android.contacts/raw_contacts/1")
    assert providers.query("content://com.android.contacts/contacts") == []
    assert providers.query("content://com.android.contacts/data") == []


def test_data_needs_a_raw_contact(providers: SqliteProviders) -> None:
    with pytest.raises(ProviderError, match="raw_contact_id"):
        providers.insert(
            "content://com.android.contacts/data",
            {"raw_contact_id": 99, "mimetype": "vnd.android.cursor.item/name"},
        )


def test_call_log(providers: SqliteProviders) -> None:
    for t in (1, 2, 3):
        providers.insert("content://call_log/calls", {"number": "555", "type": t, "date": t})
    rows = providers.query("content://call_log/calls", ["type"])
    assert [r["type"] for r in rows] == [3, 2, 1]  # newest first, as CallLog sorts
    assert providers.query("content://call_log/calls/2", ["type", "duration", "new"]) == [
        {"type": 2, "duration": 0, "new": 1}
    ]


def test_calendar_events_reminders_attendees(providers: SqliteProviders) -> None:
    cals = providers.query("content://com.android.calendar/calendars", ["_id", "account_type"])
    assert cals == [{"_id": 1, "account_type": "LOCAL"}]
    with pytest.raises(ProviderError, match="EVENT_TIMEZONE"):
        providers.insert(
            "content://com.android.calendar/events", {"calendar_id": 1, "dtstart": 0, "dtend": 1}
        )
    ev = providers.insert(
        "content://com.android.calendar/events",
        {
            "calendar_id": 1,
            "title": "Dentist",
            "dtstart": 1000,
            "dtend": 2000,
            "eventTimezone": "Europe/Paris",
        },
    )
    assert ev == "content://com.android.calendar/events/1"
    providers.insert(
        "content://com.android.calendar/reminders", {"event_id": 1, "minutes": 10, "method": 1}
    )
    providers.insert(
        "content://com.android.calendar/attendees", {"event_id": 1, "attendeeEmail": "a@b.c"}
    )
    row = providers.query(
        ev, ["title", "hasAlarm", "hasAttendeeData", "calendar_displayName", "lastDate"]
    )
    assert row == [
        {
            "title": "Dentist",
            "hasAlarm": 1,
            "hasAttendeeData": 1,
            "calendar_displayName": "Phone",
            "lastDate": 2000,
        }
    ]
    providers.delete(ev)
    assert providers.query("content://com.android.calendar/reminders") == []
    assert providers.query("content://com.android.calendar/attendees") == []


def test_settings(providers: SqliteProviders) -> None:
    assert providers.setting("global", "airplane_mode_on") == "0"
    providers.put_setting("global", "airplane_mode_on", "1")
    providers.put_setting("global", "airplane_mode_on", "1")
    assert providers.query("content://settings/global/airplane_mode_on", ["name", "value"]) == [
        {"name": "airplane_mode_on", "value": "1"}
    ]
    assert providers.setting("system", "nope") is None
    assert providers.delete_setting("global", "airplane_mode_on") == 1
    assert providers.setting("global", "airplane_mode_on") is None


def test_unknown_uris_and_bad_sql(providers: SqliteProviders) -> None:
    with pytest.raises(ProviderError, match="Unknown URI"):
        providers.query("content://sms/bogus/1")
    with pytest.raises(ProviderError, match="Could not find provider: nope"):
        providers.query("content://nope/x")
    with pytest.raises(ProviderError, match="no such column"):
        providers.query("content://sms", ["nonexistent"])
    with pytest.raises(ProviderError, match="Invalid column"):
        providers.insert("content://sms", {"body; DROP TABLE sms": "x"})


def test_real_sqlite_files_wal_and_reopen(providers: SqliteProviders, vfs) -> None:
    providers.insert("content://sms/inbox", {"address": "1", "body": "persist"})
    host = vfs.host_path(SMS_DB)
    assert host.exists()
    mode = sqlite3.connect(host).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    providers.close()
    with sqlite3.connect(host) as conn:
        assert conn.execute("SELECT body FROM sms").fetchall() == [("persist",)]
    assert providers.query("content://sms", ["body"]) == [{"body": "persist"}]


def test_text_survives_byte_for_byte(providers: SqliteProviders) -> None:
    text = 'it\'s "$HOME" `x` 100% \\n\n😀 漢字'
    providers.insert("content://sms/inbox", {"address": "1", "body": text})
    assert providers.query("content://sms", ["body"])[0]["body"] == text


def test_concurrent_writers_and_an_outside_reader(providers, vfs) -> None:
    import threading

    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(40):
                providers.insert(
                    "content://sms/inbox", {"address": f"55500{n}", "body": f"{n}-{i}"}
                )
        except BaseException as exc:
            errors.append(exc)

    assert providers.query("content://sms") == []  # the database exists before the reader opens
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    outside = sqlite3.connect(vfs.host_path(SMS_DB), timeout=10)
    counts = []
    while any(t.is_alive() for t in threads):
        counts.append(outside.execute("SELECT COUNT(*) FROM sms").fetchone()[0])
    for t in threads:
        t.join()
    assert errors == []
    assert counts == sorted(counts)  # the reader only ever sees committed, growing state
    assert outside.execute("SELECT COUNT(*) FROM sms").fetchone()[0] == 160
    threads_rows = providers.query("content://mms-sms/conversations", ["message_count"])
    assert sorted(r["message_count"] for r in threads_rows) == [40, 40, 40, 40]
    outside.close()


def test_calendar_instances_in_a_range(providers: SqliteProviders) -> None:
    for title, start, end in (("early", 0, 100), ("mid", 150, 250), ("late", 400, 500)):
        providers.insert(
            "content://com.android.calendar/events",
            {
                "calendar_id": 1,
                "title": title,
                "dtstart": start,
                "dtend": end,
                "eventTimezone": "UTC",
            },
        )
    rows = providers.query(
        "content://com.android.calendar/instances/when/90/400",
        ["title", "begin", "end", "event_id"],
        sort="begin",
    )
    assert rows == [
        {"title": "early", "begin": 0, "end": 100, "event_id": 1},
        {"title": "mid", "begin": 150, "end": 250, "event_id": 2},
    ]


def test_recurring_events_expand_into_instances(providers: SqliteProviders) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")

    def ms(*args: int) -> int:
        return int(datetime(*args, tzinfo=paris).timestamp() * 1000)

    # Weekly on Monday 09:00 Paris time across the March DST change, one week skipped.
    providers.insert(
        "content://com.android.calendar/events",
        {
            "calendar_id": 1,
            "title": "Standup",
            "dtstart": ms(2026, 3, 16, 9, 0),
            "duration": "PT30M",
            "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=4",
            "exdate": "20260323T080000Z",
            "eventTimezone": "Europe/Paris",
        },
    )
    providers.insert(
        "content://com.android.calendar/events",
        {
            "calendar_id": 1,
            "title": "Once",
            "dtstart": ms(2026, 3, 20, 12, 0),
            "dtend": ms(2026, 3, 20, 13, 0),
            "eventTimezone": "Europe/Paris",
        },
    )
    rows = providers.query(
        f"content://com.android.calendar/instances/when/{ms(2026, 3, 1)}/{ms(2026, 5, 1)}",
        ["title", "begin", "end", "startMinute"],
        sort="begin",
    )
    assert [(r["title"], r["begin"]) for r in rows] == [
        ("Standup", ms(2026, 3, 16, 9, 0)),
        ("Once", ms(2026, 3, 20, 12, 0)),
        ("Standup", ms(2026, 3, 30, 9, 0)),  # after the DST change, still 09:00 local
        ("Standup", ms(2026, 4, 6, 9, 0)),
    ]
    assert all(r["startMinute"] in (540, 720) for r in rows)
    assert rows[0]["end"] - rows[0]["begin"] == 30 * 60 * 1000
    narrow = providers.query(
        f"content://com.android.calendar/instances/when/{ms(2026, 3, 30)}/{ms(2026, 3, 31)}",
        ["title"],
        where="title = ?",
        args=["Standup"],
    )
    assert narrow == [{"title": "Standup"}]
