"""Reading device state for checks, only through the devices' own readers.

Every read is a ``device.read_state(query)`` in the vocabulary both device
layers answer alike (``file``, ``tree_hashes``, ``command``; Android's
``provider`` and ``ui``), so a check is written once: a file is read the same
way whether it lives on the phone or the laptop, and ``~/`` is the device's
business. A SQLite database is copied to the host and queried there (exact
values, any SQL, no dependence on the device's ``sqlite3`` output format).
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from pathlib import Path
from typing import Any


def read_file(device: Any, path: str) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        return device.read_state({"kind": "file", "path": path})
    except FileNotFoundError:
        return None


def run_command(device: Any, command: str, timeout: float = 60.0) -> tuple[int, str, str]:
    """``(exit_code, stdout, stderr)`` of a command run outside the agent's shell session."""
    r = device.read_state({"kind": "command", "command": command, "timeout": timeout})
    return r["exit_code"], r["stdout"], r["stderr"]


def provider_rows(
    device: Any, uri: str, columns: list[str], where: str | None = None
) -> list[dict[str, Any]]:
    """An Android content provider's rows (``_id`` first); [] for no rows."""
    projection = ["_id", *[c for c in columns if c != "_id"]]
    query = {"kind": "provider", "uri": uri, "projection": projection, "where": where}
    return device.read_state(query)


def focused_ui(device: Any) -> dict[str, str]:
    """``{"package", "activity", "tree"}``: the focused app and its ``uiautomator`` dump."""
    return device.read_state({"kind": "ui"})


def sqlite_query(device: Any, db: str, sql: str) -> list[tuple[Any, ...]]:
    """Run a read-only query on a copy of the device's database (with its WAL, if any)."""
    return sqlite_table(device, db, sql)[1]


def sqlite_dicts(device: Any, db: str, sql: str) -> list[dict[str, Any]]:
    """The query's rows as ``{column: value}`` (columns named as the query names them)."""
    names, rows = sqlite_table(device, db, sql)
    return [dict(zip(names, r, strict=True)) for r in rows]


def sqlite_table(device: Any, db: str, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The query's column names and rows, read from a copy of the device's database."""
    main = read_file(device, db)
    if main is None:
        raise FileNotFoundError(db)
    with tempfile.TemporaryDirectory(prefix="clawrig-db-") as tmp:
        local = Path(tmp) / "copy.db"
        local.write_bytes(main)
        for suffix in ("-wal", "-shm"):
            extra = read_file(device, db + suffix)
            if extra is not None:
                (Path(tmp) / f"copy.db{suffix}").write_bytes(extra)
        conn = sqlite3.connect(local)
        try:
            conn.execute("PRAGMA query_only = ON")
            cur = conn.execute(sql)
            names = [d[0] for d in cur.description or ()]
            return names, [tuple(r) for r in cur.fetchall()]
        finally:
            conn.close()


def tree_hashes(device: Any, root: str) -> dict[str, str]:
    """``{path: sha256}`` of every regular file under ``root`` (empty when it does not exist)."""
    return device.read_state({"kind": "tree_hashes", "root": root})


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
