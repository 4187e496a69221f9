"""Relative and absolute times against a frozen now."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

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
