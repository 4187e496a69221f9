"""Batched seeding and read-back against the virtual phone: hostile text byte for byte."""

from __future__ import annotations

import secrets
import shlex
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import readers
from emulator.device import AdbAndroidDevice
from emulator.errors import SeedMismatch
from emulator.seeding import (
    Alarm,
    AlarmStore,
    AppRows,
    Attendee,
    CalendarEvent,
    Call,
    Contact,
    FileItem,
    SeedPlan,
    Setting,
    Sms,
    apply_plan,
)

pytestmark = [pytest.mark.integration]

HOSTILE = [
    "it's",
    'say "hi"',
    "$HOME $(id) ${x}",
    "`id`",
    "50% off %s %d",
    "a\nb\n",
    "😀🎉",
    "日本語のテキスト",
    "back\\slash",
    "tab\there",
    ", body=x, date=1",
    "\nRow: 1 x=y",
]
T0 = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)

# Any text but NUL (which no Android string column keeps), with the hostile
# characters over-represented.
text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("'\"$`%\\\n ,=;|&😀日本🎉é")),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
    ),
    max_size=30,
)


def _plan(words: list[str]) -> SeedPlan:
    w = words
    return SeedPlan(
        contacts=[
            Contact(
                name=w[0] or "x",
                phones=["+1 555 0100"],
                emails=[w[1] + "@ex.com"],
                org=w[4],
                title=w[5],
                note=w[2],
            )
        ],
        sms=[
            Sms(address="+15550100", body=w[2], date=T0, box="inbox", read=False),
            Sms(address="+15550101", body=w[3], date=T0 + timedelta(minutes=5), box="sent"),
        ],
        calls=[Call(number="+15550100", date=T0, duration_s=42, type="missed")],
        events=[
            CalendarEvent(
                title=w[4],
                start=T0 + timedelta(days=1),
                end=T0 + timedelta(days=1, hours=1),
                description=w[5],
                location=w[6],
                reminders=[10, 60],
                attendees=[Attendee(name=w[7], email="a@ex.com")],
            )
        ],
        alarms=[Alarm(hour=7, minute=15, label=w[8])],
        files=[
            FileItem(
                path="/sdcard/Documents/notes/clawrig.md",
                data=w[9].encode(),
                mtime=T0 - timedelta(days=3),
            )
        ],
        settings=[Setting("system", "clawrig_test_value", w[10] or "v")],
        app_rows=[
            AppRows(
                package="com.example.notes",
                db="/data/data/com.example.notes/databases/notes.db",
                table="notes",
                rows=[{"title": w[11], "body": w[2], "pinned": 1, "blob": w[3].encode()}],
                schema="CREATE TABLE IF NOT EXISTS notes (title TEXT, body TEXT, pinned INTEGER, "
                "blob BLOB)",
            )
        ],
    )


def test_seed_reads_back_hostile_text(phone: AdbAndroidDevice) -> None:
    digest = phone.seed(_plan(HOSTILE))
    assert digest["sms"] == 2 and digest["events"] == 1 and digest["alarms"] == 1
    assert digest["round_trips"] <= 9  # fixed, whatever the plan size
    rows = readers.query(
        phone,
        "content://sms",
        ["_id", "body", "type"],
        where="address='+15550101'",
        types={"_id": int, "type": int},
    )
    assert rows[-1]["body"] == HOSTILE[3] and rows[-1]["type"] == 2
    note = readers.read_file(phone, "/sdcard/Documents/notes/clawrig.md")
    assert note == HOSTILE[9].encode()
    stat = phone.shell("stat -c %Y /sdcard/Documents/notes/clawrig.md").stdout.strip()
    assert int(stat) == int((T0 - timedelta(days=3)).timestamp())  # the user's time, not now
    assert readers.get_setting(phone, "system", "clawrig_test_value") == HOSTILE[10]
    (mine,) = [c for c in phone.read_state({"kind": "contacts"}) if c.name == HOSTILE[0]]
    assert (mine.org, mine.title, mine.note) == (HOSTILE[4], HOSTILE[5], HOSTILE[2])
    assert mine.phones == ["+1 555 0100"] and mine.emails == [HOSTILE[1] + "@ex.com"]
    assert digest["file_transfer"] == "archive"


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(words=st.lists(text, min_size=12, max_size=12))
def test_seed_round_trip_property(phone: AdbAndroidDevice, words: list[str]) -> None:
    apply_plan(phone, _plan(words))


def test_batched_round_trips_do_not_grow_with_size(phone: AdbAndroidDevice) -> None:
    small = apply_plan(phone, SeedPlan(sms=[Sms("+1", "x", T0)]))
    big = apply_plan(phone, SeedPlan(sms=[Sms("+1", f"m{i}", T0) for i in range(200)]))
    assert big["round_trips"] == small["round_trips"] <= 5


def test_mismatch_names_the_first_differing_record(phone: AdbAndroidDevice) -> None:
    # INTEGER affinity turns the text '007' into the integer 7: what reads back differs.
    plan = SeedPlan(
        app_rows=[
            AppRows(
                package="com.example.counter",
                db="/data/data/com.example.counter/databases/c.db",
                table="counts",
                rows=[{"n": 1}, {"n": "007"}],
                schema="CREATE TABLE IF NOT EXISTS counts (n INTEGER)",
            )
        ]
    )
    with pytest.raises(SeedMismatch, match=r"c\.db:counts\[1\]\.n: planned '007', read back 7"):
        apply_plan(phone, plan)


def test_read_state_queries(phone: AdbAndroidDevice) -> None:
    apply_plan(phone, SeedPlan(sms=[Sms("+15559999", "state, query", T0)]))
    rows = phone.read_state(
        {
            "kind": "provider",
            "uri": "content://sms/inbox",
            "projection": ["address", "body"],
            "where": "address='+15559999'",
        }
    )
    assert rows[-1] == {"address": "+15559999", "body": "state, query"}
    hashes = phone.read_state({"kind": "file_hashes", "paths": ["/sdcard/none.txt"]})
    assert hashes == {"/sdcard/none.txt": None}
    ui = phone.read_state(readers.UiQuery())
    assert ui["package"] and "<hierarchy" in ui["tree"]


def test_plan_from_json_like_data(phone: AdbAndroidDevice) -> None:
    from emulator.errors import AndroidInputError

    data = {
        "sms": [{"address": "+15557777", "body": "from dict", "date": "2026-01-05T08:30:00+00:00"}],
        "events": [
            {
                "title": "Dentist",
                "start": "2026-01-06T09:00:00+01:00",
                "end": "2026-01-06T10:00:00+01:00",
                "attendees": [{"name": "Dr. Who", "email": "who@ex.com"}],
            }
        ],
        "files": [{"path": "/sdcard/Download/d.txt", "data": "text ✓"}],
    }
    digest = phone.seed(data)
    assert digest["digest"] == digest["plan_sha256"] and digest["sms"] == 1
    with pytest.raises(AndroidInputError, match="unknown sections"):
        phone.seed({"emails": []})
    with pytest.raises(AndroidInputError, match=r"sms\[0\]"):
        phone.seed({"sms": [{"address": "+1"}]})
    with pytest.raises(AndroidInputError, match="naive datetime"):
        phone.seed({"sms": [{"address": "+1", "body": "x", "date": "2026-01-05T08:30:00"}]})


def test_seeded_alarm_shows_in_the_clock_app(adb_server, tmp_path) -> None:
    from emulator.sim.phone import spawn_phone

    proc = spawn_phone(tmp_path / "fresh", size="720x1280", density=320)
    try:
        phone = AdbAndroidDevice(adb_server, adb_server.connect(proc.serial))
        # db=None: ask the device where DeskClock keeps its database.
        plan = SeedPlan(
            alarms=[Alarm(hour=6, minute=45, label="Wake up ☀ 'now'")],
            alarm_store=AlarmStore(db=None),
        )
        digest = phone.seed(plan)
        assert list(digest["app_rows"]) == [
            "/data/user_de/0/com.android.deskclock/databases/alarms.db:alarm_templates"
        ]
        phone.launch("com.android.deskclock")
        import xml.etree.ElementTree as ET

        texts = [n.get("text", "") for n in ET.fromstring(phone.ui_tree().encode()).iter("node")]
        assert "06:45" in texts, texts
        assert any(t.startswith("Wake up ☀ 'now'") for t in texts), texts
    finally:
        proc.stop()
        adb_server.disconnect(proc.serial)


def test_a_series_is_seeded_as_a_series(phone: AdbAndroidDevice) -> None:
    weekly = CalendarEvent(
        title="Sprint review 🔁",
        start=T0,
        end=T0 + timedelta(minutes=45),
        rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=6",
        timezone="Europe/Berlin",
    )
    phone.seed(SeedPlan(events=[weekly]))
    rows = readers.query(
        phone,
        "content://com.android.calendar/events",
        ["_id", "dtend", "duration", "rrule"],
        where="title='Sprint review 🔁'",
    )
    assert [(r["dtend"], r["duration"], r["rrule"]) for r in rows] == [
        (None, "P2700S", "FREQ=WEEKLY;BYDAY=MO;COUNT=6")
    ]
    begin, end = int(T0.timestamp() * 1000), int((T0 + timedelta(days=28)).timestamp() * 1000)
    seen = readers.query(
        phone,
        f"content://com.android.calendar/instances/when/{begin}/{end}",
        ["begin", "title"],
        where="title='Sprint review 🔁'",
    )
    assert len(seen) == 4  # every Monday of the four weeks, not just the first


def test_org_and_note_are_rows_of_the_data_table(phone: AdbAndroidDevice) -> None:
    only_title = Contact("Title Only ✓", title="Night 'shift' lead")
    noted = Contact("Noted $x", org="ACME `GmbH`", note="line 1\nline 2 50% 😀")
    plain = Contact("Plain Person")
    phone.seed(SeedPlan(contacts=[only_title, noted, plain]))
    rows = readers.query(
        phone,
        "content://com.android.contacts/data",
        ["display_name", "mimetype", "data1", "data2", "data4"],
        where="display_name IN ('Title Only ✓', 'Noted $x', 'Plain Person')",
    )
    got = {(r["display_name"], r["mimetype"], r["data1"], r["data2"], r["data4"]) for r in rows}
    org, note = readers.MIME_ORG, readers.MIME_NOTE
    assert ("Title Only ✓", org, None, "1", "Night 'shift' lead") in got  # 1: TYPE_WORK
    assert ("Noted $x", org, "ACME `GmbH`", "1", None) in got
    assert ("Noted $x", note, "line 1\nline 2 50% 😀", None, None) in got
    assert not any(r[0] == "Plain Person" and r[1] in (org, note) for r in got)
    by_name = {c.name: c for c in readers.contacts(phone)}
    assert (by_name["Noted $x"].org, by_name["Noted $x"].note) == (noted.org, noted.note)
    assert by_name["Plain Person"].org is None and by_name["Plain Person"].note is None


# File names as hostile as a filesystem allows: no "/", NUL or newline (seeding refuses
# those: the read-back prints one line per file), and not "." or "..".
file_names = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("'\"$`%\\ ;&|<>*?~#😀日本語🎉é")),
        st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="/\x00\n"),
    ),
    min_size=1,
    max_size=24,
).filter(lambda n: n not in (".", ".."))


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(file_names, min_size=1, max_size=6, unique=True),
    bodies=st.lists(st.binary(max_size=3000), min_size=6, max_size=6),
    mtimes=st.lists(st.integers(0, 2**31 - 1) | st.none(), min_size=6, max_size=6),
    archive=st.booleans(),
)
def test_files_round_trip_byte_for_byte(
    phone: AdbAndroidDevice,
    names: list[str],
    bodies: list[bytes],
    mtimes: list[int | None],
    archive: bool,
) -> None:
    folder = f"/sdcard/Download/prop {secrets.token_hex(4)} 'q' $d"
    files = [FileItem(f"{folder}/{n}", bodies[i], mtime=mtimes[i]) for i, n in enumerate(names)]
    digest = apply_plan(phone, SeedPlan(files=files), archive=archive)
    assert digest["file_transfer"] == ("archive" if archive else "per-file")
    now = phone.shell("date +%s").stdout.strip()
    for f in files:
        # Read back independently of the seeding's own check: bytes over sync, time by stat.
        assert phone.read_bytes(f.path) == f.data
        quoted = shlex.quote(f.path)
        stamp = phone.check(f"stat -c %Y {quoted}").strip()
        assert stamp == str(f.mtime if f.mtime is not None else now), f.path


def test_round_trips_do_not_grow_with_files(phone: AdbAndroidDevice) -> None:
    def plan(n: int, tag: str) -> SeedPlan:
        return SeedPlan(
            sms=[Sms("+15550123", f"{tag} sms", T0)],
            files=[
                FileItem(f"/sdcard/Documents/rt {tag}/{i} 😀.txt", f"{i}".encode(), mtime=T0)
                for i in range(n)
            ],
            app_rows=[
                AppRows(
                    "com.example.rt",
                    "/data/data/com.example.rt/databases/rt.db",
                    "t",
                    [{"v": tag}],
                    "CREATE TABLE IF NOT EXISTS t (v TEXT)",
                )
            ],
        )

    one = apply_plan(phone, plan(1, "a"))
    many = apply_plan(phone, plan(60, "b"))
    assert one["round_trips"] == many["round_trips"] <= 4
    per_file = apply_plan(phone, plan(60, "c"), archive=False)
    assert per_file["round_trips"] >= 60  # the fallback pushes each file (and the SQL)


def test_a_file_that_cannot_be_written_fails_the_seed_by_name(phone: AdbAndroidDevice) -> None:
    phone.seed(SeedPlan(files=[FileItem("/sdcard/Documents/blocker.txt", b"a file")]))
    bad = SeedPlan(
        files=[
            FileItem("/sdcard/Documents/fine.txt", b"fine"),
            FileItem("/sdcard/Documents/blocker.txt/inner.txt", b"cannot be"),
        ]
    )
    with pytest.raises(
        SeedMismatch, match=r"files\[1\] \(/sdcard/Documents/blocker\.txt/inner"
    ) as e:
        phone.seed(bad)
    assert "can't mkdir" in e.value.log_tail


def test_bad_file_paths_are_refused_before_anything_is_written(phone: AdbAndroidDevice) -> None:
    from emulator.errors import AndroidInputError

    for path, why in (("relative.txt", "absolute"), ("/sdcard/a\nb", "newline")):
        with pytest.raises(AndroidInputError, match=why):
            phone.seed(SeedPlan(files=[FileItem(path, b"x")]))


def test_answers_the_state_queries_every_device_shares(phone: AdbAndroidDevice) -> None:
    from tests.state_vocabulary import assert_shared_kinds

    assert_shared_kinds(phone, "/sdcard")
