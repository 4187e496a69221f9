"""Relative and absolute times against a frozen now."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.times import TimeInvalid, resolve

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 16, 9, 30, tzinfo=BERLIN)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", datetime(2026, 3, 16, 9, 30)),
        ("-3d 09:15", datetime(2026, 3, 13, 9, 15)),
        ("-2w", datetime(2026, 3, 2, 9, 30)),
        ("+1d 14:00", datetime(2026, 3, 17, 14, 0)),
        ("-90m", datetime(2026, 3, 16, 8, 0)),
        ("-2h", datetime(2026, 3, 16, 7, 30)),
        ("-1w -2d 7:05", datetime(2026, 3, 7, 7, 5)),
        ("18:00", datetime(2026, 3, 16, 18, 0)),
        ("2026-03-01T10:00:00", datetime(2026, 3, 1, 10, 0)),
        ("2026-03-01", datetime(2026, 3, 1, 0, 0)),
    ],
)
def test_resolves_in_the_task_timezone(text, expected):
    got = resolve(text, NOW, "Europe/Berlin")
    assert got.replace(tzinfo=None) == expected
    assert got.utcoffset() == expected.replace(tzinfo=BERLIN).utcoffset()


def test_day_offsets_keep_wall_clock_across_dst():
    # Berlin switches to summer time on 2026-03-29: 09:00 stays 09:00 local.
    after = datetime(2026, 4, 1, 12, 0, tzinfo=BERLIN)
    got = resolve("-5d 09:00", after, "Europe/Berlin")
    assert (got.day, got.hour, got.utcoffset().total_seconds()) == (27, 9, 3600)
    assert resolve("-1d 09:00", after, "Europe/Berlin").utcoffset().total_seconds() == 7200


def test_absolute_with_offset_is_converted_not_reinterpreted():
    got = resolve("2026-03-01T08:00:00+00:00", NOW, "Europe/Berlin")
    assert got.hour == 9 and got.tzinfo == BERLIN


@pytest.mark.parametrize("bad", ["yesterday", "-3x", "25:00", "-3d 9:75", "", "2026-13-01"])
def test_bad_times_are_named(bad):
    with pytest.raises(TimeInvalid) as info:
        resolve(bad, NOW, "Europe/Berlin")
    assert repr(bad) in str(info.value) or "clock time" in str(info.value)


def test_unknown_zone():
    with pytest.raises(TimeInvalid, match="Mars/Olympus"):
        resolve("now", NOW, "Mars/Olympus")


@settings(max_examples=200, deadline=None)
@given(
    days=st.integers(min_value=-400, max_value=400),
    hour=st.integers(min_value=0, max_value=23),
    minute=st.integers(min_value=0, max_value=59),
    zone_name=st.sampled_from(["Europe/Berlin", "America/Toronto", "Asia/Tokyo", "UTC"]),
    now_utc=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
)
def test_day_offset_with_clock_is_that_local_wall_time(days, hour, minute, zone_name, now_utc):
    tz = ZoneInfo(zone_name)
    text = f"{days:+d}d {hour:02d}:{minute:02d}"
    got = resolve(text, now_utc, zone_name)
    assert got.tzinfo == tz
    assert got.date() == now_utc.astimezone(tz).date() + timedelta(days=days)
    wall = datetime.combine(got.date(), time(hour, minute))
    exists = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
    if exists:
        assert got.replace(tzinfo=None) == wall
    else:  # inside a DST gap: moved forward by the gap
        assert got.replace(tzinfo=None) - wall == timedelta(hours=1)


def test_a_wall_time_inside_the_dst_gap_moves_forward():
    after = datetime(2026, 3, 30, 12, 0, tzinfo=BERLIN)
    got = resolve("-1d 02:30", after, "Europe/Berlin")
    assert got.isoformat() == "2026-03-29T03:30:00+02:00"
