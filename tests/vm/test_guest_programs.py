"""The guest programs (linux_vm/guest/) run on the host too: each tested without a VM.

In the VM they run as root under the resident helper; the VM tests (seeding,
readers, the clock) run them there. Here they run in this process or as a
plain ``python3`` script, on temporary files.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import os
import pwd
import shlex
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from linux_vm.guest import (
    apply_seed,
    facts,
    helper_server,
    maildir,
    set_clock,
    source,
    sqlite_rows,
    tree_hashes,
)
from linux_vm.seeding import bundle

GUEST = Path(__file__).resolve().parents[2] / "linux_vm" / "guest"
PROGRAMS = sorted(p.stem for p in GUEST.glob("*.py") if p.stem != "__init__")
ME = pwd.getpwuid(os.getuid()).pw_name
ODD = 'it\'s "$x" `id` 50% 😀 日本\n'


@pytest.mark.parametrize("name", PROGRAMS)
def test_a_program_uses_the_standard_library_only(name: str) -> None:
    tree = ast.parse(source(name))
    imported = {
        (n.module if isinstance(n, ast.ImportFrom) else a.name).split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in (n.names if isinstance(n, ast.Import) else [n])
    }
    # __main__: the helper that runs them (what a program keeps for the next lives there).
    allowed = set(sys.stdlib_module_names) | {"__main__"}
    assert imported <= allowed, imported - allowed


def test_unknown_program_is_refused() -> None:
    with pytest.raises(ValueError, match="no guest program"):
        source("../image")


def _script(name: str, stdin: bytes) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(GUEST / f"{name}.py")], input=stdin, capture_output=True, timeout=60
    )


def test_sqlite_rows_as_a_script_and_its_errors(tmp_path: Path) -> None:
    db = tmp_path / "a b.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE t (s TEXT, b BLOB)")
        c.execute("INSERT INTO t VALUES (?, ?)", (ODD, b"\x00\xff"))
    args = {"path": str(db), "sql": "SELECT s, b FROM t WHERE s = ?", "params": [ODD]}
    out = _script("sqlite_rows", json.dumps(args).encode())
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [[ODD, {"$b64": base64.b64encode(b"\x00\xff").decode()}]]
    bad = _script("sqlite_rows", json.dumps({**args, "sql": "SELECT nope FROM t"}).encode())
    assert "no such column" in json.loads(bad.stdout)["error"]
    assert sqlite_rows.rows(str(db), "SELECT count(*) FROM t", []) == [[1]]


def test_maildir_lists_new_then_cur_by_name(tmp_path: Path) -> None:
    box = tmp_path / "Mail" / "INBOX"
    for sub, name, raw in [("cur", "b:2,S", b"Subject: read\n\nx"), ("new", "a", ODD.encode())]:
        (box / sub).mkdir(parents=True, exist_ok=True)
        (box / sub / name).write_bytes(raw)
    got = maildir.messages(str(tmp_path / "Mail"), "INBOX", ME)
    assert [(m["sub"], m["name"]) for m in got] == [("new", "a"), ("cur", "b:2,S")]
    assert base64.b64decode(got[0]["raw"]) == ODD.encode()


def test_facts_of_files_and_sqlite(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_bytes(ODD.encode())
    f.chmod(0o640)
    db = tmp_path / "c.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE m (body TEXT)")
        c.execute("INSERT INTO m VALUES (?)", (ODD,))
    got = facts.facts(
        [
            {"kind": "file", "path": str(f), "owner": ME},
            {"kind": "file", "path": str(tmp_path / "none"), "owner": ME},
            {
                "kind": "sqlite",
                "path": str(db),
                "owner": ME,
                "columns": {"m": ["body"], "x": ["y"]},
            },
        ]
    )
    assert got[0]["size"] == len(ODD.encode()) and got[0]["mode"] == 0o640
    assert got[0]["owner"] == ME
    assert got[1] == {"kind": "file", "path": str(tmp_path / "none"), "missing": True}
    assert got[2]["tables"]["m"] and got[2]["tables"]["x"] is None


def test_apply_seed_writes_files_folders_and_databases(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "note.md"
    db = tmp_path / "chat.db"
    spec = {
        "schema": ["CREATE TABLE m (body TEXT, raw BLOB)"],
        "tables": [{"table": "m", "columns": ["body", "raw"], "rows": [[ODD, {"$b64": "AP8="}]]}],
    }
    ops = [
        {"op": "dir", "path": str(tmp_path / "d"), "owner": ME, "mode": 0o700},
        {
            "op": "file",
            "path": str(target),
            "owner": ME,
            "mode": 0o600,
            "mtime": 1_700_000_000,
            "data": ODD.encode(),
        },
        {
            "op": "sqlite",
            "path": str(db),
            "owner": ME,
            "mode": 0o644,
            "data": json.dumps(spec).encode(),
        },
    ]
    assert apply_seed.apply_stream(bundle(ops)) == {"ok": 3}
    assert target.read_bytes() == ODD.encode() and int(target.stat().st_mtime) == 1_700_000_000
    assert (target.stat().st_mode & 0o777, (tmp_path / "d").stat().st_mode & 0o777) == (
        0o600,
        0o700,
    )
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT body, raw FROM m").fetchall() == [(ODD, b"\x00\xff")]
    refused = apply_seed.apply_stream(bundle([{**ops[0], "owner": "no-such-user-x"}]))
    assert refused == {
        "error": "input",
        "message": "operation #0: no user 'no-such-user-x' on this machine",
    }


def test_set_zone_points_localtime_at_the_zone(tmp_path: Path) -> None:
    zone = tmp_path / "usr/share/zoneinfo/Europe/Berlin"
    zone.parent.mkdir(parents=True)
    zone.write_bytes(b"TZif")
    (tmp_path / "etc").mkdir()
    assert set_clock.set_zone("Europe/Berlin", str(tmp_path)) is True
    assert os.readlink(tmp_path / "etc/localtime") == str(zone)
    assert (tmp_path / "etc/timezone").read_text() == "Europe/Berlin\n"
    assert set_clock.set_zone("Mars/Olympus", str(tmp_path)) is False


def test_the_helper_runs_programs_as_main_and_answers_in_frames() -> None:
    out, err, code = helper_server.run(source("sqlite_rows"), b"not json")
    assert code == 1 and "JSONDecodeError" in err and out == ""
    assert helper_server.run("import sys; print(sys.stdin.read()[::-1]); sys.exit(4)", b"abc") == (
        "cba\n",
        "",
        4,
    )

    def framed(obj: dict) -> bytes:
        blob = json.dumps(obj).encode()
        return struct.pack(">Q", len(blob)) + blob

    src = io.BytesIO(framed({"program": "print(__name__)", "input": ""}))
    dst = io.BytesIO()
    with pytest.raises(helper_server.Closed):
        helper_server.serve(src, dst)
    reply = dst.getvalue()
    assert json.loads(reply[8:]) == {"stdout": "__main__\n", "stderr": "", "code": 0}


def _find_sha256sum(root: str, cwd: Path) -> dict[str, str]:
    """What the shell's way names: ``find ROOT -type f | sha256sum``, parsed like the reader."""
    q = shlex.quote(root)
    out = subprocess.run(
        ["bash", "-c", f"[ -d {q} ] && find {q} -type f -print0 | xargs -0 -r sha256sum; true"],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )
    found = {}
    for line in out.stdout.splitlines():
        digest, _, path = line.partition(" ")
        found[path.lstrip(" *")] = digest
    return found


def test_tree_hashes_names_what_find_and_sha256sum_name(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "sub dir" / "deeper").mkdir(parents=True)
    (home / "empty").mkdir()
    (home / "a.txt").write_text("abc")
    (home / "sub dir" / "it's $x `id` 50% 😀 日本.md").write_text(ODD)
    (home / "sub dir" / "deeper" / "big.bin").write_bytes(os.urandom(3 << 20))
    (home / "link-to-file").symlink_to(home / "a.txt")
    (home / "link-to-dir").symlink_to(home / "sub dir")
    os.mkfifo(home / "a fifo")
    (tmp_path / "dirlink").symlink_to(home)
    roots = [str(home), str(home) + "/", str(home / "sub dir"), str(tmp_path / "dirlink")]
    roots += [str(home / "a.txt"), str(tmp_path / "missing"), "home", "home/sub dir"]
    for root in roots:
        expected = _find_sha256sum(root, tmp_path)
        assert tree_hashes.hashes(root, str(tmp_path)) == expected, root
    assert len(tree_hashes.hashes(str(home), str(tmp_path))) == 3
    expected = _find_sha256sum(str(home / "sub dir"), tmp_path)
    assert tree_hashes.hashes("~/sub dir", str(home)) == expected
    # As a script, for the user it runs as (a VM test covers becoming another user).
    args = {"roots": [str(home), str(home / "sub dir")], "user": ME}
    out = _script("tree_hashes", json.dumps(args).encode())
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer == {r: _find_sha256sum(r, tmp_path) for r in args["roots"]}
    unknown = _script("tree_hashes", json.dumps({"roots": ["~"], "user": "no-such-user"}).encode())
    assert "error" in json.loads(unknown.stdout)
