"""Android seeding: typed records in, one pushed archive per batch, read back, verified.

A :class:`SeedPlan` is applied in a fixed number of adb round trips whatever
its size: one batched read of the current high-water marks, one push of a tar
archive built in memory (the user's files with their modes and times, each app
database's SQL, and a shell script holding every ``content insert``/``settings
put``/``sqlite3`` command), one shell that unpacks it at ``/`` and runs the
script, and one batched read back. A device without ``tar`` gets the same
files one sync push each instead. Parent rows that children point at (raw
contacts, calendar events) get explicit ids above the current maximum, so the
script needs no round trip to learn them.

Everything written is read back and compared with the plan; the first
difference raises :class:`~emulator.errors.SeedMismatch` naming the record.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import shlex
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emulator.errors import AndroidInputError, SeedMismatch
from emulator.readers import (
    CONTACT_DATA_COLUMNS,
    MIME_EMAIL,
    MIME_NAME,
    MIME_NOTE,
    MIME_ORG,
    MIME_PHONE,
    Row,
    batch,
    content_query_command,
    parse_content_rows,
    parse_sqlite_rows,
    sqlite_select_command,
)

if TYPE_CHECKING:
    from emulator.device import AdbAndroidDevice

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


def resolve_alarm_db(device: AdbAndroidDevice) -> str:
    """The DeskClock database path this device uses (one round trip)."""
    dirs = [p.rsplit("/", 1)[0] for p in ALARM_DB_CANDIDATES]
    listed = device.shell("ls -d " + " ".join([*ALARM_DB_CANDIDATES, *dirs]) + " 2>/dev/null")
    found = set(listed.stdout.split())
    for path in ALARM_DB_CANDIDATES:  # an existing database first, then a databases folder
        if path in found:
            return path
    for path, folder in zip(ALARM_DB_CANDIDATES, dirs, strict=True):
        if folder in found:
            return path
    return ALARM_DB_CANDIDATES[0]  # DeskClock's own default since Android 7 (device-protected)


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


# -- script building --------------------------------------------------------------
# Android 10's ``content`` started to unescape ``\\:`` and ``\\\\`` in bind values.
ESCAPING_SDK = 29


def bind_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def _bind(col: str, value: Any, escape: bool = True) -> str:
    if value is None:
        return f"--bind {col}:n:"
    if isinstance(value, bool):
        return f"--bind {col}:i:{int(value)}"
    if isinstance(value, int):
        kind = "i" if -(2**31) <= value < 2**31 else "l"
        return f"--bind {col}:{kind}:{value}"
    if isinstance(value, float):
        return f"--bind {col}:d:{value!r}"
    text = bind_escape(str(value)) if escape else str(value)
    return "--bind " + shlex.quote(f"{col}:s:{text}")


def insert_command(uri: str, values: Mapping[str, Any], escape: bool = True) -> str:
    """``content insert``; ``escape`` for devices whose ``content`` unescapes (API 29+)."""
    binds = " ".join(_bind(c, v, escape) for c, v in values.items())
    return f"content insert --uri {shlex.quote(uri)} {binds}"


def sql_literal(value: Any) -> str:
    """A SQLite literal for ``value``; text goes as hex so any bytes survive the CLI."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return f"X'{value.hex()}'"
    data = str(value).encode("utf-8", "surrogateescape")
    return f"CAST(X'{data.hex()}' AS TEXT)"


def app_rows_sql(target: AppRows) -> str:
    lines = ["BEGIN IMMEDIATE;"]
    if target.ddl:
        lines.append(target.ddl.rstrip("; \n") + ";")
    for row in target.rows:
        cols = ", ".join(row)
        vals = ", ".join(sql_literal(v) for v in row.values())
        lines.append(f"INSERT INTO {target.table} ({cols}) VALUES ({vals});")
    lines += ["COMMIT;", "PRAGMA wal_checkpoint(TRUNCATE);", ""]
    return "\n".join(lines)


def _ids(text: str, column: str = "_id") -> int:
    """Largest id in a ``content query --projection COLUMN`` output (0 when empty)."""
    rows = parse_content_rows(text, [column], {column: int})
    return max((int(r[column] or 0) for r in rows), default=0)


def _first_int(text: str) -> int:
    for line in text.splitlines():
        if line.strip().lstrip("-").isdigit():
            return int(line.strip())
    return 0


@dataclass
class _Marks:
    raw_contact: int = 0
    sms: int = 0
    call: int = 0
    event: int = 0
    calendar_id: int | None = None
    owners: dict[str, str] = field(default_factory=dict)
    db_rowids: dict[int, int] = field(default_factory=dict)
    escape: bool = True
    has_tar: bool = False


def _read_marks(device: AdbAndroidDevice, plan: SeedPlan) -> _Marks:
    cmds: dict[str, str] = {"sdk": "getprop ro.build.version.sdk", "tar": "command -v tar; true"}
    if plan.contacts:  # orphans of a failed batch count too: new ids must be unused
        cmds["raw"] = content_query_command(f"{CONTACTS}/raw_contacts", ["_id"])
        cmds["raw_data"] = content_query_command(f"{CONTACTS}/data", ["raw_contact_id"])
    if plan.sms:
        cmds["sms"] = content_query_command("content://sms", ["_id"])
    if plan.calls:
        cmds["calls"] = content_query_command("content://call_log/calls", ["_id"])
    if plan.events:
        cmds["events"] = content_query_command(f"{CALENDAR}/events", ["_id"])
        for child in ("reminders", "attendees"):
            cmds[child] = content_query_command(f"{CALENDAR}/{child}", ["event_id"])
        cmds["calendars"] = content_query_command(
            f"{CALENDAR}/calendars", ["_id", "calendar_access_level", "visible"]
        )
    targets = plan.all_app_rows()
    for i, t in enumerate(targets):
        pkg_dir = t.db.rsplit("/databases/", 1)[0] if "/databases/" in t.db else t.db
        cmds[f"owner{i}"] = f"stat -c %u:%g {shlex.quote(pkg_dir)} 2>/dev/null; true"
        sql = f"SELECT coalesce(max(rowid), 0) FROM {t.table};"
        cmds[f"rowid{i}"] = (
            f"sqlite3 -batch -noheader {shlex.quote(t.db)} {shlex.quote(sql)} 2>/dev/null; true"
        )
    marks = _Marks()
    out = batch(device, cmds)
    sdk = out["sdk"].strip()
    marks.escape = not sdk.isdigit() or int(sdk) >= ESCAPING_SDK
    marks.has_tar = bool(out["tar"].strip())
    if "raw" in out:
        marks.raw_contact = max(_ids(out["raw"]), _ids(out["raw_data"], "raw_contact_id"))
    marks.sms = _ids(out["sms"]) if "sms" in out else 0
    marks.call = _ids(out["calls"]) if "calls" in out else 0
    if "events" in out:
        marks.event = max(
            _ids(out["events"]),
            _ids(out["reminders"], "event_id"),
            _ids(out["attendees"], "event_id"),
        )
        cals = parse_content_rows(
            out["calendars"],
            ["_id", "calendar_access_level", "visible"],
            {"_id": int, "calendar_access_level": int, "visible": int},
        )
        writable = [c for c in cals if (c["calendar_access_level"] or 0) >= 500]
        if not writable:
            raise SeedMismatch(
                f"{device.serial}: no writable calendar to hold events (calendars: {cals})",
                serial=device.serial,
            )
        marks.calendar_id = int(writable[0]["_id"] or 0)
    for i, t in enumerate(targets):
        owner = out[f"owner{i}"].strip()
        if owner and ":" in owner and owner.replace(":", "").isdigit():
            marks.owners[t.db] = owner
        marks.db_rowids[i] = _first_int(out[f"rowid{i}"])
    return marks


def build_script(
    plan: SeedPlan, marks: _Marks, sql_paths: Sequence[str], archived: bool = False
) -> str:
    """The shell script that applies every provider, setting and database write.

    ``archived``: the files came in the seed archive, which already set the dated
    ones' times. Undated files are touched either way, so they take the device's
    own now (a push would stamp them with the host's).
    """
    lines = ["# clawrig seed batch"]

    def ins(uri: str, values: Mapping[str, Any]) -> str:
        return insert_command(uri, values, marks.escape)

    rid = marks.raw_contact
    for c in plan.contacts:
        rid += 1
        lines.append(ins(f"{CONTACTS}/raw_contacts", {"_id": rid}))
        for row in c.data_rows():
            lines.append(ins(f"{CONTACTS}/data", {"raw_contact_id": rid, **row}))
    for s in plan.sms:
        lines.append(
            ins(
                "content://sms",
                {
                    "address": s.address,
                    "body": s.body,
                    "date": to_ms(s.date),
                    "type": SMS_TYPES[s.box],
                    "read": int(s.read),
                },
            )
        )
    for call in plan.calls:
        lines.append(
            ins(
                "content://call_log/calls",
                {
                    "number": call.number,
                    "date": to_ms(call.date),
                    "duration": call.duration_s,
                    "type": CALL_TYPES[call.type],
                    "new": 0,
                },
            )
        )
    eid = marks.event
    for ev in plan.events:
        eid += 1
        lines.append(
            ins(
                f"{CALENDAR}/events",
                {
                    "_id": eid,
                    "calendar_id": marks.calendar_id,
                    "title": ev.title,
                    "description": ev.description,
                    "eventLocation": ev.location,
                    **{k: v for k, v in ev.row_times().items() if v is not None},
                    "eventTimezone": ev.timezone,
                    "allDay": int(ev.all_day),
                    "hasAlarm": int(bool(ev.reminders)),
                    "hasAttendeeData": int(bool(ev.attendees)),
                },
            )
        )
        for minutes in ev.reminders:
            lines.append(
                ins(f"{CALENDAR}/reminders", {"event_id": eid, "minutes": minutes, "method": 1})
            )
        for a in ev.attendees:
            lines.append(
                ins(
                    f"{CALENDAR}/attendees",
                    {
                        "event_id": eid,
                        "attendeeName": a.name,
                        "attendeeEmail": a.email,
                        "attendeeRelationship": 1,
                        "attendeeType": 1,
                        "attendeeStatus": 0,
                    },
                )
            )
    for st in plan.settings:
        lines.append(f"settings put {st.namespace} {shlex.quote(st.key)} {shlex.quote(st.value)}")
    for t, sql_path in zip(plan.all_app_rows(), sql_paths, strict=True):
        db = shlex.quote(t.db)
        lines.append(f"am force-stop {shlex.quote(t.package)}")
        db_dir = shlex.quote(t.db.rsplit("/", 1)[0])
        lines.append(f"mkdir -p {db_dir}")
        lines.append(f"sqlite3 {db} < {shlex.quote(sql_path)} >/dev/null")
        owner = marks.owners.get(t.db)
        for suffix in ("", "-wal", "-shm", "-journal"):
            f = shlex.quote(t.db + suffix)
            if owner:
                lines.append(f"chown {owner} {f} 2>/dev/null")
            lines.append(f"restorecon {f} 2>/dev/null")
        lines.append(f"rm -f {shlex.quote(sql_path)}")
    for item in plan.files:
        when = item.mtime_s()
        if when is None:  # made "now": the device's clock, not the host's
            lines.append(f"touch {shlex.quote(item.path)}")
        elif not archived:
            lines.append(f"touch -d @{when} {shlex.quote(item.path)}")
        if item.path.startswith(("/sdcard/", "/storage/")):
            uri = shlex.quote("file://" + item.path)
            lines.append(
                f"am broadcast -a android.intent.action.MEDIA_SCANNER_SCAN_FILE -d {uri} "
                ">/dev/null 2>&1"
            )
    return "\n".join(lines) + "\n"


# -- verification -----------------------------------------------------------------
def _mismatch(device: AdbAndroidDevice, what: str, expected: Any, got: Any) -> SeedMismatch:
    return SeedMismatch(
        f"{device.serial}: {what}: planned {expected!r}, read back {got!r}", serial=device.serial
    )


def _shown(value: Any) -> Any:
    """A value as ``content query`` can show it: it prints SQL NULL and the text
    ``NULL`` alike, so provider read-back cannot tell those two apart."""
    return None if value == "NULL" else value


def _compare_seq(
    device: AdbAndroidDevice,
    name: str,
    planned: list[dict[str, Any]],
    rows: list[Row],
    provider: bool = True,
) -> None:
    for i, want in enumerate(planned):
        if i >= len(rows):
            raise _mismatch(device, f"{name}[{i}]", want, "no such row")
        got = {k: rows[i].get(k) for k in want}
        for k, v in want.items():
            if got[k] != (_shown(v) if provider else v):
                raise _mismatch(device, f"{name}[{i}].{k}", v, got[k])
    if len(rows) > len(planned):
        raise _mismatch(device, f"{name}[{len(planned)}]", "no such row", rows[len(planned)])


def _readback_commands(plan: SeedPlan, marks: _Marks) -> dict[str, str]:
    cmds: dict[str, str] = {}
    if plan.contacts:
        cmds["data"] = content_query_command(
            f"{CONTACTS}/data",
            CONTACT_DATA_COLUMNS,
            where=f"raw_contact_id>{marks.raw_contact}",
            sort="_id ASC",
        )
    if plan.sms:
        cmds["sms"] = content_query_command(
            "content://sms",
            ["_id", "address", "body", "date", "type", "read"],
            where=f"_id>{marks.sms}",
            sort="_id ASC",
        )
    if plan.calls:
        cmds["calls"] = content_query_command(
            "content://call_log/calls",
            ["_id", "number", "date", "duration", "type"],
            where=f"_id>{marks.call}",
            sort="_id ASC",
        )
    if plan.events:
        cmds["events"] = content_query_command(
            f"{CALENDAR}/events",
            EVENT_COLUMNS,
            where=f"_id>{marks.event}",
            sort="_id ASC",
        )
        cmds["reminders"] = content_query_command(
            f"{CALENDAR}/reminders",
            ["event_id", "minutes"],
            where=f"event_id>{marks.event}",
            sort="_id ASC",
        )
        cmds["attendees"] = content_query_command(
            f"{CALENDAR}/attendees",
            ["event_id", "attendeeName", "attendeeEmail"],
            where=f"event_id>{marks.event}",
            sort="_id ASC",
        )
    for i, st in enumerate(plan.settings):
        cmds[f"setting{i}"] = f"settings get {st.namespace} {shlex.quote(st.key)}"
    for i, t in enumerate(plan.all_app_rows()):
        cols = list(dict.fromkeys(c for row in t.rows for c in row))
        cmds[f"db{i}"] = sqlite_select_command(t.db, t.table, cols, f"rowid>{marks.db_rowids[i]}")
    if plan.files:
        paths = " ".join(shlex.quote(f.path) for f in plan.files)
        cmds["files"] = f"md5sum {paths} 2>&1; true"
        cmds["stats"] = f"stat -c '%s %Y %n' {paths} 2>&1; true"
    return cmds


def _verify(
    device: AdbAndroidDevice, plan: SeedPlan, marks: _Marks, out: Mapping[str, str]
) -> None:
    i64 = {"_id": int, "date": int, "type": int, "read": int, "duration": int}
    if plan.contacts:
        rows = parse_content_rows(out["data"], CONTACT_DATA_COLUMNS, {"raw_contact_id": int})
        by_raw: dict[int, list[tuple[Any, Any, Any]]] = {}
        for r in rows:
            # data4 is a title only for organizations (phones keep a normalized number there).
            title = r["data4"] if r["mimetype"] == MIME_ORG else None
            by_raw.setdefault(int(r["raw_contact_id"] or 0), []).append(
                (r["mimetype"], r["data1"], title)
            )
        for i, c in enumerate(plan.contacts):
            want = sorted(c.read_back_rows(), key=repr)
            got = sorted(by_raw.get(marks.raw_contact + 1 + i, []), key=repr)
            if got != want:
                raise _mismatch(device, f"contacts[{i}] ({c.name!r})", want, got)
    if plan.sms:
        rows = parse_content_rows(
            out["sms"], ["_id", "address", "body", "date", "type", "read"], i64
        )
        planned = [
            {
                "address": s.address,
                "body": s.body,
                "date": to_ms(s.date),
                "type": SMS_TYPES[s.box],
                "read": int(s.read),
            }
            for s in plan.sms
        ]
        _compare_seq(device, "sms", planned, rows)
    if plan.calls:
        rows = parse_content_rows(out["calls"], ["_id", "number", "date", "duration", "type"], i64)
        planned = [
            {
                "number": c.number,
                "date": to_ms(c.date),
                "duration": c.duration_s,
                "type": CALL_TYPES[c.type],
            }
            for c in plan.calls
        ]
        _compare_seq(device, "calls", planned, rows)
    if plan.events:
        cols = EVENT_COLUMNS
        rows = parse_content_rows(out["events"], cols, {"_id": int, "dtstart": int, "dtend": int})
        planned = [
            {
                "_id": marks.event + 1 + i,
                "title": e.title,
                "description": e.description,
                "eventLocation": e.location,
                **e.row_times(),
                "eventTimezone": e.timezone,
            }
            for i, e in enumerate(plan.events)
        ]
        _compare_seq(device, "events", planned, rows)
        rems = parse_content_rows(
            out["reminders"], ["event_id", "minutes"], {"event_id": int, "minutes": int}
        )
        _compare_seq(
            device,
            "reminders",
            [
                {"event_id": marks.event + 1 + i, "minutes": m}
                for i, e in enumerate(plan.events)
                for m in e.reminders
            ],
            rems,
        )
        atts = parse_content_rows(
            out["attendees"], ["event_id", "attendeeName", "attendeeEmail"], {"event_id": int}
        )
        _compare_seq(
            device,
            "attendees",
            [
                {"event_id": marks.event + 1 + i, "attendeeName": a.name, "attendeeEmail": a.email}
                for i, e in enumerate(plan.events)
                for a in e.attendees
            ],
            atts,
        )
    for i, st in enumerate(plan.settings):
        raw = out[f"setting{i}"]
        got = raw[:-1] if raw.endswith("\n") else raw
        if got != st.value:
            raise _mismatch(device, f"settings[{i}] ({st.namespace}/{st.key})", st.value, got)
    for i, t in enumerate(plan.all_app_rows()):
        cols = list(dict.fromkeys(c for row in t.rows for c in row))
        rows = parse_sqlite_rows(out[f"db{i}"], cols) if t.rows else []
        planned = [{c: r.get(c) for c in cols} for r in t.rows]
        _compare_seq(device, f"{t.db}:{t.table}", planned, rows, provider=False)
    if plan.files:
        got_hashes: dict[str, str] = {}
        # Only "\n" ends a line: str.splitlines() would also split names at \x1c-\x1e, \x85 …
        for line in out["files"].split("\n"):
            digest, _, path = line.partition(" ")
            got_hashes[path.lstrip(" *")] = digest
        for i, f in enumerate(plan.files):
            want = hashlib.md5(f.data).hexdigest()
            if got_hashes.get(f.path) != want:
                raise _mismatch(device, f"files[{i}] ({f.path})", want, got_hashes.get(f.path))
        got_stats: dict[str, tuple[str, str]] = {}
        for line in out["stats"].split("\n"):
            size, _, rest = line.partition(" ")
            secs, _, path = rest.partition(" ")
            got_stats[path] = (size, secs)
        for i, f in enumerate(plan.files):
            size, secs = got_stats.get(f.path, (None, None))
            if size != str(len(f.data)):
                raise _mismatch(device, f"files[{i}].size ({f.path})", len(f.data), size)
            want_s = f.mtime_s()
            if want_s is not None and secs != str(want_s):
                raise _mismatch(device, f"files[{i}].mtime ({f.path})", str(want_s), secs)


def plan_digest(plan: SeedPlan) -> str:
    """A stable hash of the plan (what the record calls the seed's identity)."""

    def default(o: Any) -> Any:
        if isinstance(o, bytes):
            return hashlib.sha256(o).hexdigest()
        if isinstance(o, datetime):
            return o.isoformat()
        raise TypeError(type(o))

    blob = json.dumps(plan.model_dump(), default=default, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class ArchiveEntry:
    """A file in the seed archive: its device path, bytes, mode and (optional) mtime."""

    path: str
    data: bytes
    mode: int = 0o644
    mtime: int | None = None  # epoch seconds; None: 0 in the archive, touched on the device


def seed_archive(entries: Sequence[ArchiveEntry]) -> bytes:
    """An uncompressed tar to unpack with ``tar -x -o -f FILE -C /``.

    GNU format, as toybox writes it: names are the device paths without their
    leading slash, in UTF-8 byte for byte, of any length (long ones get a
    ``././@LongLink`` record, which toybox and GNU tar read).
    """
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf,
        mode="w",
        format=tarfile.GNU_FORMAT,
        encoding="utf-8",
        errors="surrogateescape",
    ) as tf:
        for e in entries:
            info = tarfile.TarInfo(e.path.lstrip("/"))
            info.size = len(e.data)
            info.mode = e.mode & 0o7777
            info.mtime = e.mtime or 0
            tf.addfile(info, io.BytesIO(e.data))
    return buf.getvalue()


def _check_files(plan: SeedPlan) -> None:
    for i, f in enumerate(plan.files):
        if not isinstance(f.data, bytes):
            raise AndroidInputError(f"seed plan: files[{i}] ({f.path!r}): data must be bytes")
        if not f.path.startswith("/") or f.path.endswith("/"):
            raise AndroidInputError(
                f"seed plan: files[{i}] ({f.path!r}): give an absolute path to a file"
            )
        if "\n" in f.path or "\0" in f.path:
            # md5sum and stat print one line per file: a newline in a name would split it.
            raise AndroidInputError(
                f"seed plan: files[{i}] ({f.path!r}): a path may not hold a newline or NUL"
            )
        f.mtime_s()  # a naive datetime is an error before anything is written


def apply_plan(
    device: AdbAndroidDevice,
    plan: SeedPlan | Mapping[str, Any],
    *,
    archive: bool = True,
) -> dict[str, Any]:
    """Apply ``plan`` to ``device`` in a bounded number of round trips, verify, return a digest.

    Everything to write travels in one tar archive when the device has ``tar``
    (toybox's, on current Android); otherwise, or with ``archive=False``, files,
    app database SQL and the script are pushed one sync transfer each.
    """
    if isinstance(plan, Mapping):
        plan = SeedPlan.from_dict(plan)
    if not isinstance(plan, SeedPlan):
        raise AndroidInputError(
            f"an Android seed plan must be a SeedPlan, not {type(plan).__name__}"
        )
    _check_files(plan)
    start = device.round_trips
    original = plan
    if plan.alarms and plan.alarm_store.db is None:
        store = plan.alarm_store.model_copy(update={"db": resolve_alarm_db(device)})
        plan = plan.model_copy(update={"alarm_store": store})
    marks = _read_marks(device, plan)
    archived = archive and marks.has_tar
    nonce = secrets.token_hex(6)
    targets = plan.all_app_rows()
    sql_paths = [f"{TMP}/clawrig_seed_{nonce}_{i}.sql" for i in range(len(targets))]
    sqls = [app_rows_sql(t).encode("utf-8") for t in targets]
    script = build_script(plan, marks, sql_paths, archived=archived)
    script_path = f"{TMP}/clawrig_seed_{nonce}.sh"
    has_script = script.count("\n") > 1
    run = None
    if archived and (plan.files or has_script):
        entries = [ArchiveEntry(f.path, f.data, f.mode, f.mtime_s()) for f in plan.files]
        entries += [ArchiveEntry(p, sql) for p, sql in zip(sql_paths, sqls, strict=True)]
        if has_script:
            entries.append(ArchiveEntry(script_path, script.encode("utf-8")))
        tar_path = f"{TMP}/clawrig_seed_{nonce}.tar"
        device.push(seed_archive(entries), tar_path)
        # One shell: unpack (stderr names any file that failed), run the script, clean up.
        command = f"tar -x -o -f {tar_path} -C /"
        if has_script:
            command += f"; sh {script_path}"
        run = device.shell(f"{command}; rm -f {tar_path} {script_path}", timeout=1800)
    else:
        for path, sql in zip(sql_paths, sqls, strict=True):
            device.push(sql, path)
        for item in plan.files:
            device.push(item.data, item.path, mode=item.mode)
        if has_script:
            device.push(script.encode("utf-8"), script_path)
            run = device.shell(f"sh {script_path}; rm -f {script_path}", timeout=1800)
    readback = _readback_commands(plan, marks)
    out = batch(device, readback) if readback else {}
    try:
        _verify(device, plan, marks, out)
    except SeedMismatch as exc:
        if run is not None:
            output = (run.stdout + run.stderr).strip()
            exc.log_tail = f"seed script exit {run.exit_code}:\n{output[-2000:]}"
        raise
    digest = plan_digest(original)
    return {
        "digest": digest,  # the plan's identity; the device state was verified against it
        "plan_sha256": digest,
        "contacts": len(plan.contacts),
        "sms": len(plan.sms),
        "calls": len(plan.calls),
        "events": len(plan.events),
        "alarms": len(plan.alarms),
        "settings": len(plan.settings),
        "files": {f.path: hashlib.md5(f.data).hexdigest() for f in plan.files},
        "app_rows": {f"{t.db}:{t.table}": len(t.rows) for t in targets},
        "file_transfer": "archive" if archived else "per-file",
        "round_trips": device.round_trips - start,
    }
