"""Reading a seed back and comparing it with the plan; the first difference is a
:class:`~emulator.errors.SeedMismatch` naming the record.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from emulator.errors import SeedMismatch
from emulator.readers import (
    CONTACT_DATA_COLUMNS,
    MIME_ORG,
    Row,
    content_query_command,
    parse_content_rows,
    parse_sqlite_rows,
    sqlite_select_command,
)
from emulator.seeding.records import (
    CALENDAR,
    CALL_TYPES,
    CONTACTS,
    EVENT_COLUMNS,
    SMS_TYPES,
    SeedPlan,
    _shown,
    to_ms,
)
from emulator.seeding.script import _Marks

if TYPE_CHECKING:
    from emulator.device import AdbAndroidDevice


# -- verification -----------------------------------------------------------------
def _mismatch(device: AdbAndroidDevice, what: str, expected: Any, got: Any) -> SeedMismatch:
    return SeedMismatch(
        f"{device.serial}: {what}: planned {expected!r}, read back {got!r}", serial=device.serial
    )


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
