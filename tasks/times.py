"""Times in tasks and streams: absolute ISO 8601, or relative to the task's frozen "now".

Relative forms, always read in the task's timezone:

* ``now``
* offsets: ``-3d``, ``-2w``, ``+1d``, ``-90m``, ``-2h``, combined as ``-1w -2d``
* an offset and a wall-clock time: ``-3d 09:15`` is 09:15 local time three days
  before today; ``+1d 14:00`` is 14:00 tomorrow. Without a clock time the
  offset is applied to "now" itself.

Offsets in days and weeks move the calendar date (so ``-1d 09:00`` across a
DST change is still 09:00 local), minutes and hours move the instant.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_PART = re.compile(r"([+-])\s*(\d+)\s*([mhdw])")
_RELATIVE = re.compile(
    r"^\s*(?:now\s*)?(?P<offsets>(?:[+-]\s*\d+\s*[mhdw]\s*)*)(?P<clock>\d{1,2}:\d{2})?\s*$"
)


class TimeInvalid(ValueError):
    """A time string that is neither ISO 8601 nor a relative time."""


# The range of times a world can hold. Devices count time from 1970 (Android's
# providers in ms, file times, tar headers, ``date -s``); the far end leaves every
# generated day and ``+`` offset representable (Python's dates end at 9999-12-31).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def in_range(value: datetime) -> datetime:
    """``value`` if a world can hold it, else :class:`TimeInvalid` naming the range."""
    if not EARLIEST <= value < LATEST:
        raise TimeInvalid(
            f"{value.isoformat()} is outside the range a world can hold "
            f"({EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} UTC)"
        )
    return value


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; a clear error for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeInvalid(f"unknown IANA timezone {name!r}") from None


def is_relative(text: str) -> bool:
    return bool(text.strip()) and bool(_RELATIVE.match(text)) and not _looks_iso(text)


def _looks_iso(text: str) -> bool:
    return bool(re.match(r"^\s*\d{4}-\d{2}-\d{2}", text))


def _clock(text: str) -> time:
    hh, mm = text.split(":")
    hour, minute = int(hh), int(mm)
    if hour > 23 or minute > 59:
        raise TimeInvalid(f"{text!r} is not a clock time (HH:MM, 00:00-23:59)")
    return time(hour, minute)


def resolve(text: str | datetime | date, now: datetime, tz: str | ZoneInfo) -> datetime:
    """An aware datetime for ``text`` (absolute or relative) given the frozen ``now``.

    Naive absolute times are read in ``tz``; the result is in ``tz``, and inside
    :data:`EARLIEST` … :data:`LATEST` (else :class:`TimeInvalid`).
    """
    zi = zone(tz) if isinstance(tz, str) else tz
    try:
        return in_range(_resolve(text, now, zi))
    except OverflowError:
        raise TimeInvalid(
            f"{text!s} is outside the range a world can hold "
            f"({EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} UTC)"
        ) from None


def _resolve(text: str | datetime | date, now: datetime, zi: ZoneInfo) -> datetime:
    local_now = now.astimezone(zi)
    if isinstance(text, datetime):
        return text.replace(tzinfo=zi) if text.tzinfo is None else text.astimezone(zi)
    if isinstance(text, date):
        return datetime.combine(text, time(0, 0), tzinfo=zi)
    raw = str(text)
    if _looks_iso(raw):
        try:
            value = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise TimeInvalid(f"{raw!r} is not an ISO 8601 time") from None
        return value.replace(tzinfo=zi) if value.tzinfo is None else value.astimezone(zi)
    m = _RELATIVE.match(raw)
    if not m or not raw.strip():
        raise TimeInvalid(
            f"{raw!r} is not a time; use ISO 8601 or relative to now like "
            "'-3d 09:15', '-2w', '+1d 14:00', '-90m'"
        )
    days = 0
    minutes = 0
    for sign, amount, unit in _PART.findall(m.group("offsets") or ""):
        n = int(amount) * (-1 if sign == "-" else 1)
        if unit == "w":
            days += 7 * n
        elif unit == "d":
            days += n
        elif unit == "h":
            minutes += 60 * n
        else:
            minutes += n
    clock = m.group("clock")
    if clock is not None:
        day = local_now.date() + timedelta(days=days)
        base = datetime.combine(day, _clock(clock), tzinfo=zi)
    else:
        day = local_now.date() + timedelta(days=days)
        base = datetime.combine(day, local_now.timetz().replace(tzinfo=None), tzinfo=zi)
    # Wall-clock arithmetic, then normalise through UTC so nonexistent local times resolve.
    return (base.astimezone(ZoneInfo("UTC")) + timedelta(minutes=minutes)).astimezone(zi)


def iso(value: datetime) -> str:
    """The one textual form streams use: ISO 8601 with seconds and a numeric offset."""
    return value.isoformat(timespec="seconds")
