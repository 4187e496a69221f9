"""What falls due as the phone's clock moves: alarms ring and calendar reminders show.

On Android, AlarmManager fires what came due when time passes or is set forward (a
``date`` jump included): the Clock app rings its alarm, Calendar posts its reminder. The
virtual phone does the same, as notifications in the shade. The window since the last
look is scanned

* when the clock is set (``date``, the way the rig moves a phone's clock),
* every half second while the clock runs (the phone's own tick, :meth:`Phone._save_loop`),
* whenever the status bar or shade is drawn,

for enabled alarms of the Clock app (``alarm_templates``: a time of day and a weekday
mask, or once) whose ring falls in the window, and calendar events (recurring ones per
occurrence) with a reminder (``Reminders.minutes`` before the start) in it.

Each posts once, as ``alarm:ID:MS`` or ``reminder:EVENT:MS``, with a logcat line
(``AlarmClock`` / ``CalendarAlerts``) stamped with the phone's time. A one-time alarm is
switched off once it rang (deleted when ``delete_after_use``), as DeskClock does. Only
the last 24 hours are scanned: an alarm that rang while the phone was off long ago is not
news. The window and what was posted live under ``due`` in ``STATE/system.json``, so
they survive restarts and go into snapshots.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from contextlib import closing
from datetime import datetime, timedelta
from typing import Any

from emulator.sim.clock import update_json
from emulator.sim.providers.instances import occurrences

log = logging.getLogger(__name__)

ALARMS_DB = "/data/user_de/0/com.android.deskclock/databases/alarms.db"
EVENTS = "content://com.android.calendar/events"
REMINDERS = "content://com.android.calendar/reminders"
WINDOW_MS = 24 * 3600 * 1000
MAX_POSTED = 200
MIN_GAP_MS = 200  # looks closer together than this find nothing new (3 ms saved a frame)
_LOCK = threading.Lock()  # one catch-up at a time (the tick, the shell and the UI race)


def _state(ctx: Any) -> dict[str, Any]:
    path = getattr(ctx.clock, "state_path", None)
    if path is None or not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8") or "{}").get("due") or {})
    except (OSError, json.JSONDecodeError):
        return {}


def _save(ctx: Any, state: dict[str, Any]) -> None:
    path = getattr(ctx.clock, "state_path", None)
    if path is not None:
        update_json(path, "due", state)


def posted(ctx: Any) -> list[dict[str, Any]]:
    """Alarm and reminder notifications posted so far (the shade filters dismissed ones)."""
    catch_up(ctx)
    return list(_state(ctx).get("posted") or [])


def clock_set(ctx: Any, before_ms: int) -> list[dict[str, Any]]:
    """The clock was set (``date``): forward fires what came due, backward only rewinds."""
    with _LOCK:
        state = _state(ctx)
        if "checked_ms" not in state:
            state["checked_ms"] = before_ms
            _save(ctx, state)
    return catch_up(ctx)


def tick(ctx: Any) -> list[dict[str, Any]]:
    """The phone's own look at a running clock (a stopped one only moves by ``date``)."""
    if getattr(ctx.clock, "frozen", True):
        return []
    return catch_up(ctx)


def catch_up(ctx: Any) -> list[dict[str, Any]]:
    """Post what fell due since the last look; returns the new notifications."""
    with _LOCK:
        now = ctx.clock.now_ms()
        state = _state(ctx)
        checked = state.get("checked_ms")
        if checked is None or now <= checked:
            if checked != now:
                state["checked_ms"] = now
                _save(ctx, state)
            return []
        if now - int(checked) < MIN_GAP_MS:  # a running clock drawn frame after frame
            return []
        low = max(int(checked), now - WINDOW_MS)
        tz = ctx.clock.tzinfo
        new: list[dict[str, Any]] = []
        try:
            new += _alarms(ctx, low, now, tz)
        except Exception:  # a broken database rings nothing rather than breaking the clock
            log.warning("due alarms unavailable", exc_info=True)
        try:
            new += _reminders(ctx, low, now, tz)
        except Exception:
            log.warning("due reminders unavailable", exc_info=True)
        have = {n["key"] for n in state.get("posted") or []}
        fresh = [n for n in new if n["key"] not in have]
        state["posted"] = [*(state.get("posted") or []), *fresh][-MAX_POSTED:]
        state["checked_ms"] = now
        _save(ctx, state)
    logcat = getattr(ctx, "log", None)
    for n in fresh:
        log.info("due: %s %s (%s)", n["app"], n["title"], n["key"])
        if logcat is not None:  # as AlarmManager's clients log it (``adb logcat``)
            tag = "AlarmClock" if n["app"] == "Clock" else "CalendarAlerts"
            logcat.i(tag, f"{n['key'].split(':')[0]} due: {n['title']} · {n['text']}")
    return fresh


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _alarms(ctx: Any, low: int, high: int, tz: Any) -> list[dict[str, Any]]:
    path = ctx.vfs.host_path(ALARMS_DB)
    if not path.exists():
        return []
    with closing(sqlite3.connect(path, timeout=10)) as conn:
        conn.row_factory = sqlite3.Row
        try:
            rows = [dict(r) for r in conn.execute("SELECT * FROM alarm_templates WHERE enabled=1")]
        except sqlite3.OperationalError:
            return []
        out: list[dict[str, Any]] = []
        rang_once: list[dict[str, Any]] = []
        first = datetime.fromtimestamp(low / 1000, tz).date()
        last = datetime.fromtimestamp(high / 1000, tz).date()
        for a in rows:
            mask = int(a["daysofweek"] or 0)
            day = first
            while day <= last:
                if mask == 0 or mask & (1 << day.weekday()):
                    at = _ms(
                        datetime(day.year, day.month, day.day, a["hour"], a["minutes"], tzinfo=tz)
                    )
                    if low < at <= high:
                        out.append(_alarm_note(a, at))
                        if mask == 0:  # rings once, then it is off
                            rang_once.append(a)
                            break
                day += timedelta(days=1)
        with conn:
            for a in rang_once:
                if int(a.get("delete_after_use") or 0):
                    conn.execute("DELETE FROM alarm_templates WHERE _id=?", [a["_id"]])
                else:
                    conn.execute("UPDATE alarm_templates SET enabled=0 WHERE _id=?", [a["_id"]])
    return out


def _alarm_note(a: dict[str, Any], at: int) -> dict[str, Any]:
    return {
        "key": f"alarm:{a['_id']}:{at}",
        "app": "Clock",
        "date": at,
        "title": a.get("label") or "Alarm",
        "text": f"Alarm · {a['hour']:02d}:{a['minutes']:02d}",
    }


def _reminders(ctx: Any, low: int, high: int, tz: Any) -> list[dict[str, Any]]:
    p = ctx.providers
    reminders = p.query(REMINDERS, ["event_id", "minutes"])
    if not reminders:
        return []
    ids = sorted({int(r["event_id"]) for r in reminders if r["event_id"] is not None})
    cols = ["_id", "title", "dtstart", "dtend", "duration", "rrule", "exdate"]
    cols += ["eventTimezone", "eventLocation", "deleted"]
    events = {
        int(e["_id"]): e for e in p.query(EVENTS, cols, f"_id IN ({','.join(str(i) for i in ids)})")
    }
    out = []
    for r in reminders:
        e = events.get(int(r["event_id"] or -1))
        if e is None or str(e.get("deleted") or 0) == "1" or e.get("dtstart") is None:
            continue
        before = int(r["minutes"] or 0) * 60_000
        # Occurrences starting in (low + before, high + before] remind in (low, high].
        for start, _end in occurrences(e, low + before, high + before + 1):
            at = start - before
            if not low < at <= high:
                continue
            when = datetime.fromtimestamp(start / 1000, tz)
            where = f" · {e['eventLocation']}" if e.get("eventLocation") else ""
            out.append(
                {
                    "key": f"reminder:{e['_id']}:{at}",
                    "app": "Calendar",
                    "date": at,
                    "title": e.get("title") or "(no title)",
                    "text": f"{when:%H:%M}{where}",
                }
            )
    return out
