"""The world's state in one comparable shape, taken after seeding and after the agent.

The report's "what changed" is the difference between two snapshots, so both
are read the same way: Android provider rows keyed by ``_id``, app database
rows keyed by ``rowid``, files by path with a hash (and the text of small text
files, so a change can be shown as a diff), and each service's own snapshot
when it offers one. Reads go through the device layers' readers in a few
round trips per device (one query per provider, one hash pass per folder, one
read per text file), all through the layers' ``read_state`` vocabulary
(docs/state.md), never through the agent's shell session.

A snapshot is evidence for a person, not for scoring: a part that cannot be
read is noted in the snapshot (``errors``) and never ends the episode.
Contents of files that look like credentials are withheld (hash only), and the
recorder redacts known secrets from everything written.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import shlex
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scoring import state

# Provider tables worth showing, with the columns a person needs to recognise a row.
ANDROID_PROVIDERS: dict[str, tuple[str, list[str]]] = {
    "sms": ("content://sms", ["_id", "thread_id", "address", "type", "read", "date", "body"]),
    "contacts": (
        "content://com.android.contacts/data",
        ["_id", "raw_contact_id", "mimetype", "display_name", "data1", "data2"],
    ),
    "call_log": ("content://call_log/calls", ["_id", "number", "type", "date", "duration", "name"]),
    "calendar": (
        "content://com.android.calendar/events",
        [
            "_id",
            "calendar_id",
            "title",
            "dtstart",
            "dtend",
            "eventLocation",
            "description",
            "deleted",
        ],
    ),
}
# App databases under these folders are read as databases; the providers' own are skipped
# (their rows are read through the providers above).
APP_DB_ROOTS = ("/data/data", "/data/user_de/0")
PROVIDER_PACKAGES = ("com.android.providers.",)
TEXT_SUFFIXES = {
    ".md", ".txt", ".csv", ".tsv", ".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf",
    ".ics", ".vcf", ".log", ".py", ".sh", ".html", ".xml", ".eml", ".rc", ".env", ".org", "",
}  # fmt: skip
TEXT_CAP = 64 * 1024  # bytes of one file kept for a diff
MAX_TEXTS = 400  # text files read per snapshot; past that, hashes only (noted in errors)
SKIP_DIRS = (
    "*/.cache/*", "*/.ssh/*", "*/.gnupg/*", "*/.local/share/Trash/*", "*/.git/*",
    # The sync clients' bookkeeping (mbsync's per-folder state and its journal, vdirsyncer's
    # status, khal's cache): cron rewrites it every minute, so it is neither the person's
    # data nor the agent's doing, and a world read twice must read alike.
    "*/.mbsyncstate*", "*/.local/share/vdirsyncer/*", "*/.local/share/khal/*",
)  # fmt: skip
SECRET_NAMES = (
    "*token*", "*secret*", "*password*", "*passwd*", "*.key", "*.pem", "*credentials*",
    "*.netrc", "*_rsa", "*_ed25519", "*.kdbx", "*api_key*", "*apikey*",
)  # fmt: skip


def withheld(path: str) -> bool:
    """True for files whose contents must not reach the record (credentials by their name)."""
    name = posixpath.basename(path).lower()
    return any(fnmatch.fnmatch(name, g) for g in SECRET_NAMES)


def _is_text_name(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in TEXT_SUFFIXES


def _run(device: Any, command: str, timeout: float = 120) -> str:
    """stdout of a read-only command outside the agent's shell session."""
    return device.read_state({"kind": "command", "command": command, "timeout": timeout})["stdout"]


def read_texts(device: Any, paths: Iterable[str], cap: int = TEXT_CAP) -> dict[str, str]:
    """The first ``cap`` bytes of each file as UTF-8 (binary and vanished files left out)."""
    texts: dict[str, str] = {}
    for path in paths:
        try:
            data = device.read_state({"kind": "file", "path": path})
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            continue
        if b"\x00" in data[:cap]:
            continue
        texts[path] = data[:cap].decode("utf-8", "replace")
    return texts


def _files(
    device: Any,
    roots: Iterable[str],
    old: Mapping[str, Any] | None,
    errors: dict[str, str],
    texts: bool = True,
) -> dict[str, Any]:
    """``{path: {hash, text?, withheld?}}``; texts are read for every text file when ``old`` is
    None (the baseline), else only for files that are new or whose hash changed; never when
    ``texts`` is off (a checkpoint's digest check: the hashes prove the texts)."""
    hashes: dict[str, str] = {}
    for root in roots:
        for path, digest in state.tree_hashes(device, root).items():
            if not any(fnmatch.fnmatch(path, g) for g in SKIP_DIRS):
                hashes[path] = digest
    entries: dict[str, Any] = {p: {"hash": h} for p, h in sorted(hashes.items())}
    want = [
        p
        for p, h in hashes.items()
        if texts
        and _is_text_name(p)
        and not withheld(p)
        and (old is None or (old.get(p) or {}).get("hash") != h)
    ]
    if len(want) > MAX_TEXTS:
        errors["texts"] = f"{len(want) - MAX_TEXTS} text files past {MAX_TEXTS} kept as hashes"
        want = want[:MAX_TEXTS]
    for path, text in read_texts(device, want).items():
        entries[path]["text"] = text
    for path in entries:
        if withheld(path):
            entries[path]["withheld"] = True
    return entries


def _providers(device: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (uri, columns) in ANDROID_PROVIDERS.items():
        rows = state.provider_rows(device, uri, columns)
        out[name] = {
            "uri": uri,
            "rows": {str(r["_id"]): {k: _plain(v) for k, v in r.items()} for r in rows},
        }
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def _app_dbs(device: Any) -> dict[str, Any]:
    """Every table of every app database (not the providers'), rows keyed by rowid."""
    roots = " ".join(shlex.quote(r) for r in APP_DB_ROOTS)
    listing = _run(device, f"find {roots} -name '*.db' -type f 2>/dev/null; true")
    out: dict[str, Any] = {}
    for path in sorted(p for p in listing.splitlines() if p.strip()):
        package = path.split("/")[3] if path.startswith("/data/data/") else path.split("/")[4]
        if package.startswith(PROVIDER_PACKAGES) or withheld(path):
            continue
        try:
            out[path] = _dump_db(device, path)
        except (OSError, sqlite3.Error, ValueError) as exc:
            out[path] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def _dump_db(device: Any, path: str) -> dict[str, Any]:
    main = device.read_state({"kind": "file", "path": path})
    with tempfile.TemporaryDirectory(prefix="clawrig-snap-") as tmp:
        local = Path(tmp) / "copy.db"
        local.write_bytes(main)
        try:
            wal = device.read_state({"kind": "file", "path": path + "-wal"})
            (Path(tmp) / "copy.db-wal").write_bytes(wal)
        except FileNotFoundError:
            pass
        conn = sqlite3.connect(local)
        try:
            tables: dict[str, Any] = {}
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' "
                    "AND name NOT LIKE 'sqlite_%' AND name != 'android_metadata' ORDER BY name"
                )
            ]
            for name in names:
                cur = conn.execute(f'SELECT rowid AS __rowid, * FROM "{name}"')
                cols = [d[0] for d in cur.description]
                tables[name] = {
                    str(row[0]): {c: _plain(v) for c, v in zip(cols[1:], row[1:], strict=True)}
                    for row in cur.fetchall()
                }
            return {"tables": tables}
        finally:
            conn.close()


def file_roots(device: Any, task: Any, role: str) -> list[str]:
    """The user's home (``/sdcard`` on Android) plus the folders the task's checks look at."""
    roots = ["~"]
    for item in [*getattr(task, "checks", ()), *getattr(task, "safety", ())]:
        if getattr(item, "device", None) != role:
            continue
        if getattr(item, "kind", None) == "file":
            roots.append(posixpath.dirname(item.path) or "/")
        roots.extend(getattr(item, "roots", None) or ())
    kept: list[str] = []
    for root in sorted(set(roots), key=len):
        if root and not any(root == k or root.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(root)
    return kept


def device_snapshot(
    device: Any, roots: list[str], old: Mapping[str, Any] | None = None, texts: bool = True
) -> dict[str, Any]:
    """One device's state; each part that fails is named in ``errors`` and left out."""
    snap: dict[str, Any] = {"kind": device.kind, "roots": roots, "errors": {}}
    parts: dict[str, Any] = {
        "files": lambda: _files(
            device, roots, (old or {}).get("files") if old else None, snap["errors"], texts
        )
    }
    if device.kind == "android":
        parts["providers"] = lambda: _providers(device)
        parts["app_db"] = lambda: _app_dbs(device)
    # The parts side by side: each is its own round trips (a phone's provider queries, its
    # databases, its file hashes), none waits on another's.
    with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="snapshot-part") as pool:
        running = {name: pool.submit(read) for name, read in parts.items()}
    for name, future in running.items():
        exc = future.exception()
        if exc is None:
            snap[name] = future.result()
        elif isinstance(exc, Exception):  # evidence is best effort; scoring reads on its own
            snap["errors"][name] = f"{type(exc).__name__}: {exc}"
        else:
            raise exc
    return {k: snap[k] for k in ("kind", "roots", "errors", *parts) if k in snap}


def take(
    world: Any, task: Any, baseline: Mapping[str, Any] | None = None, texts: bool = True
) -> dict[str, Any]:
    """A snapshot of every device (and every service that can take its own).

    With ``baseline`` given, file texts are read only where a file changed; with ``texts``
    off, none are (hashes, rows and service objects only: what a digest needs). Devices and
    services are read side by side (threads: each waits on its own connection, as in seeding).
    """

    def device(role: str, dev: Any) -> dict[str, Any]:
        old = ((baseline or {}).get("devices") or {}).get(role) if baseline is not None else None
        roots = (old or {}).get("roots") or file_roots(dev, task, role)
        return device_snapshot(dev, roots, old if baseline is not None else None, texts)

    def service(svc: Any) -> dict[str, Any]:
        try:
            return service_snapshot(svc)
        except Exception as exc:  # evidence is best effort, as for devices
            return {"errors": {"snapshot": f"{type(exc).__name__}: {exc}"}}

    services_in = getattr(world, "services", {})
    jobs = len(world.devices) + len(services_in)
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="snapshot") as pool:
        devs = {r: pool.submit(device, r, d) for r, d in world.devices.items()}
        svcs = {n: pool.submit(service, s) for n, s in services_in.items()}
        devices = {r: f.result() for r, f in devs.items()}
        services = {n: f.result() for n, f in svcs.items()}
    return {"taken": now_iso(), "devices": devices, "services": services}


def now_iso() -> str:
    """When a snapshot was taken (host time, UTC)."""
    return datetime.now(UTC).isoformat()


def _flags(flags: Any) -> str:
    """A message's flags, without ``\\Recent``: IMAP gives that to whichever session
    opened the mailbox first (the reader's or a client's), so it says who looked, not
    what the mailbox holds (IMAP4rev2 dropped it)."""
    return " ".join(f for f in flags if f != "\\Recent")


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def service_snapshot(service: Any) -> dict[str, Any]:
    """``{"collections": {name: {key: row}}, "sent": [...]}`` through the service's readers.

    A service with a ``snapshot()`` of its own answers itself; mail, calendar and
    contacts are read here through their public readers.
    """
    own = getattr(service, "snapshot", None)
    if callable(own):
        return own()
    if hasattr(service, "outbox") and hasattr(service, "messages"):
        messages = {}
        for m in service.messages():
            key = f"{getattr(m, 'folder', '')}:{m.message_id or m.uid}"
            messages[key] = {
                "folder": getattr(m, "folder", ""), "from": m.sender, "to": ", ".join(m.to),
                "subject": m.subject, "body": m.body[:TEXT_CAP], "flags": _flags(m.flags),
            }  # fmt: skip
        sent = [
            {"to": ", ".join(m.envelope_to), "subject": m.subject, "body": m.body[:2000]}
            for m in service.outbox()
        ]
        return {"collections": {"messages": messages}, "sent": sent}
    if hasattr(service, "events"):
        rows = {e.uid: _jsonable(asdict(e)) for e in service.events()}
        return {"collections": {"events": rows}}
    if hasattr(service, "contacts"):
        rows = {c.uid: _jsonable(asdict(c)) for c in service.contacts()}
        return {"collections": {"contacts": rows}}
    return {"errors": {"snapshot": f"{type(service).__name__} offers no snapshot"}}
