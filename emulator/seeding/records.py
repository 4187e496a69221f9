"""The Android seed records: pydantic models of what a phone should hold.

Times are aware datetimes or epoch milliseconds (``to_ms``), as Android stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emulator.errors import AndroidInputError
from emulator.readers import (
    MIME_EMAIL,
    MIME_NAME,
    MIME_NOTE,
    MIME_ORG,
    MIME_PHONE,
)

if TYPE_CHECKING:
    pass


CONTACTS = "content://com.android.contacts"
ORG_TYPE_WORK = 1  # ContactsContract.CommonDataKinds.Organization.TYPE_WORK
CALENDAR = "content://com.android.calendar"
TMP = "/data/local/tmp"

SMS_TYPES = {"inbox": 1, "sent": 2}
CALL_TYPES = {"incoming": 1, "outgoing": 2, "missed": 3}

# AOSP DeskClock's alarm table; a device whose clock app keeps alarms elsewhere
# passes its own AlarmStore.
ALARM_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS alarm_templates (_id INTEGER PRIMARY KEY, "
    "hour INTEGER NOT NULL, minutes INTEGER NOT NULL, daysofweek INTEGER NOT NULL, "
    "enabled INTEGER NOT NULL, vibrate INTEGER NOT NULL, label TEXT NOT NULL, "
    "ringtone TEXT, delete_after_use INTEGER NOT NULL DEFAULT 0)"
)


def to_ms(when: datetime | int) -> int:
    """Epoch milliseconds, as Android stores times; datetimes must be timezone-aware."""
    if isinstance(when, int):
        return when
    if when.tzinfo is None:
        raise AndroidInputError(f"naive datetime {when.isoformat()}: give it a timezone")
    return int(when.timestamp() * 1000)


# -- records ----------------------------------------------------------------------
class _Record(BaseModel):
    """A seed record: a pydantic model (as ``linux_vm.seeding``'s are), validated on
    construction; fields may also be given by position, in declaration order."""

    # ser_json_bytes: file contents (JPEG photos) go into the JSON record as base64.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, ser_json_bytes="base64")

    def __init__(self, *args: Any, **data: Any) -> None:
        names = list(type(self).model_fields)
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes at most {len(names)} fields")
        for name, value in zip(names, args, strict=False):
            if name in data:
                raise TypeError(f"{type(self).__name__}: {name} given twice")
            data[name] = value
        super().__init__(**data)


class Contact(_Record):
    """One raw contact: its rows in the contacts ``data`` table.

    ``org`` and ``title`` make one organization row (company in ``data1``, job
    title in ``data4``), ``note`` one note row, as AOSP's contacts app keeps them.
    """

    name: str
    phones: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    org: str | None = None
    title: str | None = None
    note: str | None = None

    def data_rows(self) -> list[dict[str, Any]]:
        """The ``data`` rows (mimetype, data1 and the type/title columns), in insert order."""
        rows: list[dict[str, Any]] = [{"mimetype": MIME_NAME, "data1": self.name}]
        rows += [{"mimetype": MIME_PHONE, "data1": p, "data2": 2} for p in self.phones]
        rows += [{"mimetype": MIME_EMAIL, "data1": e, "data2": 1} for e in self.emails]
        if self.org or self.title:
            org: dict[str, Any] = {"mimetype": MIME_ORG, "data1": self.org or None}
            org["data2"] = ORG_TYPE_WORK
            if self.title:
                org["data4"] = self.title
            rows.append(org)
        if self.note:
            rows.append({"mimetype": MIME_NOTE, "data1": self.note})
        return rows

    def read_back_rows(self) -> list[tuple[Any, Any, Any]]:
        """``(mimetype, data1, data4)`` as ``content query`` shows them (data4: titles only)."""
        return [
            (r["mimetype"], _shown(r["data1"]), _shown(r.get("data4"))) for r in self.data_rows()
        ]


class Sms(_Record):
    address: str
    body: str
    date: datetime | int
    box: Literal["inbox", "sent"] = "inbox"
    read: bool = True


class Call(_Record):
    number: str
    date: datetime | int
    duration_s: int = 0
    type: Literal["incoming", "outgoing", "missed"] = "incoming"


class Attendee(_Record):
    name: str
    email: str


class CalendarEvent(_Record):
    title: str
    start: datetime | int
    end: datetime | int
    description: str = ""
    location: str = ""
    timezone: str = "UTC"
    all_day: bool = False
    reminders: list[int] = Field(default_factory=list)  # minutes before start
    attendees: list[Attendee] = Field(default_factory=list)
    # RFC 5545 rule (``FREQ=WEEKLY;BYDAY=MO``): a series. As Android's provider requires,
    # a series is stored with a ``duration`` and no ``dtend``.
    rrule: str | None = None

    def row_times(self) -> dict[str, Any]:
        """``dtstart`` and either ``dtend`` or (for a series) ``duration`` and ``rrule``."""
        start = to_ms(self.start)
        if not self.rrule:
            return {"dtstart": start, "dtend": to_ms(self.end), "duration": None, "rrule": None}
        seconds = (to_ms(self.end) - start) // 1000
        return {"dtstart": start, "dtend": None, "duration": f"P{seconds}S", "rrule": self.rrule}


EVENT_COLUMNS = [
    "_id",
    "title",
    "description",
    "eventLocation",
    "dtstart",
    "dtend",
    "duration",
    "rrule",
    "eventTimezone",
]


class Alarm(_Record):
    hour: int
    minute: int
    label: str = ""
    enabled: bool = True
    days: int = 0  # DeskClock bitmask: bit 0 Monday … bit 6 Sunday; 0 = once


class AlarmStore(_Record):
    """Where the device's clock app keeps alarms.

    The default is AOSP DeskClock's device-protected database (Android 7+).
    ``db=None`` asks the device: ``/data/user_de/0/…`` when that exists, else
    ``/data/data/…`` (where the virtual phone's clock app keeps it).
    """

    package: str = "com.android.deskclock"
    db: str | None = "/data/user_de/0/com.android.deskclock/databases/alarms.db"
    table: str = "alarm_templates"
    ddl: str = Field(default=ALARM_SCHEMA, alias="schema")  # `schema` is a BaseModel name


ALARM_DB_CANDIDATES = (
    "/data/user_de/0/com.android.deskclock/databases/alarms.db",
    "/data/data/com.android.deskclock/databases/alarms.db",
)


class FileItem(_Record):
    """A file to place on the device (notes, downloads, photos).

    ``mtime`` (aware datetime or epoch seconds) is when the user made the file; apps
    such as a notes list show it, so it must not be the moment of seeding.
    """

    path: str
    data: bytes
    mode: int = 0o644
    mtime: datetime | int | None = None

    def mtime_s(self) -> int | None:
        """``mtime`` in epoch seconds, as ``stat -c %Y`` prints it."""
        if self.mtime is None or isinstance(self.mtime, int):
            return self.mtime
        if self.mtime.tzinfo is None:
            raise AndroidInputError(f"{self.path}: naive mtime {self.mtime.isoformat()}")
        return int(self.mtime.timestamp())


class Setting(_Record):
    namespace: Literal["system", "secure", "global"]
    key: str
    value: str


class AppRows(_Record):
    """Rows for one table of an app's SQLite database, written as root in one transaction."""

    package: str
    db: str
    table: str
    rows: list[dict[str, Any]]
    # CREATE TABLE IF NOT EXISTS … when the app may not have run yet (``schema=`` to build)
    ddl: str | None = Field(default=None, alias="schema")


class SeedPlan(_Record):
    contacts: list[Contact] = Field(default_factory=list)
    sms: list[Sms] = Field(default_factory=list)
    calls: list[Call] = Field(default_factory=list)
    events: list[CalendarEvent] = Field(default_factory=list)
    alarms: list[Alarm] = Field(default_factory=list)
    files: list[FileItem] = Field(default_factory=list)
    settings: list[Setting] = Field(default_factory=list)
    app_rows: list[AppRows] = Field(default_factory=list)
    alarm_store: AlarmStore = Field(default_factory=AlarmStore)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SeedPlan:
        """A plan from JSON-like data (lists of record dicts; times as ISO strings or ms)."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = err["loc"]
            if err["type"] == "extra_forbidden" and len(loc) == 1:
                raise AndroidInputError(f"seed plan: unknown sections {[loc[0]]}") from None
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
            raise AndroidInputError(f"seed plan: {where.lstrip('.')}: {err['msg']}") from None

    def all_app_rows(self) -> list[AppRows]:
        rows = list(self.app_rows)
        if self.alarms:
            s = self.alarm_store
            rows.append(
                AppRows(
                    s.package,
                    s.db or ALARM_DB_CANDIDATES[-1],  # apply_plan resolves None first
                    s.table,
                    [
                        {
                            "hour": a.hour,
                            "minutes": a.minute,
                            "daysofweek": a.days,
                            "enabled": int(a.enabled),
                            "vibrate": 1,
                            "label": a.label,
                            "delete_after_use": 0,
                        }
                        for a in self.alarms
                    ],
                    s.ddl,
                )
            )
        return rows


def _shown(value: Any) -> Any:
    """A value as ``content query`` can show it: it prints SQL NULL and the text
    ``NULL`` alike, so provider read-back cannot tell those two apart."""
    return None if value == "NULL" else value
