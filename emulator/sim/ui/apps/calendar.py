"""Calendar: agenda and day views from CalendarContract, event details, create and edit.

Times are typed as ``YYYY-MM-DD`` and ``HH:MM`` in the phone's timezone and
stored as epoch milliseconds in ``dtstart``/``dtend`` with ``eventTimezone``,
as the AOSP calendar does; a reminder is a ``Reminders`` row (method 1, alert).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, ClassVar

from emulator.sim.ui.apps import recurrence
from emulator.sim.ui.apps.base import App, Entry
from emulator.sim.ui.views import Screen, View
from emulator.sim.ui.widgets import ButtonRow, ListRow, Switch, Text

CAL = "content://com.android.calendar"
AGENDA_DAYS = 365  # how far ahead the agenda lists occurrences
DAY_NAMES = {
    "MO": "Mon",
    "TU": "Tue",
    "WE": "Wed",
    "TH": "Thu",
    "FR": "Fri",
    "SA": "Sat",
    "SU": "Sun",
}


def repeats(rrule: str) -> str:
    """A short English reading of an RRULE (``FREQ=WEEKLY;BYDAY=MO,WE`` → weekly on Mon, Wed)."""
    parts = dict(p.split("=", 1) for p in rrule.upper().split(";") if "=" in p)
    freq = {"DAILY": "daily", "WEEKLY": "weekly", "MONTHLY": "monthly", "YEARLY": "yearly"}.get(
        parts.get("FREQ", ""), ""
    )
    if not freq:
        return "Repeats"
    text = f"Repeats {freq}"
    days = [DAY_NAMES.get(d[-2:], d) for d in parts.get("BYDAY", "").split(",") if d]
    if days:
        text += " on " + ", ".join(days)
    return text


ERROR = (217, 48, 37)


class CalendarApp(App):
    package = "com.android.calendar"
    label = "Calendar"
    color = (3, 155, 229)
    apk = "/system/app/Calendar/Calendar.apk"
    item_screens: ClassVar[frozenset[str]] = frozenset({"event"})
    activities: ClassVar[dict[str, str]] = {
        "main": ".AllInOneActivity",
        "day": ".AllInOneActivity",
        "event": ".EventInfoActivity",
        "edit": ".event.EditEventActivity",
    }

    # -- time helpers ------------------------------------------------------------------
    @property
    def tz(self) -> tzinfo:
        tz = self.ctx.clock.now().tzinfo
        assert tz is not None
        return tz

    def _local(self, ms: Any, all_day: bool = False) -> datetime:
        return datetime.fromtimestamp(int(ms) / 1000, UTC if all_day else self.tz)

    def _ms(self, day: date, hhmm: time) -> int:
        return int(datetime.combine(day, hhmm, tzinfo=self.tz).timestamp() * 1000)

    def when(self, inst: dict[str, Any]) -> str:
        all_day = inst.get("allDay") in (1, "1")
        start = self._local(inst["begin"], all_day)
        if all_day:
            return start.strftime("%a, %b %-d") + " · All day"
        end = self._local(inst["end"])
        return f"{start:%a, %b %-d} · {start:%H:%M} – {end:%H:%M}"

    def day_of(self, inst: dict[str, Any]) -> date:
        return self._local(inst["begin"], inst.get("allDay") in (1, "1")).date()

    # -- data -------------------------------------------------------------------------------
    COLUMNS: ClassVar[list[str]] = [
        "_id",
        "title",
        "dtstart",
        "dtend",
        "duration",
        "rrule",
        "allDay",
        "eventTimezone",
        "eventLocation",
        "description",
    ]

    def instances(self, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        """One dict per occurrence in ``[start_ms, end_ms)``: the event's columns plus
        ``begin``/``end``, in time order (a series gives one per repetition)."""
        rows = self.ctx.providers.query(
            f"{CAL}/events", self.COLUMNS, "deleted=0", sort="dtstart ASC"
        )
        out = []
        for ev in rows:
            if ev["dtstart"] is None:
                continue
            for begin, end in recurrence.instances(ev, self.tz, start_ms, end_ms):
                out.append({**ev, "begin": begin, "end": end})
        out.sort(key=lambda i: (i["begin"], i["_id"]))
        return out

    def event(self, event_id: int) -> dict[str, Any] | None:
        rows = self.ctx.providers.query(f"{CAL}/events/{event_id}", self.COLUMNS)
        if not rows or rows[0]["dtstart"] is None:
            return None
        ev = rows[0]
        return {
            **ev,
            "begin": int(ev["dtstart"]),
            "end": int(ev["dtstart"]) + recurrence.length_ms(ev),
        }

    def reminders(self, event_id: int) -> list[int]:
        rows = self.ctx.providers.query(
            f"{CAL}/reminders", ["minutes"], "event_id=?", [event_id], sort="minutes ASC"
        )
        return [int(r["minutes"]) for r in rows if r["minutes"] is not None]

    def calendar_id(self) -> int:
        # New events go to a synced account's calendar when there is one, as on a phone
        # whose default calendar is the account's; else to the phone's own.
        rows = self.ctx.providers.query(
            f"{CAL}/calendars", ["_id"], "visible=1", sort="account_type = 'LOCAL' ASC, _id ASC"
        )
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
        all_day = entry["form"].get("all_day") == "1"
        if all_day:  # Android keeps all-day events at UTC midnights
            start_ms = int(datetime.combine(day, time(0, 0), tzinfo=UTC).timestamp() * 1000)
            end_ms = start_ms + 86_400_000
        else:
            start_ms = self._ms(day, start)
            end_ms = self._ms(day if end > start else day + timedelta(days=1), end)
        reminder = f("reminder")
        if reminder and not reminder.isdigit():
            entry["error"] = "Reminder must be a number of minutes"
            return
        values: dict[str, Any] = {
            "title": self.form(entry, "title"),
            "dtstart": start_ms,
            "dtend": end_ms,
            "eventTimezone": "UTC" if all_day else self.ctx.clock.timezone,
            "eventLocation": self.form(entry, "location"),
            "description": self.form(entry, "description"),
            "allDay": int(all_day),
        }
        p = self.ctx.providers
        event_id = entry["args"].get("event_id")
        old = self.event(event_id) if event_id is not None else None
        if old is not None and old.get("rrule"):  # a series keeps its rule, with a duration
            values["dtend"] = None
            values["duration"] = f"P{(end_ms - start_ms) // 1000}S"
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
    def _event_row(self, inst: dict[str, Any]) -> ListRow:
        sub = self.when(inst).split(" · ", 1)[1]
        if inst.get("eventLocation"):
            sub += " · " + str(inst["eventLocation"])
        return ListRow(
            title=inst["title"] or "(No title)",
            subtitle=sub,
            rid="event",
            on_click=lambda i=inst: self.ui.push(
                self, "event", event_id=i["_id"], begin=i["begin"]
            ),
        )

    def screen_main(self, entry: Entry) -> Screen:
        today = self.ctx.clock.now().date()
        start = self._ms(today, time(0, 0))
        body: list[View] = []
        last_day = None
        for ev in self.instances(start, start + AGENDA_DAYS * 86_400_000):
            day = self.day_of(ev)
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
            body.append(self.empty_note("No upcoming events"))
        return Screen(
            self.toolbar(
                "Agenda",
                up=False,
                actions=[("Day", lambda: self.ui.replace(self, "day", day=today.isoformat()))],
            ),
            body,
            fab=self.fab("New event", lambda: self.ui.push(self, "edit")),
            on_refresh=self._refresh,
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
        events = self.instances(
            self._ms(day, time(0, 0)), self._ms(day + timedelta(days=1), time(0, 0))
        )
        body += [self._event_row(ev) for ev in events]
        if not events:
            body.append(self.empty_note("No events"))
        return Screen(
            self.toolbar(
                day.strftime("%a, %b %-d, %Y"),
                up=False,
                actions=[("Agenda", lambda: self.ui.replace(self, "main"))],
            ),
            body,
            fab=self.fab("New event", lambda: self.ui.push(self, "edit", day=day.isoformat())),
            on_refresh=self._refresh,
        )

    def _refresh(self) -> None:
        """Pull to refresh: the calendar account's sync (DAVx5's), when there is one."""
        if self.ctx.sync is not None:
            self.ctx.sync.sync_kind("calendar")

    def screen_event(self, entry: Entry) -> Screen:
        event_id = entry["args"]["event_id"]
        ev = self.event(event_id)
        if ev is None:
            return Screen(self.toolbar("Event"), [Text(text="This event was deleted.")])
        if entry["args"].get("begin") is not None:  # the occurrence that was tapped
            ev["end"] = int(entry["args"]["begin"]) + ev["end"] - ev["begin"]
            ev["begin"] = int(entry["args"]["begin"])
        body: list[View] = [
            Text(text=ev["title"] or "(No title)", rid="event_title", size=24, bold=True, vpad=16),
            Text(text=self.when(ev), rid="when_datetime", color=(60, 64, 67)),
        ]
        if ev.get("rrule"):
            body.append(Text(text=repeats(str(ev["rrule"])), rid="repeats", color=(60, 64, 67)))
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

        ask_delete, dialog = self.delete_dialog(
            entry, "Delete event?", ev["title"] or "", lambda: self.delete(event_id)
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

    def _all_day_row(self, entry: Entry) -> ListRow:
        form = entry.setdefault("form", {})
        on = form.get("all_day") == "1"

        def flip() -> None:
            form["all_day"] = "0" if form.get("all_day") == "1" else "1"

        return ListRow(
            title="All day",
            rid="all_day",
            checkable=True,
            checked=on,
            switch=Switch(),
            on_click=flip,
        )

    def screen_edit(self, entry: Entry) -> Screen:
        event_id = entry["args"].get("event_id")
        ev = self.event(event_id) if event_id is not None else None
        now = self.ctx.clock.now()
        if ev is not None:
            all_day = ev.get("allDay") in (1, "1")
            start, end = self._local(ev["begin"], all_day), self._local(ev["end"], all_day)
            rem = self.reminders(event_id)
            entry.setdefault("form", {}).setdefault("all_day", "1" if all_day else "0")
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
            self._all_day_row(entry),
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
