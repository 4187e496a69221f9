"""Calendar occurrences: single events, RRULE series across DST, all-day dates in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from emulator.sim.contracts import PhoneContext
from emulator.sim.ui.apps.recurrence import duration_ms, instances
from emulator.sim.ui.system import UiSystem
from tests.sim_ui.screen import find, find_all, tap

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def ms(*args: int, tz=PARIS) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp() * 1000)


def test_durations() -> None:
    assert duration_ms("P3600S") == 3_600_000
    assert duration_ms("PT1H30M") == 5_400_000
    assert duration_ms("P1D") == 86_400_000
    assert duration_ms("P1W") == 7 * 86_400_000
    assert duration_ms("-PT15M") == -900_000
    assert duration_ms("") is None and duration_ms("soon") is None and duration_ms("P") is None


def test_single_event_overlap() -> None:
    ev = {"dtstart": ms(2026, 3, 2, 9, 0), "dtend": ms(2026, 3, 2, 10, 0)}
    day = (ms(2026, 3, 2, 0, 0), ms(2026, 3, 3, 0, 0))
    assert instances(ev, PARIS, *day) == [(ev["dtstart"], ev["dtend"])]
    assert instances(ev, PARIS, ms(2026, 3, 2, 10, 0), ms(2026, 3, 3, 0, 0)) == []
    assert instances(ev, PARIS, ms(2026, 3, 2, 9, 30), ms(2026, 3, 3, 0, 0)) != []


def test_weekly_series_keeps_wall_clock_time_across_dst() -> None:
    ev = {
        "dtstart": ms(2026, 3, 16, 9, 0),
        "duration": "P3600S",
        "rrule": "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6",
        "eventTimezone": "Europe/Paris",
    }
    got = instances(ev, UTC, ms(2026, 3, 1, 0, 0), ms(2026, 5, 1, 0, 0))
    starts = [datetime.fromtimestamp(b / 1000, PARIS) for b, _ in got]
    assert [s.strftime("%a %d %H:%M") for s in starts] == [
        "Mon 16 09:00",
        "Wed 18 09:00",
        "Mon 23 09:00",
        "Wed 25 09:00",
        "Mon 30 09:00",
        "Wed 01 09:00",
    ]  # DST began on Mar 29; still 09:00 local
    assert all(e - b == 3_600_000 for b, e in got)
    until = {**ev, "rrule": "FREQ=DAILY;UNTIL=20260318T235959Z"}
    assert len(instances(until, UTC, ms(2026, 3, 1, 0, 0), ms(2026, 5, 1, 0, 0))) == 3


def test_all_day_is_dated_in_utc_and_bad_rules_fall_back() -> None:
    ev = {
        "dtstart": ms(2026, 7, 4, 0, 0, tz=UTC),
        "dtend": ms(2026, 7, 5, 0, 0, tz=UTC),
        "allDay": 1,
        "rrule": "FREQ=YEARLY",
        "duration": "P1D",
    }
    got = instances(ev, NEW_YORK, ms(2027, 1, 1, 0, 0, tz=UTC), ms(2028, 1, 1, 0, 0, tz=UTC))
    assert got == [(ms(2027, 7, 4, 0, 0, tz=UTC), ms(2027, 7, 5, 0, 0, tz=UTC))]
    broken = {"dtstart": ms(2026, 3, 2, 9, 0), "duration": "PT1H", "rrule": "FREQ=SOMETIMES"}
    assert instances(broken, PARIS, ms(2026, 3, 1, 0, 0), ms(2026, 4, 1, 0, 0)) == [
        (ms(2026, 3, 2, 9, 0), ms(2026, 3, 2, 10, 0))
    ]


def test_calendar_app_lists_each_occurrence(ctx: PhoneContext, ui: UiSystem) -> None:
    ctx.clock.set_timezone("Europe/Paris")
    ctx.clock.set(datetime(2026, 3, 16, 8, 0, tzinfo=PARIS))
    ctx.providers.insert(
        "content://com.android.calendar/events",
        {
            "calendar_id": 1,
            "title": "Standup",
            "dtstart": ms(2026, 3, 16, 9, 0),
            "duration": "P900S",
            "rrule": "FREQ=WEEKLY;BYDAY=MO,WE",
            "eventTimezone": "Europe/Paris",
        },
    )
    ui.start("com.android.calendar")
    rows = find_all(ui, text="Standup")
    assert len(rows) >= 5  # Mon, Wed, Mon, Wed ... on one screen
    assert find(ui, text="Today") and find(ui, text="Wednesday, March 18")
    tap(ui, text="Day")
    assert find(ui, text="Standup")
    tap(ui, text="Next day")  # Tuesday: nothing
    assert find(ui, text="No events")
    tap(ui, text="Next day")  # Wednesday
    tap(ui, text="Standup")
    assert find(ui, rid="when_datetime").text == "Wed, Mar 18 · 09:00 – 09:15"
    assert find(ui, rid="repeats").text == "Repeats weekly on Mon, Wed"


def test_create_all_day_event(ctx: PhoneContext, ui: UiSystem) -> None:
    ctx.clock.set_timezone("America/New_York")
    ui.start("com.android.calendar")
    tap(ui, text="New event")
    tap(ui, rid="title")
    ui.text("Holiday")
    tap(ui, text="All day")
    assert find(ui, rid="all_day").attrs["checked"] == "true"
    tap(ui, text="Save")
    ev = ctx.providers.query(
        "content://com.android.calendar/events", ["allDay", "dtstart", "dtend", "eventTimezone"]
    )[0]
    day = datetime.fromtimestamp(ev["dtstart"] / 1000, UTC)
    assert ev["allDay"] == 1 and ev["eventTimezone"] == "UTC"
    assert (day.hour, day.minute) == (0, 0) and ev["dtend"] - ev["dtstart"] == 86_400_000
    assert find(ui, rid="when_datetime").text.endswith("· All day")
