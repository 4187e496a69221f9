"""Clock: the alarms list, add/edit an alarm, and its on/off switch.

Alarms persist in the app's own database, ``/data/user_de/0/com.android.deskclock/
databases/alarms.db``, in AOSP DeskClock's ``alarm_templates`` table, so
``sqlite3`` over ``adb shell`` and state readers see what the user set.
``daysofweek`` is DeskClock's bitmask: Monday 1, Tuesday 2 … Sunday 64.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any, ClassVar

from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import ListRow, Switch, Text

DB = "/data/user_de/0/com.android.deskclock/databases/alarms.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS alarm_templates (
  _id INTEGER PRIMARY KEY, hour INTEGER NOT NULL, minutes INTEGER NOT NULL,
  daysofweek INTEGER NOT NULL, enabled INTEGER NOT NULL, vibrate INTEGER NOT NULL,
  label TEXT NOT NULL, ringtone TEXT, delete_after_use INTEGER NOT NULL DEFAULT 0);
"""
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
ERROR = (217, 48, 37)


def days_text(mask: int) -> str:
    if mask == 0:
        return "Not scheduled"
    if mask == 0x7F:
        return "Every day"
    if mask == 0x1F:
        return "Weekdays"
    return ", ".join(d for i, d in enumerate(DAYS) if mask & (1 << i))


class ClockApp(App):
    package = "com.android.deskclock"
    label = "Clock"
    color = (66, 133, 244)
    apk = "/system/app/DeskClockGoogle/DeskClockGoogle.apk"
    activities: ClassVar[dict[str, str]] = {"main": ".DeskClock", "edit": ".DeskClock"}

    def _db(self) -> sqlite3.Connection:
        self.ctx.vfs.mkdir("/data/user_de/0/com.android.deskclock/databases")
        conn = sqlite3.connect(self.ctx.vfs.host_path(DB), timeout=10)
        conn.row_factory = sqlite3.Row
        conn.executescript(SCHEMA)
        return conn

    def alarms(self) -> list[dict[str, Any]]:
        with closing(self._db()) as conn:
            rows = conn.execute("SELECT * FROM alarm_templates ORDER BY hour, minutes, _id")
            return [dict(r) for r in rows]

    def alarm(self, alarm_id: int) -> dict[str, Any] | None:
        with closing(self._db()) as conn:
            row = conn.execute("SELECT * FROM alarm_templates WHERE _id=?", [alarm_id]).fetchone()
            return dict(row) if row else None

    def set_enabled(self, alarm_id: int, on: bool) -> None:
        with closing(self._db()) as conn, conn:
            conn.execute("UPDATE alarm_templates SET enabled=? WHERE _id=?", [int(on), alarm_id])

    def save(self, entry: Entry) -> None:
        raw = self.form(entry, "time").strip()
        try:
            hh, mm = raw.split(":")
            hour, minutes = int(hh), int(mm)
            if not (0 <= hour < 24 and 0 <= minutes < 60):
                raise ValueError(raw)
        except ValueError:
            entry["error"] = "Time must look like 07:30 (24-hour)"
            return
        mask = int(entry["form"].get("days") or 0)
        label = self.form(entry, "label")
        alarm_id = entry["args"].get("alarm_id")
        with closing(self._db()) as conn, conn:
            if alarm_id is None:
                conn.execute(
                    "INSERT INTO alarm_templates (hour, minutes, daysofweek, enabled, vibrate, "
                    "label, ringtone, delete_after_use) VALUES (?, ?, ?, 1, 1, ?, ?, 0)",
                    [hour, minutes, mask, label, "content://settings/system/alarm_alert"],
                )
            else:
                conn.execute(
                    "UPDATE alarm_templates SET hour=?, minutes=?, daysofweek=?, label=?, "
                    "enabled=1 WHERE _id=?",
                    [hour, minutes, mask, label, alarm_id],
                )
        self.ui.back()

    def delete(self, alarm_id: int) -> None:
        with closing(self._db()) as conn, conn:
            conn.execute("DELETE FROM alarm_templates WHERE _id=?", [alarm_id])
        self.ui.back()

    def screen_main(self, entry: Entry) -> Screen:
        rows: list[View] = []
        for a in self.alarms():
            on = bool(a["enabled"])
            sub = days_text(int(a["daysofweek"]))
            if a["label"]:
                sub = f"{a['label']} · {sub}"
            rows.append(
                ListRow(
                    title=f"{a['hour']:02d}:{a['minutes']:02d}",
                    subtitle=sub,
                    rid="alarm",
                    checked=on,
                    desc=f"Alarm {a['hour']:02d}:{a['minutes']:02d}",
                    switch=Switch(
                        rid="onoff",
                        desc=f"{a['hour']:02d}:{a['minutes']:02d} alarm " + ("on" if on else "off"),
                        on_click=lambda i=a["_id"], on=on: self.set_enabled(i, not on),
                    ),
                    on_click=lambda i=a["_id"]: self.ui.push(self, "edit", alarm_id=i),
                )
            )
        if not rows:
            rows.append(self.empty_note("No alarms", rid="alarms_empty_view"))
        return Screen(
            self.toolbar("Alarm", up=False),
            rows,
            fab=self.fab("Add alarm", lambda: self.ui.push(self, "edit")),
        )

    def screen_edit(self, entry: Entry) -> Screen:
        alarm_id = entry["args"].get("alarm_id")
        a = self.alarm(alarm_id) if alarm_id is not None else None
        now = self.ctx.clock.now()
        form = entry.setdefault("form", {})
        form.setdefault("days", str(a["daysofweek"]) if a else "0")
        mask = int(form["days"] or 0)
        body: list[View] = []
        if entry.get("error"):
            body.append(Text(text=entry["error"], rid="error", color=ERROR))
        body.append(
            self.field(
                entry,
                "time",
                "Time (HH:MM)",
                f"{a['hour']:02d}:{a['minutes']:02d}" if a else f"{(now.hour + 1) % 24:02d}:00",
            )
        )
        body.append(self.field(entry, "label", "Label", a["label"] if a else ""))
        body.append(Text(text="Repeat", rid="repeat", size=14, bold=True, color=self.color))
        for i, day in enumerate(DAYS):
            bit = 1 << i

            def flip(bit: int = bit) -> None:
                form["days"] = str(int(form.get("days") or 0) ^ bit)

            body.append(
                ListRow(
                    title=day,
                    rid="day_button",
                    checkable=True,
                    checked=bool(mask & bit),
                    switch=Switch(),
                    on_click=flip,
                )
            )
        actions = [("Save", lambda: self.save(entry))]
        if alarm_id is not None:
            actions.insert(0, ("Delete", lambda: self.delete(alarm_id)))
        return Screen(self.toolbar("Edit alarm" if a else "Add alarm", actions=actions), body)
