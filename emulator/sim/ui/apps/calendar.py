"""Calendar: agenda and day views from CalendarContract, event details, create and edit.

Times are typed as ``YYYY-MM-DD`` and ``HH:MM`` in the phone's timezone and
stored as epoch milliseconds in ``dtstart``/``dtend`` with ``eventTimezone``,
as the AOSP calendar does; a reminder is a ``Reminders`` row (method 1, alert).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import ButtonRow, ListRow, Text

CAL = "content://com.android.calendar"
ERROR = (217, 48, 37)


class CalendarApp(App):
    package = "com.android.calendar"
    label = "Calendar"
    color = (3, 155, 229)
    apk = "/system/app/Calendar/Calendar.apk"
    activities: ClassVar[dict[str, str]] = {
        "main": ".AllInOneActivity",
        "day": ".AllInOneActivity",
        "event": ".EventInfoActivity",
        "edit": ".event.EditEventActivity",
    }

    # -- time helpers ------------------------------------------------------------------
    def _local(self, ms: Any) -> datetime:
        return datetime.fromtimestamp(int(ms) / 1000, self.ctx.clock.now().tzinfo)

    def _ms(self, day: date, hhmm: time) -> int:
        tz = self.ctx.clock.now().tzinfo
        return int(datetime.combine(day, hhmm, tzinfo=tz).timestamp() * 1000)

    def when(self, ev: dict[str, Any]) -> str:
        start = self._local(ev["dtstart"])
        if ev.get("allDay") in (1, "1"):
            return start.strftime("%a, %b %-d") + " · All day"
        end = self._local(ev["dtend"]) if ev.get("dtend") is not None else start
        return f"{start:%a, %b %-d} · {start:%H:%M} – {end:%H:%M}"

    # -- data -------------------------------------------------------------------------------
    def events(self, start_ms: int | None = None, end_ms: int | None = None) -> list[dict]:
        where, args = "deleted=0", []
        if start_ms is not None:
            where += " AND (dtend IS NULL AND dtstart >= ? OR dtend > ?)"
            args += [start_ms, start_ms]
        if end_ms is not None:
            where += " AND dtstart < ?"
            args.append(end_ms)
        return self.ctx.providers.query(
            f"{CAL}/events",
            ["_id", "title", "dtstart", "dtend", "allDay", "eventLocation", "description"],
            where,
            args,
            sort="dtstart ASC",
        )

    def event(self, event_id: int) -> dict[str, Any] | None:
        rows = self.ctx.providers.query(
            f"{CAL}/events/{event_id}",
            ["_id", "title", "dtstart", "dtend", "allDay", "eventLocation", "description"],
        )
        return rows[0] if rows else None

    def reminders(self, event_id: int) -> list[int]:
        rows = self.ctx.providers.query(
            f"{CAL}/reminders", ["minutes"], "event_id=?", [event_id], sort="minutes ASC"
        )
        return [int(r["minutes"]) for r in rows if r["minutes"] is not None]

    def calendar_id(self) -> int:
        rows = self.ctx.providers.query(f"{CAL}/calendars", ["_id"], "visible=1", sort="_id ASC")
        if rows:
            return int(rows[0]["_id"])
        uri = self.ctx.providers.insert(
            f"{CAL}/calendars",
            {
                "account_name": "Phone",
                "account_type": "LOCAL",
                "name": "Phone",
                "calendar_displayName": "Phone",
                "calendar_access_level": 700,
                "visible": 1,
                "ownerAccount": "Phone",
                "calendar_timezone": self.ctx.clock.timezone,
            },
        )
        return int(uri.rsplit("/", 1)[1])

    def save(self, entry: Entry) -> None:
        f = lambda k: self.form(entry, k).strip()  # noqa: E731
        try:
            day = date.fromisoformat(f("date"))
        except ValueError:
            entry["error"] = "Date must look like 2026-01-31"
            return
        try:
            start = time.fromisoformat(f("start"))
            end = time.fromisoformat(f("end"))
        except ValueError:
            entry["error"] = "Times must look like 09:30"
            return
        start_ms = self._ms(day, start)
        end_ms = self._ms(day if end > start else day + timedelta(days=1), end)
        reminder = f("reminder")
        if reminder and not reminder.isdigit():
            entry["error"] = "Reminder must be a number of minutes"
            return
        values = {
            "title": self.form(entry, "title"),
            "dtstart": start_ms,
            "dtend": end_ms,
            "eventTimezone": self.ctx.clock.timezone,
            "eventLocation": self.form(entry, "location"),
            "description": self.form(entry, "description"),
            "allDay": 0,
        }
        p = self.ctx.providers
        event_id = entry["args"].get("event_id")
        if event_id is None:
            values["calendar_id"] = self.calendar_id()
            event_id = int(p.insert(f"{CAL}/events", values).rsplit("/", 1)[1])
        else:
            p.update(f"{CAL}/events/{event_id}", values)
            p.delete(f"{CAL}/reminders", "event_id=?", [event_id])
        if reminder:
            p.insert(
                f"{CAL}/reminders", {"event_id": event_id, "minutes": int(reminder), "method": 1}
            )
        self.ui.stack.pop()
        if entry["args"].get("event_id") is None:
            self.ui.push(self, "event", event_id=event_id)

    def delete(self, event_id: int) -> None:
        self.ctx.providers.delete(f"{CAL}/events/{event_id}")
        while self.ui.top["pkg"] == self.package and self.ui.top["screen"] not in ("main", "day"):
            self.ui.stack.pop()

    # -- screens ----------------------------------------------------------------------------
    def _event_row(self, ev: dict[str, Any]) -> ListRow:
        sub = self.when(ev).split(" · ", 1)[1]
        if ev.get("eventLocation"):
            sub += " · " + str(ev["eventLocation"])
        return ListRow(
            title=ev["title"] or "(No title)",
            subtitle=sub,
            rid="event",
            on_click=lambda eid=ev["_id"]: self.ui.push(self, "event", event_id=eid),
        )

    def screen_main(self, entry: Entry) -> Screen:
        today = self.ctx.clock.now().date()
        start = self._ms(today, time(0, 0))
        body: list[View] = []
        last_day = None
        for ev in self.events(start_ms=start):
            day = self._local(ev["dtstart"]).date()
            if day != last_day:
                label = (
                    "Today"
                    if day == today
                    else (
                        "Tomorrow"
                        if day == today + timedelta(days=1)
                        else day.strftime("%A, %B %-d")
                    )
                )
                body.append(
                    Text(text=label, rid="day_header", size=14, bold=True, color=self.color)
                )
                last_day = day
            body.append(self._event_row(ev))
        if not body:
            body.append(
                Text(
                    text="No upcoming events",
                    rid="empty",
                    center=True,
                    vpad=48,
                    color=(95, 99, 104),
                )
            )
        return Screen(
            self.toolbar(
                "Agenda",
                up=False,
                actions=[("Day", lambda: self.ui.replace(self, "day", day=today.isoformat()))],
            ),
            body,
            fab=self.fab("New event", lambda: self.ui.push(self, "edit")),
        )

    def screen_day(self, entry: Entry) -> Screen:
        day = date.fromisoformat(
            entry["args"].get("day") or self.ctx.clock.now().date().isoformat()
        )

        def shift(n: int) -> None:
            entry["args"]["day"] = (day + timedelta(days=n)).isoformat()
            entry["scroll"] = None

        body: list[View] = [
            ButtonRow(
                children=[
                    self.button("Previous day", lambda: shift(-1), style="outlined"),
                    self.button("Next day", lambda: shift(1), style="outlined"),
                ]
            )
        ]
        events = self.events(
            self._ms(day, time(0, 0)), self._ms(day + timedelta(days=1), time(0, 0))
        )
        body += [self._event_row(ev) for ev in events]
        if not events:
            body.append(
                Text(text="No events", rid="empty", center=True, vpad=48, color=(95, 99, 104))
            )
        return Screen(
            self.toolbar(
                day.strftime("%a, %b %-d, %Y"),
                up=False,
                actions=[("Agenda", lambda: self.ui.replace(self, "main"))],
            ),
            body,
            fab=self.fab("New event", lambda: self.ui.push(self, "edit", day=day.isoformat())),
        )

    def screen_event(self, entry: Entry) -> Screen:
        event_id = entry["args"]["event_id"]
        ev = self.event(event_id)
        if ev is None:
            return Screen(self.toolbar("Event"), [Text(text="This event was deleted.")])
        body: list[View] = [
            Text(text=ev["title"] or "(No title)", rid="event_title", size=24, bold=True, vpad=16),
            Text(text=self.when(ev), rid="when_datetime", color=(60, 64, 67)),
        ]
        if ev.get("eventLocation"):
            body.append(Text(text=ev["eventLocation"], rid="where"))
        if ev.get("description"):
            body.append(Text(text=ev["description"], rid="description", color=(60, 64, 67)))
        for minutes in self.reminders(event_id):
            body.append(
                Text(
                    text=f"Reminder: {minutes} minutes before", rid="reminder", color=(95, 99, 104)
                )
            )

        def ask_delete() -> None:
            entry["dialog"] = "delete"

        dialog = None
        if entry.get("dialog") == "delete":
            dialog = self.confirm(
                entry, "Delete event?", ev["title"] or "", "Delete", lambda: self.delete(event_id)
            )
        return Screen(
            self.toolbar(
                "Event",
                actions=[
                    ("Edit", lambda: self.ui.push(self, "edit", event_id=event_id)),
                    ("Delete", ask_delete),
                ],
            ),
            body,
            dialog=dialog,
        )

    def screen_edit(self, entry: Entry) -> Screen:
        event_id = entry["args"].get("event_id")
        ev = self.event(event_id) if event_id is not None else None
        now = self.ctx.clock.now()
        if ev is not None:
            start, end = self._local(ev["dtstart"]), self._local(ev["dtend"] or ev["dtstart"])
            rem = self.reminders(event_id)
            init = {
                "title": ev["title"] or "",
                "date": start.date().isoformat(),
                "start": start.strftime("%H:%M"),
                "end": end.strftime("%H:%M"),
                "location": ev["eventLocation"] or "",
                "description": ev["description"] or "",
                "reminder": str(rem[0]) if rem else "",
            }
        else:
            hour = (now + timedelta(hours=1)).replace(minute=0)
            init = {
                "title": "",
                "date": entry["args"].get("day") or hour.date().isoformat(),
                "start": hour.strftime("%H:%M"),
                "end": (hour + timedelta(hours=1)).strftime("%H:%M"),
                "location": "",
                "description": "",
                "reminder": "10",
            }
        body: list[View] = []
        if entry.get("error"):
            body.append(Text(text=entry["error"], rid="error", color=ERROR))
        body += [
            self.field(entry, "title", "Title", init["title"]),
            self.field(entry, "date", "Date (YYYY-MM-DD)", init["date"]),
            self.field(entry, "start", "Start time (HH:MM)", init["start"]),
            self.field(entry, "end", "End time (HH:MM)", init["end"]),
            self.field(entry, "location", "Location", init["location"]),
            self.field(
                entry,
                "description",
                "Description",
                init["description"],
                multiline=True,
                min_lines=2,
            ),
            self.field(entry, "reminder", "Reminder (minutes before)", init["reminder"]),
        ]
        return Screen(
            self.toolbar(
                "Edit event" if ev else "New event", actions=[("Save", lambda: self.save(entry))]
            ),
            body,
        )
