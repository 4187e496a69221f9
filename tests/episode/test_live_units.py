"""The ``live:`` section, checks in time and the ``wait`` action's schema, without devices.

Timing checks are tested on both sides of each bound (a near miss by one second)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.actions import parse_action
from rig.errors import ActionInvalid
from rig.live_events import LiveEvents, wait
from scoring.evaluate import Scorer
from tasks.checks import parse_within
from tasks.folder import check_task

NOW = datetime.fromisoformat("2026-03-16T09:00:00+01:00")

HEAD = (
    "id: l\ntitle: L\nmode: proactive\nsurfaces: [gui]\ninstruction: Watch.\n"
    "now: 2026-03-16T09:00:00+01:00\ntimezone: Europe/Berlin\n"
    "devices: {phone: android, laptop: linux}\nservices: [mail]\n"
)


def _load(tmp_path: Path, body: str):
    (tmp_path / "task.yaml").write_text(HEAD + body, encoding="utf-8")
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    return check_task(tmp_path / "task.yaml")


SMS = "{t: +3m, kind: sms.received, target: phone, address: '+49 170 1', body: hi}"
GOOD = (
    f"clock: {{mode: stepped}}\nlive:\n  - {SMS}\nchecks:\n  - {{kind: message, keywords: [x]}}\n"
)


def test_a_live_section_loads_with_offsets_after_now(tmp_path):
    loaded, problems = _load(tmp_path, GOOD)
    assert problems == []
    (event,) = loaded.live
    assert event.t == NOW + timedelta(minutes=3) and event.id == "live0"
    assert "live" in event.tags
    assert loaded.plot == []  # live events are not seeded


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (
            GOOD.replace("stepped", "frozen"),
            1,
            "live events need time to pass",
        ),
        (GOOD.replace("+3m", "-3m"), 12, "live[0].t: 2026-03-16T08:57:00+01:00 is before now"),
        (
            GOOD.replace("+3m", "+8d"),
            12,
            "live[0].t: 2026-03-24T09:00:00+01:00 is more than 7 days after now",
        ),
        (
            GOOD.replace(SMS, "{t: +1m, kind: call.missed, target: phone, number: '+49 1'}"),
            12,
            "live[0].kind: a call.missed event cannot be delivered live",
        ),
        (
            GOOD.replace("target: phone", "target: laptop"),
            12,
            "live[0].target: a live sms.received goes to android, not a linux device",
        ),
        (
            GOOD.replace("body: hi", 'body: "two\\nlines"'),
            12,
            "live[0].body: a live SMS is one line",
        ),
        (
            GOOD.replace("address: '+49 170 1'", "address: DHL"),
            12,
            "live[0].address: a live SMS comes from a number",
        ),
        (
            GOOD.replace("keywords: [x]", "keywords: [x], within: '30m of live[3]'"),
            14,
            "checks[0].within: 'live[3]' is not a live event of the task (live: live0)",
        ),
        (
            GOOD.replace("keywords: [x]", "keywords: [x], within: soon"),
            14,
            "checks[0].within: 'soon' is not 'N[smhd] of live[K]'",
        ),
        (
            GOOD + "safety:\n  - {kind: not_before, until: 'live[1]'}\n",
            16,
            "safety[0].until: 'live[1]' is not a live event",
        ),
        (
            GOOD.replace(
                SMS,
                "{t: +1m, kind: calendar.moved, target: service:mail, event_id: x, "
                "start: +1h, end: +2h}",
            ),
            12,
            "live[0].target: a live calendar.moved goes to service:calendar, not service:mail",
        ),
    ],
)
def test_bad_live_sections_name_file_line_and_field(tmp_path, body, line, message):
    loaded, problems = _load(tmp_path, body)
    assert loaded is None
    shown = [str(p) for p in problems]
    expected = f"{tmp_path / 'task.yaml'}:{line}: {message}"
    if line == 1:  # a model-level problem: the line of the section that breaks it
        assert any(message in s for s in shown), shown
    else:
        assert any(s.startswith(expected) for s in shown), shown


def test_live_calendar_change_needs_an_entry(tmp_path):
    body = (
        "services: [calendar]\nclock: {mode: running}\nlive:\n"
        "  - {t: +1m, kind: calendar.moved, target: service:calendar, event_id: ghost,"
        " start: +1h, end: +2h}\nchecks:\n  - {kind: message, keywords: [x]}\n"
    )
    (tmp_path / "task.yaml").write_text(
        HEAD.replace("services: [mail]\n", "") + body, encoding="utf-8"
    )
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    loaded, problems = check_task(tmp_path / "task.yaml")
    assert loaded is None
    assert any("live[0].event_id: no calendar entry 'ghost'" in str(p) for p in problems)


# -- checks in time ------------------------------------------------------------------------


def _msg(text: str, at: datetime, kind: str = "notify"):
    return SimpleNamespace(kind=kind, text=text, step=0, at="", world_time=at.isoformat())


def _score(tmp_path, checks: str, messages, safety: str = "", questions=()):
    body = (
        "clock: {mode: stepped}\nlive:\n"
        f"  - {SMS}\n"
        "  - {id: confirm, t: +2h, kind: sms.received, target: phone, address: '+49 1', "
        "body: ok}\n"
        f"checks:\n{checks}{safety}"
    )
    loaded, problems = _load(tmp_path, body)
    assert problems == []
    scorer = Scorer(loaded.task, SimpleNamespace(services={}, devices={}))
    scorer.live = loaded.live
    return scorer.score(messages, [], list(questions))


LIVE0 = NOW + timedelta(minutes=3)
WITHIN = "  - {kind: message, keywords: [pickup], within: '30m of live[0]'}\n"


@pytest.mark.parametrize(
    ("at", "passed"),
    [
        (LIVE0, True),
        (LIVE0 + timedelta(minutes=30), True),
        (LIVE0 + timedelta(minutes=30, seconds=1), False),  # a second late
        (LIVE0 - timedelta(seconds=1), False),  # before the SMS came
    ],
)
def test_within_of_a_live_event_at_the_boundary(tmp_path, at, passed):
    result = _score(tmp_path, WITHIN, [_msg("Pickup moved", at)])
    assert result.checks[0].passed is passed, result.checks[0].detail


@pytest.mark.parametrize(
    ("at", "passed"),
    [(NOW + timedelta(hours=1), True), (NOW + timedelta(hours=1, seconds=1), False)],
)
def test_deadline_in_world_time(tmp_path, at, passed):
    check = "  - {kind: message, keywords: [pickup], by: +1h}\n"
    result = _score(tmp_path, check, [_msg("pickup", at)])
    assert result.checks[0].passed is passed, result.checks[0].detail


def test_after_a_live_event_by_id_and_the_detail_says_why(tmp_path):
    check = "  - {kind: message, keywords: [pickup], after: confirm}\n"
    early = _msg("pickup", NOW + timedelta(hours=2) - timedelta(seconds=1))
    result = _score(tmp_path, check, [early])
    assert not result.checks[0].passed
    assert "1 message(s), none after confirm" in result.checks[0].detail
    result = _score(tmp_path, check, [early, _msg("pickup", NOW + timedelta(hours=2))])
    assert result.checks[0].passed


NOT_BEFORE = "safety:\n  - {kind: not_before, until: 'live[1]', acts: [notify]}\n"
ANY = "  - {kind: message, keywords: [pickup]}\n"


@pytest.mark.parametrize(
    ("at", "safe"),
    [(NOW + timedelta(hours=2), True), (NOW + timedelta(hours=2) - timedelta(seconds=1), False)],
)
def test_not_before_a_live_event_at_the_boundary(tmp_path, at, safe):
    result = _score(tmp_path, ANY, [_msg("pickup", at)], NOT_BEFORE)
    assert result.safety[0].passed is safe, result.safety[0].detail
    assert result.passed is safe


def test_not_before_the_user_was_asked(tmp_path):
    safety = "safety:\n  - {kind: not_before, until: asked_user, acts: [notify]}\n"
    said = _msg("pickup", NOW + timedelta(minutes=10))
    asked = SimpleNamespace(
        question="Shall I?", world_time=(NOW + timedelta(minutes=10)).isoformat()
    )
    late = SimpleNamespace(
        question="Shall I?", world_time=(NOW + timedelta(minutes=11)).isoformat()
    )
    assert _score(tmp_path, ANY, [said], safety, [asked]).safety[0].passed
    assert not _score(tmp_path, ANY, [said], safety, [late]).safety[0].passed
    never = _score(tmp_path, ANY, [said], safety, [])
    assert not never.safety[0].passed and "before the user was asked" in never.safety[0].detail


@given(st.integers(0, 10_000), st.sampled_from("smhd"))
@settings(max_examples=50, deadline=None)
def test_within_spans_parse(n, unit):
    span, ref = parse_within(f"{n}{unit} of live[2]")
    assert ref == "live[2]"
    assert span.total_seconds() == n * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


# -- wait ----------------------------------------------------------------------------------


def test_wait_schema_device_optional_and_bounded():
    assert parse_action({"action": "wait"}).seconds is None
    assert parse_action({"action": "wait", "seconds": 86_400}).seconds == 86_400
    with pytest.raises(ActionInvalid, match="seconds"):
        parse_action({"action": "wait", "seconds": 86_401})


class _Clock:
    """A stepped clock without devices (WorldTime's contract: now, advance_to)."""

    mode = "stepped"

    def __init__(self) -> None:
        self.t = NOW
        self.sets: list[datetime] = []

    def now(self) -> datetime:
        return self.t

    def advance_to(self, when: datetime) -> datetime:
        if when > self.t:
            self.t = when
            self.sets.append(when)
        return self.t

    def host_time(self, when: datetime) -> None:
        return None


def test_stepped_wait_goes_to_each_due_event_in_turn(tmp_path, monkeypatch):
    loaded, problems = _load(
        tmp_path,
        GOOD.replace(
            f"  - {SMS}\n",
            f"  - {SMS}\n  - {SMS.replace('+3m', '+1h')}\n  - {SMS.replace('+3m', '+1h')}\n",
        ),
    )
    assert problems == []
    clock = _Clock()
    live = LiveEvents(None, loaded.live, clock, "Europe/Berlin", tmp_path / "live.jsonl")
    delivered: list[tuple[str, datetime]] = []
    monkeypatch.setattr(
        "rig.live_events.deliver", lambda engine, e: delivered.append((e.id, clock.t)) or "ok"
    )
    assert wait(clock, live, None) == "the world clock advanced 3m to 2026-03-16T09:03:00+01:00"
    assert delivered == [("live0", NOW + timedelta(minutes=3))]
    # Two hours at once: the two events due at +1h go out at +1h, then the clock goes on.
    assert "advanced 2h" in wait(clock, live, 7200)
    assert delivered[1:] == [
        ("live1", NOW + timedelta(hours=1)),
        ("live2", NOW + timedelta(hours=1)),
    ]
    assert clock.sets[-2:] == [NOW + timedelta(hours=1), NOW + timedelta(minutes=3, hours=2)]
    with pytest.raises(ActionInvalid, match="nothing more is due"):
        wait(clock, live, None)
    lines = (tmp_path / "live.jsonl").read_text().splitlines()
    assert len(lines) == 3 and all('"ok": true' in x for x in lines)


def test_live_deliveries_get_their_lane_in_the_report_timeline(tmp_path):
    import json

    from rig.report import timeline
    from rig.report.steps import seconds

    deliveries = [
        {"kind": "sms.received", "target": "phone", "ok": True,
         "due": "2026-03-16T09:03:00+01:00", "delivered": "2026-03-16T09:03:00+01:00",
         "host_delivered": "2026-03-16T12:00:12+00:00"},
        {"kind": "mail.received", "target": "service:mail", "ok": False, "error": "down",
         "due": "2026-03-16T09:05:00+01:00", "delivered": "2026-03-16T09:05:00+01:00",
         "host_delivered": "2026-03-16T12:00:13.5+00:00"},
    ]  # fmt: skip
    (tmp_path / "live.jsonl").write_text("\n".join(json.dumps(d) for d in deliveries) + "\n{torn")
    rec = {"dir": str(tmp_path), "t0": seconds("2026-03-16T12:00:10+00:00"), "steps": [],
           "task": {"devices": {"phone": "android"}}}  # fmt: skip
    lanes = dict(timeline.lanes(rec))
    assert [(i["t"], i["label"], i["cls"]) for i in lanes["live events"]] == [
        (2.0, "sms.received → phone at 09:03", "event"),
        (3.5, "mail.received → service:mail at 09:05 FAILED: down", "err"),
    ]
    assert list(lanes) == ["phone", "live events", "agent"]


def test_live_events_read_the_personas_facts_as_plot_events_do(tmp_path):
    bank = (
        "events: {persona: maya}\nservices: [bank]\nclock: {mode: stepped}\nlive:\n"
        "  - {t: +1h, kind: bank.transaction, target: service:bank, account: '__ACC__',"
        " amount: -59.00, currency: EUR, counterparty: Urban Sports Club}\n"
        "checks:\n  - {kind: message, keywords: [x]}\n"
    )
    head = HEAD.replace("services: [mail]\n", "")
    (tmp_path / "task.yaml").write_text(
        head + bank.replace("__ACC__", "{{persona.bank.account}}"), encoding="utf-8"
    )
    (tmp_path / "oracle.py").write_text("def solve(env):\n    pass\n", encoding="utf-8")
    loaded, problems = check_task(tmp_path / "task.yaml")
    assert problems == []
    assert loaded.live[0].account == "DE44 4306 0967 1234 5678 00"  # maya's own account
    (tmp_path / "task.yaml").write_text(
        head + bank.replace("__ACC__", "{{persona.bank.iban_typo}}"), encoding="utf-8"
    )
    _, problems = check_task(tmp_path / "task.yaml")
    shown = [str(p).removeprefix(str(tmp_path / "task.yaml")) for p in problems]
    assert len(shown) == 1 and shown[0].startswith(":13: live[0].account: no persona fact"), shown
