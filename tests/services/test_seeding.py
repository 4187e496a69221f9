"""The stream's mail, calendar and contact events seeded into the real services and read back."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rig.services.mail import parse_message
from rig.services.stack import ServiceStack
from tasks.compile import compile_stream
from tasks.compile_services import DavPlan, MailPlan
from tests.compile.streams import HOSTILE, at, events, laptop_stream, phone_stream
from tests.services.conftest import NOW, accounts

pytestmark = pytest.mark.integration
DEVICES = {"phone": "android", "laptop": "linux"}
TZ = "Europe/Berlin"
ALL = ("mail", "calendar", "contacts")


def _stream(tag: str = "s") -> list:
    return events([*phone_stream(tag), *laptop_stream(tag)])


def test_declared_services_take_their_kinds_and_devices_keep_the_rest():
    plans = compile_stream(DEVICES, TZ, _stream(), services=ALL, now=NOW)
    assert set(plans.services) == set(ALL)
    assert plans["phone"].contacts == [] and plans["phone"].events == []
    assert not any(getattr(r, "maildir", None) for r in plans["laptop"].records)
    assert plans["phone"].sms  # not a service kind: still the phone's
    undeclared = compile_stream(DEVICES, TZ, _stream(), services=("mail",), now=NOW)
    assert undeclared["phone"].contacts and "contacts" not in undeclared.services


def test_stream_seeds_and_reads_back_over_the_protocols(stack):
    plans = compile_stream(DEVICES, TZ, _stream(), services=ALL, now=NOW)
    digests = {name: stack[name].seed(plan) for name, plan in plans.services.items()}
    mail = plans.services["mail"]
    assert digests["mail"]["messages"] == len(mail.messages) > 0
    got = stack["mail"].read_state({"kind": "mail_messages"})
    assert {m["sha256"] for m in got} == {parse_message(m.raw).sha256 for m in mail.messages}
    (contact,) = stack["contacts"].read_state({"kind": "contacts"})
    assert contact["name"] == f"{HOSTILE} s".replace("\r", "")
    events_ = stack["calendar"].read_state({"kind": "calendar_events", "timezone": TZ})
    assert {e["uid"] for e in events_} == {e.uid for e in plans.services["calendar"].events}
    for name in ("calendar", "contacts"):
        assert digests[name]["round_trips"] == 2  # one PUT, one REPORT
        ops = [r["op"] for r in stack[name].audit()]
        put = ops.index("DAV PUT")  # the import, then its read-back
        assert ops[put + 1] == "DAV REPORT" and ops.count("DAV PUT") == 1
    assert digests["mail"]["round_trips"] <= 2 + 2 * 5


def test_seed_that_does_not_read_back_is_an_infra_error(stack):
    plans = compile_stream(DEVICES, TZ, _stream(), services=ALL, now=NOW)
    plan = plans.services["contacts"]
    broken = DavPlan("contacts", plan.text.replace("FN:", "FN:x"), contacts=plan.contacts)
    from rig.services.base import ServiceDown

    with pytest.raises(ServiceDown, match="did not read back"):
        stack["contacts"].seed(broken)


@pytest.fixture(scope="module")
def shared_stack():
    path = Path(tempfile.mkdtemp(prefix="clawrig-test-svc-"))
    os.chmod(path, 0o755)
    with ServiceStack(list(ALL), path / "services", NOW, accounts()) as s:
        yield s
    shutil.rmtree(path, ignore_errors=True)


_ids = itertools.count()
HOSTILE_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\t\"'`$%\\;,:"
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() and s == s.strip())


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking would restart servers
)
@given(text=HOSTILE_TEXT, extra=st.sampled_from(["", " 😀 東京", ' "$HOME" `id` 50%']))
def test_hostile_text_round_trips_through_every_service(shared_stack, text, extra):
    value = text + extra
    mid = f"<h{next(_ids)}@x>"
    raw = [
        {
            "t": at(0),
            "kind": "mail.received",
            "target": "laptop",
            "message_id": mid,
            "sender": "A <a@x.example>",
            "to": ["maya.fischer@posteo.example"],
            "subject": value.replace("\n", " "),
            "body": value,
            "read": False,
        },
        {
            "t": at(1),
            "kind": "calendar.created",
            "target": "phone",
            "event_id": "h1",
            "title": value,
            "start": at(30),
            "end": at(31),
            "location": value,
            "description": value,
            "attendees": [{"name": value.replace('"', "'"), "email": "j@x.example"}],
        },
        {
            "t": at(2),
            "kind": "contact.added",
            "target": "phone",
            "contact_id": "h1",
            "name": value,
            "phones": ["+49 30 1234"],
            "emails": ["h@x.example"],
            "note": value,
        },
    ]
    plans = compile_stream(DEVICES, TZ, events(raw), services=ALL, now=NOW)
    for name, plan in plans.services.items():
        shared_stack[name].seed(plan)  # reads back and compares, or raises
    inbox = shared_stack["mail"].read_state({"kind": "mail_messages", "folders": ["INBOX"]})
    (last,) = [m for m in inbox if m["message_id"] == mid]
    assert last["subject"] == value.replace("\n", " ")
    assert last["body"].rstrip("\n") == value.rstrip("\n")
    (event,) = shared_stack["calendar"].events(tz=TZ)
    assert (event.summary, event.description, event.location) == (value, value, value)
    assert event.start == datetime.fromisoformat(at(30)).astimezone(ZoneInfo(TZ))
    (card,) = shared_stack["contacts"].contacts()
    assert (card.name, card.note) == (value, value)


def test_mail_plan_lands_in_its_folders_with_flags(stack):
    plans = compile_stream(DEVICES, TZ, _stream("f"), services=("mail",), now=NOW)
    plan: MailPlan = plans.services["mail"]
    stack["mail"].seed(plan)
    got = stack["mail"].messages()
    by_folder = {(m.folder, "\\Seen" in m.flags) for m in got}
    want = {(m.folder, "\\Seen" in m.flags) for m in plan.messages}
    assert by_folder == want
    for m in got:  # INTERNALDATE is the event's time, not the host's clock
        assert m.internaldate is not None and m.internaldate.year == 2026


def test_a_seeded_series_keeps_its_wall_clock_time_across_dst(stack):
    import caldav

    raw = [
        {
            "t": at(0),
            "kind": "calendar.created",
            "target": "service:calendar",
            "event_id": "physio",
            "title": "Physio",
            "start": "2026-03-19T08:15:00+01:00",
            "end": "2026-03-19T09:00:00+01:00",
            "rrule": "FREQ=WEEKLY;COUNT=4",
        },
        {
            "t": at(0),
            "kind": "calendar.created",
            "target": "service:calendar",
            "event_id": "once",
            "title": "Dentist",
            "start": "2026-04-02T15:00:00+02:00",
            "end": "2026-04-02T15:30:00+02:00",
        },
    ]
    plans = compile_stream({}, TZ, events(raw), services=("calendar",), now=NOW)
    assert "BEGIN:VTIMEZONE" in plans.services["calendar"].text
    stack["calendar"].seed(plan := plans.services["calendar"])
    ep = stack["calendar"].endpoint()
    client = caldav.DAVClient(url=ep["url"], username=ep["user"], password=ep["password"])
    found = client.calendar(url=ep["url"]).search(
        start=datetime(2026, 3, 1, tzinfo=ZoneInfo(TZ)),
        end=datetime(2026, 5, 1, tzinfo=ZoneInfo(TZ)),
        event=True,
        expand=True,
    )
    berlin = ZoneInfo(TZ)
    starts = sorted(
        e.icalendar_component["dtstart"].dt.astimezone(berlin).strftime("%m-%d %H:%M")
        for e in found
    )
    # 03-29 is the switch to summer time: the series stays at 08:15 local.
    assert starts == ["03-19 08:15", "03-26 08:15", "04-02 08:15", "04-02 15:00", "04-09 08:15"]
    assert {e.uid for e in plan.events} == {"physio", "once"}
