"""The generator: determinism, scale, coverage of every kind, and the planted signals."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import timedelta

import pytest

from tasks.events import KINDS, PLOT_ONLY
from tasks.generator import GeneratorSettings, generate
from tasks.persona import BUILTIN, bundled_personas, load_persona
from tasks.stream import dumps, stats


def test_same_inputs_same_bytes(maya, maya_stream, now):
    again = generate(maya, GeneratorSettings(days=92, seed=1), now)
    assert dumps(again) == dumps(maya_stream)


def test_different_seed_different_bytes(maya, maya_stream, now):
    other = generate(maya, GeneratorSettings(days=92, seed=2), now)
    assert hashlib.sha256(dumps(other)).digest() != hashlib.sha256(dumps(maya_stream)).digest()


def test_scale_of_a_92_day_stream(maya_stream):
    s = stats(maya_stream)
    assert s.events >= 5000
    assert s.words >= 150_000
    assert 91 <= s.span_days <= 92.5


@pytest.mark.parametrize("name", ["ravi", "aiko"])
def test_every_bundled_persona_reaches_the_scale(name, now):
    persona = load_persona(BUILTIN / f"{name}.yaml")
    s = stats(generate(persona, GeneratorSettings(days=92, seed=5), now))
    assert s.events >= 5000, name
    assert s.words >= 150_000, name


def test_at_least_three_personas_ship():
    assert {"maya", "ravi", "aiko"} <= set(bundled_personas())


def test_every_event_kind_is_present(maya_stream):
    assert set(KINDS) - PLOT_ONLY == {e.kind for e in maya_stream}


def test_time_ordered_inside_the_window_with_unique_ids(maya_stream, now):
    times = [e.t for e in maya_stream]
    assert times == sorted(times)
    assert times[-1] <= now
    assert times[0] >= now - timedelta(days=93)
    ids = [e.id for e in maya_stream]
    assert len(set(ids)) == len(ids) and all(ids)


def test_targets_are_the_given_roles(maya, now):
    events = generate(maya, GeneratorSettings(days=14, seed=3), now, phone="mobile", laptop="work")
    # Orders and parcels live only in the shop and the carrier: those go to services.
    only_services = {"service:shop", "service:parcels"}
    assert {e.target for e in events} == {"mobile", "work", *only_services}
    for e in events:
        if e.target in only_services:
            assert e.kind in ("shop.order", "parcel.update") and not e.device_kinds
            continue
        assert ("android" if e.target == "mobile" else "linux") in e.device_kinds


def test_phone_only_world_has_no_linux_only_events(maya, now):
    events = generate(maya, GeneratorSettings(days=14, seed=3), now, laptop=None, services=())
    assert {e.target for e in events} == {"phone"}
    assert not {"mail.received", "shell.command", "bank.transaction"} & {e.kind for e in events}


def test_rhythms_weekday_routines_recurring_meetings_bills(maya, maya_stream):
    shell_days = Counter(e.t.weekday() for e in maya_stream if e.kind == "shell.command")
    weekday_avg = sum(shell_days[d] for d in range(5)) / 5
    weekend_avg = (shell_days[5] + shell_days[6]) / 2
    assert weekday_avg > 3 * weekend_avg
    series = [e for e in maya_stream if e.kind == "calendar.created" and e.rrule]
    assert {e.title for e in series} >= {m.title for m in maya.meetings}
    rent = [
        e for e in maya_stream if e.kind == "bank.transaction" and e.reference.startswith("rent")
    ]
    assert len(rent) == 3 and {e.t.day for e in rent} == {1}


def test_threads_continue_over_weeks(maya_stream):
    by_id = {e.message_id: e for e in maya_stream if e.kind in ("mail.received", "mail.sent")}
    longest = timedelta(0)
    for mail in by_id.values():
        root = mail
        while root.in_reply_to in by_id:
            root = by_id[root.in_reply_to]
        longest = max(longest, mail.t - root.t)
    assert longest >= timedelta(days=7)


def test_noise_duplicates_and_conflicts_are_planted(maya_stream):
    tags = Counter(t for e in maya_stream for t in e.tags)
    assert tags["noise"] > 100
    assert tags["near-duplicate"] >= 3
    assert tags["conflict"] >= 4
    moved = [
        e for e in maya_stream if e.kind == "mail.received" and e.subject.startswith("Moving:")
    ]
    assert moved
    ref = next(t for t in moved[0].tags if t.startswith("ref:"))[4:]
    calendar = [e for e in maya_stream if getattr(e, "event_id", None) == ref]
    assert [e.kind for e in calendar] == ["calendar.created"]  # never moved in the calendar
    alerts = [e for e in maya_stream if e.kind == "price.alert" and "conflict" in e.tags]
    assert alerts
    deal = [e for e in maya_stream if e.kind == "mail.received" and alerts[0].item in e.subject]
    assert deal and str(alerts[0].price) not in deal[0].body


@pytest.mark.parametrize("name", ["maya", "aiko"])
def test_a_fifth_conflict_is_a_parcel_the_carrier_moved_later_than_the_shop_said(name, now):
    persona = load_persona(BUILTIN / f"{name}.yaml")
    few = generate(persona, GeneratorSettings(days=30, seed=7, conflicts=4), now)
    five = generate(persona, GeneratorSettings(days=30, seed=7, conflicts=5), now)
    assert dumps(few) != dumps(five)
    assert not [e for e in few if e.kind == "parcel.update" and "conflict" in e.tags]
    updates = [e for e in five if e.kind == "parcel.update" and "conflict" in e.tags]
    assert [e.status for e in updates] == ["announced", "in_transit"]
    announced, delayed = updates
    assert announced.tracking == delayed.tracking and delayed.eta > announced.eta > now
    orders = [e for e in five if e.kind == "shop.order" and e.order_id == announced.order_id]
    assert [o.status for o in orders] == ["placed", "shipped"]
    mail = [e for e in five if e.kind == "mail.received" and announced.tracking in e.body]
    assert len(mail) == 1 and "conflict" in mail[0].tags
    # The mail promises the first day, the carrier's last word is later.
    assert f"{announced.eta.day:02d}" in mail[0].body and delayed.t >= mail[0].t
    # A world without the parcel service gets none of it (the mail alone contradicts nothing).
    shopless = generate(
        persona, GeneratorSettings(days=30, seed=7, conflicts=5), now, services=("bank",)
    )
    assert not [e for e in shopless if announced.tracking in getattr(e, "body", "")]


def test_knobs_scale_the_stream(maya, now):
    base = stats(generate(maya, GeneratorSettings(days=30, seed=4), now))
    quiet = stats(generate(maya, GeneratorSettings(days=30, seed=4, noise=0.0), now))
    busy = stats(generate(maya, GeneratorSettings(days=30, seed=4, density=2.0), now))
    assert quiet.by_tag["noise"] == 0 < base.by_tag["noise"]
    assert busy.events > 1.5 * base.events


def test_generated_references_all_resolve(maya_stream):
    from tasks.events import dangling_references

    assert dangling_references(maya_stream) == []
    assert any(e.kind == "calendar.moved" for e in maya_stream)


def test_generated_names_never_clash(maya_stream):
    from tasks.events import duplicate_names

    assert duplicate_names(maya_stream) == []


def test_service_only_events_follow_the_declared_services(maya, now):
    settings = GeneratorSettings(days=30, seed=3)
    shop_only = generate(maya, settings, now, services=("shop",))
    everything = generate(maya, settings, now)
    kinds = {e.kind for e in shop_only}
    assert "shop.order" in kinds and "parcel.update" not in kinds
    assert {e.kind for e in everything} >= {"shop.order", "parcel.update"}
    # Leaving a service out changes nothing else in the stream.
    rest = [e for e in everything if e.kind != "parcel.update"]
    assert [(e.kind, e.t) for e in shop_only] == [(e.kind, e.t) for e in rest]
