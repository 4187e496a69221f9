"""Reading device state for checks, through the device layers' own readers.

One small adapter per device kind, so each check is written once: a file is
read the same way whether it lives on the phone or the laptop, and a SQLite
database is copied to the host and queried there (exact values, any SQL,
no dependence on the device's ``sqlite3`` output format).
"""

from __future__ import annotations

import hashlib
import shlex
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from emulator import readers as android_readers


class StateError(RuntimeError):
    """A check could not read what it needs for a reason that is not the agent's doing."""


def home(device: Any) -> str:
    """The home directory of the device's user (cached on the device object)."""
    cached = getattr(device, "_scoring_home", None)
    if cached:
        return cached
    if device.kind == "android":
        value = "/sdcard"
    else:
        value = device.exec('printf %s "$HOME"', timeout=30).stdout.strip() or "/root"
    device._scoring_home = value
    return value


def expand(device: Any, path: str) -> str:
    if path == "~" or path.startswith("~/"):
        return home(device) + path[1:]
    return path


def read_file(device: Any, path: str) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    path = expand(device, path)
    if device.kind == "android":
        res = device.shell(f"test -f {shlex.quote(path)} && echo yes || echo no")
        if res.stdout.strip() != "yes":
            return None
        return android_readers.read_file(device, path)
    try:
        return device.read_file(path)
    except FileNotFoundError:
        return None


def run_command(device: Any, command: str, timeout: float = 60.0) -> tuple[int, str, str]:
    """``(exit_code, stdout, stderr)`` of a command run outside the agent's shell session."""
    if device.kind == "android":
        r = device.shell(command, timeout=timeout)
    else:
        r = device.exec(command, timeout=timeout)
    return r.exit_code, r.stdout, r.stderr


def provider_rows(
    device: Any, uri: str, columns: list[str], where: str | None = None
) -> list[dict[str, Any]]:
    projection = ["_id", *[c for c in columns if c != "_id"]]
    return android_readers.query(device, uri, projection, where=where)  # [] for no rows


def sqlite_query(device: Any, db: str, sql: str) -> list[tuple[Any, ...]]:
    """Run a read-only query on a copy of the device's database (with its WAL, if any)."""
    db = expand(device, db)
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
            return [tuple(r) for r in conn.execute(sql).fetchall()]
        finally:
            conn.close()


def tree_hashes(device: Any, root: str) -> dict[str, str]:
    """``{path: sha256}`` of every regular file under ``root`` (empty when it does not exist)."""
    root = expand(device, root)
    q = shlex.quote(root)
    if device.kind == "android":
        code, out, err = run_command(device, f"[ -d {q} ] && find {q} -type f; true")
        if code != 0:
            raise StateError(f"listing {root} failed: {err.strip()}")
        paths = [line for line in out.splitlines() if line]
        found = android_readers.file_hashes(device, paths)
        return {p: d for p, d in found.items() if d is not None}
    cmd = f"[ -d {q} ] && find {q} -type f -print0 | xargs -0 -r sha256sum; true"
    code, out, err = run_command(device, cmd, timeout=120)
    if code != 0:
        raise StateError(f"hashing {root} failed: {err.strip()}")
    hashes: dict[str, str] = {}
    for line in out.splitlines():
        digest, _, path = line.partition(" ")
        if digest:
            hashes[path.lstrip(" *")] = digest
    return hashes


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
