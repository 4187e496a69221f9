"""Calendar instances: every occurrence of every event inside a time window.

AOSP's CalendarProvider keeps an ``Instances`` table expanded from each event's
``dtstart``, ``dtend``/``duration``, ``rrule`` and ``exdate``. Here the window
asked for is expanded on demand into a connection-private temporary table, so
``--projection``, ``--where`` and ``--sort`` work on it as on any table.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

from emulator.sim.providers.schema import INSTANCE_COLUMNS

MAX_OCCURRENCES = 5000
_DURATION = re.compile(r"([-+])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def duration_ms(text: str | None) -> int | None:
    """RFC 5545 ``DURATION`` (``P1D``, ``PT1H30M``, ``P3600S``) in milliseconds."""
    if not text:
        return None
    m = _DURATION.fullmatch(text.strip().upper())
    if not m:
        m2 = re.fullmatch(r"P(\d+)S", text.strip().upper())  # Android writes P3600S
        return int(m2.group(1)) * 1000 if m2 else None
    sign = -1 if m.group(1) == "-" else 1
    w, d, h, mi, s = (int(x or 0) for x in m.groups()[1:])
    return sign * ((((w * 7 + d) * 24 + h) * 60 + mi) * 60 + s) * 1000


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _exdates(text: str | None, tz: ZoneInfo) -> set[int]:
    out: set[int] = set()
    for item in (text or "").replace(";", ",").split(","):
        item = item.strip().split(":")[-1]
        for fmt, zone in (("%Y%m%dT%H%M%SZ", UTC), ("%Y%m%dT%H%M%S", tz), ("%Y%m%d", UTC)):
            try:
                when = datetime.strptime(item, fmt).replace(tzinfo=zone)
            except ValueError:
                continue
            out.add(int(when.timestamp() * 1000))
            break
    return out


def _day_fields(begin: int, end: int, tz: ZoneInfo) -> tuple[int, int, int, int]:
    """Julian ``startDay``/``endDay`` and minute-of-day, as the Instances table keeps them."""
    b = datetime.fromtimestamp(begin / 1000, tz)
    e = datetime.fromtimestamp(end / 1000, tz)
    return (
        b.toordinal() + 1721425,
        e.toordinal() + 1721425,
        b.hour * 60 + b.minute,
        e.hour * 60 + e.minute,
    )


def occurrences(row: dict[str, Any], begin: int, end: int) -> list[tuple[int, int]]:
    """``(start_ms, end_ms)`` of each occurrence of an event overlapping ``[begin, end)``."""
    start = row["dtstart"]
    if start is None:
        return []
    length = duration_ms(row["duration"])
    if length is None:
        length = (row["dtend"] - start) if row["dtend"] is not None else 0
    if not row["rrule"]:
        return [(start, start + length)] if start < end and start + length > begin else []
    tz = _zone(row["eventTimezone"])
    first = datetime.fromtimestamp(start / 1000, tz)
    try:
        rule = rrulestr(row["rrule"], dtstart=first)
    except (ValueError, TypeError):
        return [(start, start + length)] if start < end and start + length > begin else []
    lo = datetime.fromtimestamp((begin - max(length, 0)) / 1000, tz) - timedelta(seconds=1)
    hi = datetime.fromtimestamp(end / 1000, tz)
    skip = _exdates(row["exdate"], tz)
    out = []
    for when in rule.between(lo, hi, inc=True):
        s = int(when.timestamp() * 1000)
        if s in skip or not (s < end and s + length > begin):
            continue
        out.append((s, s + length))
        if len(out) >= MAX_OCCURRENCES:
            break
    return out


def fill_window(conn: sqlite3.Connection, begin: int, end: int) -> None:
    """(Re)build ``temp.instances_window`` with the occurrences in ``[begin, end)``."""
    cols = ", ".join(f'"{c}"' for c in INSTANCE_COLUMNS)
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS instances_window ({cols})")
    conn.execute("DELETE FROM temp.instances_window")
    cur = conn.execute("SELECT * FROM view_event_spans")
    names = [d[0] for d in cur.description]
    rows = []
    n = 0
    for raw in cur.fetchall():
        row = dict(zip(names, raw, strict=True))
        tz = _zone(row["eventTimezone"])
        for s, e in occurrences(row, begin, end):
            n += 1
            sd, ed, sm, em = _day_fields(s, e, tz)
            values = {
                **row,
                "_id": n,
                "begin": s,
                "end": e,
                "startDay": sd,
                "endDay": ed,
                "startMinute": sm,
                "endMinute": em,
            }
            rows.append([values.get(c) for c in INSTANCE_COLUMNS])
    marks = ", ".join("?" for _ in INSTANCE_COLUMNS)
    conn.executemany(f"INSERT INTO temp.instances_window VALUES ({marks})", rows)
