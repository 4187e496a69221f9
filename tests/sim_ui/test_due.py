"""Alarms ring and calendar reminders show when the phone's clock moves (emulator/sim/due.py).

The clock is moved the way the rig moves it (``date @EPOCH`` in the phone's shell); what
fell due is read in the notification shade, as an agent would."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from emulator.sim.contracts import PhoneContext
from emulator.sim.shell import Shell
from emulator.sim.ui.system import UiSystem
from tests.sim_ui.screen import find_all, retype, tap, type_into

PARIS = ZoneInfo("Europe/Paris")


def _date(ctx: PhoneContext, hh: int, mm: int, ss: int = 0) -> None:
    when = datetime(2026, 1, 2, hh, mm, ss, tzinfo=PARIS)  # a Friday
    status, _out, err = Shell(ctx).capture(f"date @{int(when.timestamp())}")
    assert status == 0, err


def _shade(ui: UiSystem) -> list[str]:
    ui.swipe(540, 20, 540, 1400, 300)
    texts = [f"{n.attrs['text']}" for n in find_all(ui, rid="notification")]
    descs = [n.attrs["content-desc"] for n in find_all(ui, rid="notification")]
    ui.keyevent(4)
    return texts + descs


def _alarm(ctx: PhoneContext, hour: int, minutes: int, mask: int, label: str, on: int = 1) -> None:
    conn = ctx.ui.apps["com.android.deskclock"]._db()  # type: ignore[union-attr]
    with conn:
        conn.execute(
            "INSERT INTO alarm_templates (hour, minutes, daysofweek, enabled, vibrate, label) "
            "VALUES (?, ?, ?, ?, 1, ?)",
            (hour, minutes, mask, on, label),
        )
    conn.close()


def test_moving_the_clock_rings_alarms_and_shows_reminders(ctx: PhoneContext, ui: UiSystem):
    ctx.clock.set_timezone("Europe/Paris")
    _date(ctx, 9, 0)
    _alarm(ctx, 7, 30, 0x1F, "Wake up")  # weekdays, already past at 09:00
    _alarm(ctx, 10, 0, 0x7F, "Stand up 🧍")  # every day
    _alarm(ctx, 9, 30, 0x7F, "Disabled one", on=0)
    _alarm(ctx, 9, 45, 0x20, "Saturday only")  # 2026-01-02 is a Friday
    ui.start("com.android.calendar")
    tap(ui, text="New event")
    type_into(ui, "title", "Dentist")
    for fid, value in (("date", "2026-01-02"), ("start", "14:30"), ("end", "15:15")):
        retype(ui, fid, value)
    retype(ui, "reminder", "30")
    tap(ui, text="Save")
    ui.keyevent(3)
    assert not any("Alarm" in t or "Dentist" in t for t in _shade(ui))

    _date(ctx, 9, 59, 59)  # a second before: nothing rings yet
    assert not any("Stand up" in t for t in _shade(ui))
    _date(ctx, 10, 0)
    shown = _shade(ui)
    assert any("Clock notification: Stand up 🧍: Alarm · 10:00" in t for t in shown), shown
    assert not any(x in t for t in shown for x in ("Wake up", "Disabled", "Saturday"))

    _date(ctx, 13, 59, 59)
    assert not any("Dentist" in t for t in _shade(ui))
    _date(ctx, 14, 0)  # 30 minutes before 14:30
    shown = _shade(ui)
    assert any("Calendar notification: Dentist: 14:30" in t for t in shown), shown

    # Back and forward again: nothing rings twice.
    _date(ctx, 9, 0)
    _date(ctx, 14, 5)
    shown = _shade(ui)
    assert sum("Stand up" in t for t in shown if t.startswith("Clock")) == 1, shown


def test_a_running_clock_rings_when_the_shade_is_looked_at(ctx: PhoneContext, ui: UiSystem):
    ctx.clock.set_timezone("Europe/Paris")
    _date(ctx, 9, 59, 59)
    _alarm(ctx, 10, 0, 0x7F, "Kettle")
    assert not any("Kettle" in t for t in _shade(ui))
    # The clock runs on its own (auto_time 1): no one sets it, the shade catches up.
    when = datetime(2026, 1, 2, 10, 0, 1, tzinfo=PARIS)
    ctx.clock.set_ms(int(when.timestamp() * 1000), frozen=True)
    assert any("Kettle" in t for t in _shade(ui))


def _alarm_rows(ctx: PhoneContext) -> list[dict]:
    return ctx.ui.apps["com.android.deskclock"].alarms()  # type: ignore[union-attr]


def test_a_one_time_alarm_rings_once_then_is_off(ctx: PhoneContext, ui: UiSystem):
    ctx.clock.set_timezone("Europe/Paris")
    _date(ctx, 8, 0)
    _alarm(ctx, 8, 15, 0, "Pills")  # no weekday: once
    _date(ctx, 8, 16)
    assert any("Clock notification: Pills: Alarm · 08:15" in t for t in _shade(ui))
    (row,) = _alarm_rows(ctx)
    assert row["enabled"] == 0  # DeskClock switches a one-time alarm off after it rang
    # The next day it stays quiet.
    when = datetime(2026, 1, 3, 8, 30, tzinfo=PARIS)
    Shell(ctx).capture(f"date @{int(when.timestamp())}")
    assert sum("Pills" in t for t in _shade(ui) if t.startswith("Clock")) == 1


def test_each_occurrence_of_a_series_reminds(ctx: PhoneContext, ui: UiSystem):
    ctx.clock.set_timezone("Europe/Paris")
    _date(ctx, 8, 0)
    start = datetime(2026, 1, 1, 9, 0, tzinfo=PARIS)  # Thursdays, from the day before
    p = ctx.providers
    uri = p.insert(
        "content://com.android.calendar/events",
        {
            "calendar_id": 1,
            "title": "Weekly 1:1 «Lena»",
            "dtstart": int(start.timestamp() * 1000),
            "duration": "PT30M",
            "rrule": "FREQ=DAILY;COUNT=3",
            "eventTimezone": "Europe/Paris",
        },
    )
    event_id = int(uri.rsplit("/", 1)[1])
    p.insert(
        "content://com.android.calendar/reminders",
        {"event_id": event_id, "minutes": 10, "method": 1},
    )
    _date(ctx, 8, 49, 59)
    assert not any("1:1" in t for t in _shade(ui))
    _date(ctx, 8, 50)  # 10 minutes before the second occurrence (Friday 09:00)
    shown = _shade(ui)
    assert any("Calendar notification: Weekly 1:1 «Lena»: 09:00" in t for t in shown), shown


def test_a_running_clock_fires_on_the_phones_own_tick(ctx: PhoneContext, ui: UiSystem):
    from emulator.sim import due
    from emulator.sim.logbuf import LogBuffer

    ctx.log = LogBuffer(ctx.clock)
    ctx.clock.set_timezone("Europe/Paris")
    _date(ctx, 6, 59, 59)
    _alarm(ctx, 7, 0, 0x7F, "Wake up")
    assert due.tick(ctx) == []  # the clock stands: a tick finds nothing new
    when = datetime(2026, 1, 2, 7, 0, 1, tzinfo=PARIS)
    ctx.clock.set_ms(int(when.timestamp() * 1000), frozen=False)  # runs from 07:00:01
    (fired,) = due.tick(ctx)  # nobody looked at the screen
    assert fired["title"] == "Wake up" and fired["date"] == int(when.timestamp() * 1000) - 1000
    assert "AlarmClock: alarm due: Wake up · Alarm · 07:00" in ctx.log.dump()
    assert due.tick(ctx) == []  # once
    assert any("Wake up" in t for t in _shade(ui))


def test_tapping_a_reminder_opens_its_event_and_an_alarm_opens_clock(
    ctx: PhoneContext, ui: UiSystem
):
    ctx.clock.set_timezone("Europe/Paris")
    _date(ctx, 8, 0)
    _alarm(ctx, 8, 5, 0x7F, "Coffee")
    ui.start("com.android.calendar")
    tap(ui, text="New event")
    type_into(ui, "title", "Dentist")
    for fid, value in (("date", "2026-01-02"), ("start", "08:30"), ("end", "09:00")):
        retype(ui, fid, value)
    retype(ui, "reminder", "15")
    tap(ui, text="Save")
    ui.keyevent(3)
    _date(ctx, 8, 20)
    ui.swipe(540, 20, 540, 1400, 300)
    tap(ui, desc="Calendar notification: Dentist: 08:30")
    assert ui.focus()[0] == "com.android.calendar"
    assert find_all(ui, text="Dentist") and find_all(ui, text="Edit")  # the event's screen
    ui.keyevent(3)
    ui.swipe(540, 20, 540, 1400, 300)
    assert not find_all(ui, desc="Calendar notification: Dentist: 08:30")  # gone once opened
    tap(ui, desc="Clock notification: Coffee: Alarm · 08:05")
    assert ui.focus()[0] == "com.android.deskclock"
    assert "Coffee" not in " ".join(_shade(ui))


def test_a_fast_clock_rings_on_its_own_tick(ctx: PhoneContext, ui: UiSystem):
    """At ``sim_clock_speed 600`` a minute passes in a tenth of a second: the tick's window
    (as much world time as the tick's interval at that speed) still holds the alarm."""
    import time

    from emulator.sim import due

    ctx.clock.set_timezone("Europe/Paris")
    _date(ctx, 6, 59, 0)
    _alarm(ctx, 7, 0, 0x7F, "Fast wake")
    shell = Shell(ctx)
    for cmd in ("settings put global sim_clock_speed 600", "settings put global auto_time 1"):
        assert shell.capture(cmd)[0] == 0
    assert ctx.clock.speed == 600 and not ctx.clock.frozen
    fired: list[dict] = []
    deadline = time.monotonic() + 10  # a bound, not a measure: 60 s of world time at x600
    while not fired and time.monotonic() < deadline:
        fired = due.tick(ctx)
        time.sleep(0.05)
    assert [f["title"] for f in fired] == ["Fast wake"], fired
    assert ctx.clock.now() > datetime(2026, 1, 2, 7, 0, tzinfo=PARIS)
    assert any("Fast wake" in t for t in _shade(ui))
