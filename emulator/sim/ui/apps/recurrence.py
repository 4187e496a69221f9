"""Instances of calendar events: one for a single event, many for an ``rrule`` series.

CalendarContract stores a series as ``dtstart`` + ``duration`` (RFC 5545
``P3600S``, ``PT1H``, ``P1D``) + ``rrule``; the calendar app shows one row per
occurrence. Expansion uses dateutil's RFC 5545 parser, in the event's own
timezone so that "every Monday 09:00" stays at 09:00 across DST. All-day
events are dated in UTC, as Android stores them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

MAX_INSTANCES = 1000

_DURATION = re.compile(r"([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def duration_ms(text: Any) -> int | None:
    """Milliseconds of an RFC 5545 duration (``P3600S``, ``PT1H30M``, ``P1D``), or None."""
    m = _DURATION.fullmatch(str(text or "").strip().upper())
    if m is None or not any(m.groups()[1:]):
        return None
    sign, weeks, days, hours, minutes, seconds = m.groups()
    total = timedelta(
        weeks=int(weeks or 0),
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
    )
    ms = int(total.total_seconds() * 1000)
    return -ms if sign == "-" else ms


def event_zone(ev: dict[str, Any], fallback: tzinfo) -> tzinfo:
    if ev.get("allDay") in (1, "1"):
        return UTC
    try:
        return ZoneInfo(str(ev.get("eventTimezone")))
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def length_ms(ev: dict[str, Any]) -> int:
    start = int(ev["dtstart"])
    if ev.get("dtend") is not None and not ev.get("rrule"):
        return max(0, int(ev["dtend"]) - start)
    dur = duration_ms(ev.get("duration"))
    if dur is not None:
        return max(0, dur)
    if ev.get("dtend") is not None:
        return max(0, int(ev["dtend"]) - start)
    return 0


def instances(
    ev: dict[str, Any], fallback: tzinfo, start_ms: int, end_ms: int
) -> list[tuple[int, int]]:
    """``(begin_ms, end_ms)`` of each occurrence overlapping ``[start_ms, end_ms)``."""
    begin = int(ev["dtstart"])
    length = length_ms(ev)
    rule = str(ev.get("rrule") or "").strip()
    if not rule:
        overlaps = begin < end_ms and (begin + length > start_ms or begin >= start_ms)
        return [(begin, begin + length)] if overlaps else []
    tz = event_zone(ev, fallback)
    first = datetime.fromtimestamp(begin / 1000, tz)
    try:
        series = rrulestr(rule, dtstart=first)
        lo = datetime.fromtimestamp((start_ms - length) / 1000, tz)
        hi = datetime.fromtimestamp(end_ms / 1000, tz)
        found = series.between(lo, hi, inc=True)
    except (ValueError, TypeError, OverflowError):
        return instances(
            {**ev, "rrule": None, "dtend": begin + length}, fallback, start_ms, end_ms
        )  # an rrule Android would reject: show the first occurrence
    out = []
    for when in found[:MAX_INSTANCES]:
        ms = int(when.timestamp() * 1000)
        if ms < end_ms and (ms + length > start_ms or ms >= start_ms):
            out.append((ms, ms + length))
    return out
