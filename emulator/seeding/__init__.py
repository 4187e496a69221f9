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
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from emulator.errors import AndroidInputError, SeedMismatch
from emulator.readers import batch
from emulator.seeding.records import (
    ALARM_DB_CANDIDATES,
    ALARM_SCHEMA,
    EVENT_COLUMNS,
    TMP,
    Alarm,
    AlarmStore,
    AppRows,
    Attendee,
    CalendarEvent,
    Call,
    Contact,
    FileItem,
    SeedPlan,
    Setting,
    Sms,
    to_ms,
)
from emulator.seeding.script import (
    ArchiveEntry,
    _read_marks,
    app_rows_sql,
    build_script,
    insert_command,
    seed_archive,
    sql_literal,
)
from emulator.seeding.verify import _readback_commands, _verify, plan_digest

if TYPE_CHECKING:
    from emulator.device import AdbAndroidDevice


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


__all__ = [
    "ALARM_DB_CANDIDATES",
    "ALARM_SCHEMA",
    "EVENT_COLUMNS",
    "Alarm",
    "AlarmStore",
    "AppRows",
    "ArchiveEntry",
    "Attendee",
    "CalendarEvent",
    "Call",
    "Contact",
    "FileItem",
    "SeedPlan",
    "Setting",
    "Sms",
    "app_rows_sql",
    "apply_plan",
    "build_script",
    "insert_command",
    "plan_digest",
    "resolve_alarm_db",
    "seed_archive",
    "sql_literal",
    "to_ms",
]
