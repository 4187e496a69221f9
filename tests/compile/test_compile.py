"""Compiling streams into plans: final states, determinism, skipped service events, formats."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.seeding import SeedPlan
from linux_vm.seeding import BashHistoryRecord, FileRecord, LinuxSeedPlan, MailRecord, SqliteRecord
from tasks import compile_android as A
from tasks import compile_linux as L
from tasks.compile import CompileError, compile_stream, plan_fingerprint
from tasks.compile_formats import (
    Todo,
    bank_csv,
    parse_bank_csv,
    parse_todo_markdown,
    parse_todo_txt,
    photo_exif,
    photo_jpeg,
    slug,
    todo_markdown,
    todo_txt,
)
from tests.compile.streams import HOSTILE, at, events, laptop_stream, phone_stream

DEVICES = {"phone": "android", "laptop": "linux"}
TZ = "Europe/Berlin"


def both(tag: str = "u") -> list:
    return events([*phone_stream(tag), *laptop_stream(tag)])


def test_phone_plan_holds_final_states() -> None:
    plan = compile_stream(DEVICES, TZ, both())["phone"]
    assert isinstance(plan, SeedPlan)
    (contact,) = plan.contacts
    assert contact.name == f"{HOSTILE} u"
    assert contact.phones and contact.emails == ["u@new.example"]  # phones kept, emails edited
    assert [(s.box, s.read) for s in plan.sms] == [("inbox", False), ("sent", True)]
    assert [(c.type, c.duration_s) for c in plan.calls] == [
        ("incoming", 61),
        ("outgoing", 7),
        ("missed", 0),
    ]
    titles = {e.title: e for e in plan.events}
    assert "drop u" not in titles  # cancelled: the provider deletes it
    moved = titles["move u"]
    assert (moved.start, moved.end) == (T(60), T(62))
    assert titles[f"{HOSTILE} keep u"].timezone == TZ
    (alarm,) = plan.alarms
    assert (alarm.hour, alarm.minute, alarm.label, alarm.days) == (7, 15, f"{HOSTILE} u", 0b10001)
    files = {f.path: f.data for f in plan.files}
    assert files[f'{A.NOTES_DIR}/Q1 "plan" $x u.md'] == f"# {HOSTILE}\n\n{HOSTILE}\n".encode()
    assert files[f"{A.DOWNLOAD_DIR}/menu u.txt"] == HOSTILE.encode()
    exif = photo_exif(files[f"{A.CAMERA_DIR}/IMG_u.jpg"])
    assert exif["datetime_original"] == "2026:02:03 01:00:00"  # midnight UTC, Berlin wall clock
    todos = parse_todo_markdown(files[A.TODO_FILE])
    assert todos == [(False, f"{HOSTILE} u", date(2026, 2, 5)), (True, "second u", None)]
    dbs = {t.db: t for t in plan.app_rows}
    assert dbs[A.CHAT_DB].rows[0]["body"] == f"{HOSTILE} u"
    assert dbs[A.SHOP_DB].rows[0]["price"] == "19.99"


def T(hours: float) -> datetime:
    return datetime.fromisoformat(at(hours))


def test_laptop_plan_uses_the_laptops_tools() -> None:
    plan = compile_stream(DEVICES, TZ, both())["laptop"]
    assert isinstance(plan, LinuxSeedPlan)
    by_path = {getattr(r, "path", None): r for r in plan.records}
    mails = [r for r in plan.records if isinstance(r, MailRecord)]
    assert [(m.maildir, m.seen) for m in mails] == [(L.MAIL_INBOX, False), (L.MAIL_SENT, True)]
    assert mails[0].headers == {"Cc": "c@x.example"}
    assert mails[1].headers == {"In-Reply-To": "<in-u@x.example>"}
    note = by_path[f'{L.NOTES_DIR}/work/u "n" $x.md']
    assert isinstance(note, FileRecord) and note.content == f"{HOSTILE}\n".encode()
    assert note.mtime == T(3)  # the last edit
    history = by_path[L.HISTORY_FILE]
    assert isinstance(history, BashHistoryRecord)
    assert history.render().decode().splitlines()[0] == f"#{int(T(5).timestamp())}"
    todos = parse_todo_txt(by_path[L.TODO_FILE].content)
    assert [(t.text, t.done, t.due) for t in todos] == [
        (f"{HOSTILE} u", None, date(2026, 2, 5)),
        ("second u", date(2026, 2, 2), None),
    ]
    bank = next(r for r in plan.records if getattr(r, "path", "").startswith(L.BANK_DIR))
    rows = parse_bank_csv(bank.content)
    assert [r["amount"] for r in rows] == ["-12.50", "1000"]
    assert rows[0]["counterparty"] == HOSTILE and rows[1]["balance"] == ""
    chat = by_path[L.CHAT_DB]
    assert isinstance(chat, SqliteRecord)
    assert chat.tables[0].rows == [
        ["family", "me", f"{HOSTILE} u", 1, int(T(12).timestamp() * 1000)]
    ]


def test_same_stream_same_plans_whatever_the_input_order() -> None:
    stream = both()
    first = compile_stream(DEVICES, TZ, stream)
    shuffled = list(stream)
    random.Random(3).shuffle(shuffled)
    again = compile_stream(DEVICES, TZ, sorted(shuffled, key=lambda e: (e.t, e.id)))
    for role in DEVICES:
        assert plan_fingerprint(first[role]) == plan_fingerprint(again[role])


def test_service_events_are_skipped_with_a_trace() -> None:
    raw = laptop_stream("s")[:1]
    raw[0] = {**raw[0], "target": "service:mail"}
    plans = compile_stream(DEVICES, TZ, events(raw))
    assert [e.target for e in plans.skipped] == ["service:mail"]
    assert "skipped 1 service events" in plans.summary() and "service:mail 1" in plans.summary()
    assert plans.skipped_record()["skipped"] == {"service:mail": ["e000"]}
    assert plans["laptop"].records == []  # nothing reached the laptop


def test_a_contacts_org_and_note_reach_the_plan() -> None:
    added, edited = phone_stream("l")[:2]
    raw = [
        {**added, "org": "ACME GmbH", "note": "old note"},
        {**edited, "note": HOSTILE},  # the edit keeps the org, replaces the note
    ]
    plans = compile_stream(DEVICES, TZ, events(raw))
    (contact,) = plans["phone"].contacts
    assert (contact.org, contact.title, contact.note) == ("ACME GmbH", None, HOSTILE)
    assert plans.losses == []


def test_a_series_keeps_its_rule() -> None:
    raw = [{**phone_stream("s")[7], "rrule": "FREQ=WEEKLY;BYDAY=MO"}]
    plans = compile_stream(DEVICES, TZ, events(raw))
    assert [e.rrule for e in plans["phone"].events] == ["FREQ=WEEKLY;BYDAY=MO"]
    assert plans.losses == []


def test_unknown_role_and_dangling_edit_are_named() -> None:
    with pytest.raises(CompileError, match=r"e000 .*'tablet' is not a device"):
        compile_stream(DEVICES, TZ, events([{**phone_stream("x")[2], "target": "tablet"}]))
    with pytest.raises(CompileError, match=r"calendar.moved of unknown event 'move-x'"):
        compile_stream(DEVICES, TZ, events([phone_stream("x")[10]]))
    with pytest.raises(CompileError, match="nothing seeds it on an Android device"):
        compile_stream(DEVICES, TZ, events([{**laptop_stream("x")[5], "target": "phone"}]))


def test_all_day_entries_are_utc_midnights() -> None:
    raw = [
        {
            **phone_stream("d")[8],
            "all_day": True,
            "start": "2026-03-01T00:00:00+01:00",
            "end": "2026-03-01T00:00:00+01:00",
        }
    ]
    (entry,) = compile_stream(DEVICES, TZ, events(raw))["phone"].events
    assert (entry.start, entry.end, entry.timezone) == (
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 2, tzinfo=UTC),
        "UTC",
    )


# -- formats: hostile text survives each writer/reader pair --------------------------------

hostile = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from([HOSTILE, "x due:2026-01-01", "y (due 2026-01-01)", "\\u2028", "a\u2028b\\"])


@settings(max_examples=200, deadline=None)
@given(text=hostile, done=st.booleans(), due=st.none() | st.dates())
def test_todo_files_round_trip(text: str, done: bool, due: date | None) -> None:
    todo = Todo("1", text, date(2026, 1, 1), date(2026, 1, 2) if done else None, due)
    (back,) = parse_todo_txt(todo_txt([todo]))
    assert (back.text, back.done, back.due) == (text, todo.done, due)
    assert parse_todo_markdown(todo_markdown([todo])) == [(done, text, due)]
    assert len(todo_txt([todo]).decode().splitlines()) == 1  # one todo, one line


@settings(max_examples=100, deadline=None)
@given(counterparty=hostile, reference=hostile, cents=st.integers(-(10**9), 10**9))
def test_bank_csv_round_trips(counterparty: str, reference: str, cents: int) -> None:
    amount = Decimal(cents) / 100
    when = datetime(2026, 1, 1, 12, tzinfo=UTC)
    rows = parse_bank_csv(bank_csv([(when, amount, "EUR", counterparty, reference, None)]))
    assert rows == [
        {
            "date": when.isoformat(),
            "amount": format(amount, "f"),
            "currency": "EUR",
            "counterparty": counterparty,
            "reference": reference,
            "balance": "",
        }
    ]


def test_photos_are_small_deterministic_and_carry_time_and_place() -> None:
    taken = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(hours=1)
    a = photo_jpeg(HOSTILE, taken, 4000, 3000, -33.9, 151.2)
    assert a == photo_jpeg(HOSTILE, taken, 4000, 3000, -33.9, 151.2)
    assert len(a) < 20_000
    exif = photo_exif(a)
    assert exif["size"] == (320, 240) and exif["format"] == "JPEG"
    assert exif["datetime_original"] == "2026:01:02 04:04:05"
    lat, lon = exif["gps"]
    assert abs(lat + 33.9) < 1e-4 and abs(lon - 151.2) < 1e-4


def test_slugs_keep_distinct_names_apart() -> None:
    assert slug("main") == "main"
    assert len({slug("Main"), slug("main"), slug("MAIN"), slug("東京"), slug("")}) == 5


def test_every_kind_has_a_home_on_each_device_kind_it_allows() -> None:
    from tasks.events import EVENT_CLASSES

    homes = {"android": A._HANDLERS, "linux": L._HANDLERS}
    for cls in EVENT_CLASSES:
        for kind in cls.device_kinds:
            assert cls in homes[kind], f"{cls.__name__} may go to {kind} but nothing seeds it there"
    for kind, handlers in homes.items():
        for cls in handlers:
            assert kind in cls.device_kinds, f"{cls.__name__} is compiled for {kind} needlessly"


def test_a_plan_with_a_binary_file_has_a_fingerprint():
    # A bundled PDF is bytes that are not UTF-8: the fingerprint must not crash on it, and
    # it must tell two such plans apart.
    from linux_vm.seeding import FileRecord, LinuxSeedPlan

    def plan(tail: bytes) -> LinuxSeedPlan:
        return LinuxSeedPlan(records=[FileRecord(path="~/a.pdf", content=b"%PDF\xff\xfe" + tail)])

    assert plan_fingerprint(plan(b"\x00")) == plan_fingerprint(plan(b"\x00"))
    assert plan_fingerprint(plan(b"\x00")) != plan_fingerprint(plan(b"\x01"))
