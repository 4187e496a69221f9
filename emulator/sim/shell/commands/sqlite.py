"""``sqlite3 DB "SQL"``: the SQLite shell on the phone's own database files."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from emulator.sim.providers.store import phone_equal
from emulator.sim.shell.commands import command
from emulator.sim.shell.interp import Interp, Io
from emulator.sim.vfs import FsError

_MODES = {
    "-list": "list",
    "-csv": "csv",
    "-json": "json",
    "-line": "line",
    "-column": "list",
    "-tabs": "tabs",
}


def _text(value: Any, mode: str) -> str:
    if value is None:
        return "null" if mode == "json" else ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _csv(value: Any) -> str:
    text = _text(value, "csv")
    if (isinstance(value, str) and any(c in text for c in ',"\n\r')) or text.startswith(" "):
        return '"' + text.replace('"', '""') + '"'
    return text


def _statements(script: str) -> list[str]:
    """Split a script into complete statements (``;`` inside strings does not split)."""
    out: list[str] = []
    buf = ""
    for ch in script:
        buf += ch
        if ch == ";" and sqlite3.complete_statement(buf):
            if buf.strip(" \t\n;"):
                out.append(buf)
            buf = ""
    if buf.strip():
        out.append(buf)
    return out


# A string literal in SQL: quotes doubled inside.
_LITERAL = r"'((?:[^']|'')*)'"
# The two statements that name a file: ATTACH and VACUUM INTO. Their device path is
# rewritten to the phone's host path before SQLite sees it; the authorizer below then
# refuses every file that is not inside the phone, whatever form the name took.
_ATTACH = re.compile(rf"^(\s*ATTACH\s+(?:DATABASE\s+)?){_LITERAL}", re.IGNORECASE)
_VACUUM_INTO = re.compile(rf"^(\s*VACUUM(?:\s+\w+)?\s+INTO\s+){_LITERAL}", re.IGNORECASE)
# Pragmas that point SQLite at host directories.
_HOST_PRAGMAS = {"temp_store_directory", "data_store_directory"}
_NO_FILE = ("", ":memory:")


def _map_files(stmt: str, to_host: Callable[[str], str]) -> str:
    """``stmt`` with the device path of an ATTACH / VACUUM INTO literal made a host path."""
    for pattern in (_ATTACH, _VACUUM_INTO):
        m = pattern.match(stmt)
        if m:
            name = m.group(2).replace("''", "'")
            if name in _NO_FILE:
                return stmt
            host = to_host(name).replace("'", "''")
            return f"{m.group(1)}'{host}'{stmt[m.end() :]}"
    return stmt


def _authorizer(inside: Callable[[str], bool]) -> Callable[..., int]:
    """An SQLite authorizer that keeps every file the statement opens inside the phone.

    SQLite calls it for ``ATTACH`` (and for the ``ATTACH`` that ``VACUUM INTO`` runs)
    with the file name once known; a name computed by an expression arrives as None
    and is refused, since it cannot be checked.
    """

    def check(action: int, arg1: str | None, arg2: str | None, *_: Any) -> int:
        if action == sqlite3.SQLITE_ATTACH:
            if arg1 in _NO_FILE or (arg1 is not None and inside(arg1)):
                return sqlite3.SQLITE_OK
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _HOST_PRAGMAS:
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    return check


def _dot(conn: sqlite3.Connection, line: str, state: dict[str, Any], io: Io) -> bool:
    """The dot-commands people use in one-liners; False for anything else."""
    words = line.split()
    cmd = words[0]
    if cmd == ".tables":
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table','view') "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        io.out("".join(f"{r[0]}\n" for r in rows))
    elif cmd == ".schema":
        sql = "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"
        args: list[str] = []
        if len(words) > 1:
            sql += " AND tbl_name = ?"
            args.append(words[1])
        for (text,) in conn.execute(sql, args).fetchall():
            io.out(f"{text};\n")
    elif cmd in (".headers", ".header"):
        state["header"] = len(words) > 1 and words[1] in ("on", "1", "yes")
    elif cmd == ".mode" and len(words) > 1:
        state["mode"] = words[1]
    elif cmd == ".separator" and len(words) > 1:
        state["sep"] = words[1]
    else:
        return False
    return True


@command("sqlite3")
def sqlite3_(sh: Interp, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    state: dict[str, Any] = {"header": False, "mode": "list", "sep": "|"}
    operands: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-header", "-headers"):
            state["header"] = True
        elif a == "-noheader":
            state["header"] = False
        elif a in _MODES:
            state["mode"] = _MODES[a]
        elif a == "-separator" and i + 1 < len(args):
            state["sep"] = args[i + 1]
            i += 1
        elif a in ("-batch", "-bail", "-readonly", "-echo"):
            pass
        elif a.startswith("-") and not operands:
            io.err(f"sqlite3: Error: unknown option: {a}\nUse -help for a list of options.\n")
            return 1
        else:
            operands.append(a)
        i += 1
    if not operands:
        io.err("sqlite3: Error: no database file given (the phone's sqlite3 runs one-liners)\n")
        return 1
    db = operands[0]
    script = " ".join(operands[1:]) if len(operands) > 1 else io.read().decode("utf-8")
    try:
        host = sh.host(db)
    except FsError:
        io.err(f'Error: unable to open database "{db}": unable to open database file\n')
        return 1
    if not host.parent.is_dir() or host.is_dir():
        io.err(f'Error: unable to open database "{db}": unable to open database file\n')
        return 1
    conn = sqlite3.connect(host, isolation_level=None)
    real_root = os.path.realpath(sh.vfs.host_path("/"))

    def inside(name: str) -> bool:
        if name.startswith("file:"):  # a URI would bypass the path mapping
            return False
        real = os.path.realpath(name)
        return real.startswith(real_root + os.sep)

    def to_host(name: str) -> str:
        try:
            return str(sh.host(name))
        except FsError:
            return name  # the authorizer refuses it

    conn.set_authorizer(_authorizer(inside))
    conn.create_function("phone_equal", 2, phone_equal, deterministic=True)
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        for raw in script.split("\n") if script.lstrip().startswith(".") else [script]:
            if raw.strip().startswith("."):
                if not _dot(conn, raw.strip(), state, io):
                    io.err(
                        f'Error: unknown command or invalid arguments:  "{raw.strip()[1:]}". '
                        'Enter ".help" for help\n'
                    )
                    return 1
                continue
            for stmt in _statements(raw):
                try:
                    cur = conn.execute(_map_files(stmt, to_host))
                except sqlite3.Error as exc:
                    io.err(f"Parse error: {exc}\n")
                    return 1
                if cur.description is not None:
                    _print_rows(cur, state, io)
    finally:
        conn.close()
    return 0


def _print_rows(cur: sqlite3.Cursor, state: dict[str, Any], io: Io) -> None:
    names = [d[0] for d in cur.description]
    mode, sep = state["mode"], state["sep"]
    rows = cur.fetchall()
    if mode == "json":
        if rows:
            objs = [
                json.dumps(
                    {
                        n: (v.hex() if isinstance(v, bytes) else v)
                        for n, v in zip(names, r, strict=True)
                    },
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
                for r in rows
            ]
            io.out("[" + ",\n".join(objs) + "]\n")
        return
    if mode == "line":
        width = max(len(n) for n in names)
        io.out(
            "\n".join(
                "".join(f"{n:>{width}} = {_text(v, mode)}\n" for n, v in zip(names, r, strict=True))
                for r in rows
            )
        )
        return
    if mode == "csv":
        sep, fmt = ",", _csv
    elif mode == "tabs":
        sep, fmt = "\t", lambda v: _text(v, "list")
    else:
        fmt = lambda v: _text(v, "list")  # noqa: E731
    out = []
    if state["header"]:
        out.append(sep.join(names) + "\n")
    for r in rows:
        out.append(sep.join(fmt(v) for v in r) + "\n")
    io.out("".join(out))
