"""Building a seed: ``content``/``settings``/``sqlite3`` commands, one shell script, one archive.

Parent rows that children point at (raw contacts, calendar events) get explicit ids
above the current maximum (read first, in one batch), so the script needs no round
trip to learn them.
"""

from __future__ import annotations

import io
import shlex
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.errors import SeedMismatch
from emulator.readers import (
    batch,
    content_query_command,
    parse_content_rows,
)
from emulator.seeding.records import (
    CALENDAR,
    CALL_TYPES,
    CONTACTS,
    SMS_TYPES,
    AppRows,
    SeedPlan,
    to_ms,
)

if TYPE_CHECKING:
    from emulator.device import AdbAndroidDevice


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
