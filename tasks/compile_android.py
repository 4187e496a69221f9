"""An event stream aimed at one Android role, folded into the final state a phone holds.

Edits are applied here, not on the device: a contact edited twice is seeded once
with its last name and numbers, a moved meeting at its new time, a cancelled one
not at all (the provider deletes it), a note with its last text. Where things live:

- contacts (with organization and note rows), SMS, call log, calendar: the system
  providers (``emulator.seeding``).
- alarms: the clock app's database, wherever this device keeps it (last ``alarm.set``
  per ``alarm_id`` wins).
- notes: markdown under ``/sdcard/Documents/Notes`` (the notes app's folder).
- files placed by ``file.placed``: at their own path under ``/sdcard``.
- downloads: ``/sdcard/Download``; photos: JPEGs with EXIF under ``/sdcard/DCIM/Camera``.
- todos: a markdown checklist, ``/sdcard/Documents/Todo.md`` (see ``compile_formats``).
- chat messages: ``CHAT_DB`` (table ``messages``), a chat app's SQLite log.
- price alerts: ``SHOP_DB`` (table ``price_alerts``), a shopping app's database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from emulator.seeding import (
    Alarm,
    AlarmStore,
    AppRows,
    Attendee,
    CalendarEvent,
    Call,
    Contact,
    FileItem,
    SeedPlan,
    Sms,
)
from tasks import events as ev
from tasks.compile_edits import EDIT_HANDLERS
from tasks.compile_formats import Todo, photo_jpeg, todo_markdown

NOTES_DIR = "/sdcard/Documents/Notes"
DOWNLOAD_DIR = "/sdcard/Download"
CAMERA_DIR = "/sdcard/DCIM/Camera"
TODO_FILE = "/sdcard/Documents/Todo.md"

CHAT_PACKAGE = "org.clawrig.chat"
CHAT_DB = f"/data/data/{CHAT_PACKAGE}/databases/chat.db"
CHAT_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS messages (_id INTEGER PRIMARY KEY, room TEXT NOT NULL, "
    "sender TEXT NOT NULL, body TEXT NOT NULL, outgoing INTEGER NOT NULL, date INTEGER NOT NULL)"
)
SHOP_PACKAGE = "org.clawrig.shop"
SHOP_DB = f"/data/data/{SHOP_PACKAGE}/databases/shop.db"
SHOP_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS price_alerts (_id INTEGER PRIMARY KEY, item TEXT NOT NULL, "
    "shop TEXT NOT NULL, price TEXT NOT NULL, currency TEXT NOT NULL, url TEXT NOT NULL, "
    "date INTEGER NOT NULL)"
)
_DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")


@dataclass
class AndroidFold:
    """What is known about each thing so far, while walking the stream in time order."""

    tz: ZoneInfo
    contacts: dict[str, ev.ContactAdded] = field(default_factory=dict)
    events: dict[str, ev.CalendarCreated] = field(default_factory=dict)
    alarms: dict[str, ev.AlarmSet] = field(default_factory=dict)
    files: dict[str, FileItem] = field(default_factory=dict)
    todos: dict[str, Todo] = field(default_factory=dict)
    # db=None: the device says where its clock app keeps alarms (user_de or data).
    plan: SeedPlan = field(default_factory=lambda: SeedPlan(alarm_store=AlarmStore(db=None)))
    chat: list[dict] = field(default_factory=list)
    prices: list[dict] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)

    def add(self, e: ev.EventBase) -> None:
        handler = _HANDLERS.get(type(e))
        if handler is None:
            raise ValueError(f"event {e.id} ({e.kind}): nothing seeds it on an Android device")
        handler(self, e)

    def finish(self) -> SeedPlan:
        p = self.plan
        p.contacts = [
            Contact(c.name, list(c.phones), list(c.emails), org=c.org, note=c.note)
            for c in self.contacts.values()
        ]
        p.events = [_calendar(c, self.tz) for c in self.events.values()]
        p.alarms = [
            Alarm(a.hour, a.minute, a.label, a.enabled, _day_mask(a.days))
            for a in self.alarms.values()
        ]
        if self.todos:
            self.files[TODO_FILE] = FileItem(TODO_FILE, todo_markdown(list(self.todos.values())))
        p.files = list(self.files.values())
        if self.chat:
            p.app_rows.append(AppRows(CHAT_PACKAGE, CHAT_DB, "messages", self.chat, CHAT_SCHEMA))
        if self.prices:
            p.app_rows.append(
                AppRows(SHOP_PACKAGE, SHOP_DB, "price_alerts", self.prices, SHOP_SCHEMA)
            )
        return p


def _ms(e: ev.EventBase) -> int:
    return int(e.t.timestamp() * 1000)


def _day_mask(days: list[str]) -> int:
    return sum(1 << _DAYS.index(d) for d in set(days))


def _calendar(c: ev.CalendarCreated, tz: ZoneInfo) -> CalendarEvent:
    start, end = c.start, c.end
    if c.all_day:  # the provider keeps all-day entries as UTC midnights
        first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
        start = datetime.combine(first, time(0), UTC)
        end = datetime.combine(max(last, first + timedelta(days=1)), time(0), UTC)
    return CalendarEvent(
        title=c.title,
        start=start,
        end=end,
        description=c.description or "",
        location=c.location or "",
        timezone="UTC" if c.all_day else tz.key,
        all_day=c.all_day,
        attendees=[Attendee(a.name, a.email) for a in c.attendees],
        rrule=c.rrule,
        reminders=sorted(set(c.reminders)),
    )


def _sms(f: AndroidFold, e: ev.SmsReceived | ev.SmsSent) -> None:
    received = isinstance(e, ev.SmsReceived)
    read = e.read if isinstance(e, ev.SmsReceived) else True
    f.plan.sms.append(Sms(e.address, e.body, _ms(e), "inbox" if received else "sent", read))


def _call(f: AndroidFold, e: ev.CallIncoming | ev.CallOutgoing | ev.CallMissed) -> None:
    kind = e.kind.split(".", 1)[1]
    duration = 0 if isinstance(e, ev.CallMissed) else e.duration_s
    f.plan.calls.append(Call(e.number, _ms(e), duration, kind))  # type: ignore[arg-type]


def _alarm(f: AndroidFold, e: ev.AlarmSet) -> None:
    f.alarms[e.alarm_id] = e


def _note(f: AndroidFold, e: ev.NoteWritten | ev.NoteEdited) -> None:
    path = f"{NOTES_DIR}/{e.path}"
    f.files[path] = FileItem(path, e.text.encode("utf-8"), mtime=e.t)


def _download(f: AndroidFold, e: ev.FileDownloaded) -> None:
    path = f"{DOWNLOAD_DIR}/{e.name}"
    f.files[path] = FileItem(path, e.text.encode("utf-8"), mtime=e.t)


def _placed(f: AndroidFold, e: ev.FilePlaced) -> None:
    why = e.device_problem("android")
    if why:
        raise ValueError(f"event {e.id}: {why}")
    f.files[e.path] = FileItem(e.path, e.content(), mode=e.mode, mtime=e.mtime or e.t)


def _photo(f: AndroidFold, e: ev.PhotoTaken) -> None:
    path = f"{CAMERA_DIR}/{e.name}"
    data = photo_jpeg(e.subject, e.t.astimezone(f.tz), e.width, e.height, e.lat, e.lon)
    f.files[path] = FileItem(path, data, mtime=e.t)


def _todo_added(f: AndroidFold, e: ev.TodoAdded) -> None:
    due = e.due.astimezone(f.tz).date() if e.due else None
    f.todos[e.todo_id] = Todo(e.todo_id, e.text, e.t.astimezone(f.tz).date(), None, due)


def _todo_done(f: AndroidFold, e: ev.TodoDone) -> None:
    todo = f.todos.get(e.todo_id)
    if todo is None:
        raise ValueError(f"event {e.id}: todo.done of unknown todo {e.todo_id!r}")
    todo.done = e.t.astimezone(f.tz).date()


def _chat(f: AndroidFold, e: ev.ChatMessage) -> None:
    f.chat.append(
        {
            "room": e.room,
            "sender": e.sender,
            "body": e.body,
            "outgoing": int(e.outgoing),
            "date": _ms(e),
        }
    )


def _price(f: AndroidFold, e: ev.PriceAlert) -> None:
    f.prices.append(
        {
            "item": e.item,
            "shop": e.shop,
            "price": format(e.price, "f"),
            "currency": e.currency,
            "url": e.url,
            "date": _ms(e),
        }
    )


_HANDLERS = {
    **EDIT_HANDLERS,
    ev.SmsReceived: _sms,
    ev.SmsSent: _sms,
    ev.CallIncoming: _call,
    ev.CallOutgoing: _call,
    ev.CallMissed: _call,
    ev.AlarmSet: _alarm,
    ev.NoteWritten: _note,
    ev.NoteEdited: _note,
    ev.FileDownloaded: _download,
    ev.FilePlaced: _placed,
    ev.PhotoTaken: _photo,
    ev.TodoAdded: _todo_added,
    ev.TodoDone: _todo_done,
    ev.ChatMessage: _chat,
    ev.PriceAlert: _price,
}
