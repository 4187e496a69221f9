"""The phone's sqlite3 opens only files inside the phone (issue 12, item 4).

``ATTACH DATABASE`` and ``VACUUM INTO`` name files: a device path there means the
phone's file, and no spelling of a name reaches a file on the host.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

DB = "/data/local/tmp/a.db"


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    """A host directory outside the phone's root (which is tmp_path/fs)."""
    d = tmp_path / "host"
    d.mkdir()
    return d


def _seed(run) -> None:
    run.out(f"sqlite3 {DB} \"create table t(x); insert into t values ('on the phone')\"")


@pytest.mark.parametrize(
    "sql",
    [
        "ATTACH DATABASE '{p}' AS h; CREATE TABLE h.x(y)",
        "attach '{p}' as h; create table h.x(y)",
        "VACUUM INTO '{p}'",
        "vacuum main into '{p}'",
        "ATTACH '{p}' || '' AS h; CREATE TABLE h.x(y)",
        "/* c */ ATTACH '{p}' AS h; CREATE TABLE h.x(y)",
        "ATTACH 'file:{p}?mode=rwc' AS h; CREATE TABLE h.x(y)",
    ],
)
def test_no_statement_creates_a_host_file(run, host_dir: Path, vfs, sql: str) -> None:
    _seed(run)
    target = host_dir / "stolen.db"
    status, _out, err = run(f'sqlite3 {DB} "{sql.format(p=target)}"')
    assert not target.exists(), err
    # A plain device path of the same name may land in the phone, never on the host.
    assert not any(host_dir.iterdir())
    if status == 0:
        assert vfs.host_path(str(target)).exists()


def test_attach_reads_no_host_database(run, host_dir: Path) -> None:
    secret = host_dir / "host.db"
    with sqlite3.connect(secret) as conn:
        conn.execute("create table s(v)")
        conn.execute("insert into s values ('host secret')")
    conn.close()
    _seed(run)
    status, out, err = run(f"sqlite3 {DB} \"ATTACH '{secret}' AS h; SELECT v FROM h.s\"")
    assert "host secret" not in out
    assert status != 0, (out, err)


def test_a_symlink_out_of_the_phone_is_refused(run, host_dir: Path, vfs) -> None:
    _seed(run)
    os.symlink(host_dir, vfs.host_path("/data/local/tmp") / "out")
    status, _out, _err = run(f"sqlite3 {DB} \"VACUUM INTO '/data/local/tmp/out/v.db'\"")
    assert status != 0
    assert not (host_dir / "v.db").exists()


def test_host_directory_pragmas_are_refused(run, host_dir: Path) -> None:
    _seed(run)
    status, _out, err = run(f"sqlite3 {DB} \"PRAGMA temp_store_directory = '{host_dir}'\"")
    assert status != 0 and "not authorized" in err


def test_device_paths_in_attach_and_vacuum_into_are_the_phones_files(run, vfs) -> None:
    _seed(run)
    run.out(f"sqlite3 {DB} \"VACUUM INTO '/sdcard/Download/copy.db'\"")
    assert vfs.host_path("/sdcard/Download/copy.db").is_file()
    out = run.out(
        f"cd /sdcard && sqlite3 {DB} \"ATTACH 'Download/copy.db' AS c; SELECT x FROM c.t\""
    )
    assert out == "on the phone\n"
    assert run.out(f"sqlite3 {DB} \"ATTACH ':memory:' AS m; SELECT 1\"") == "1\n"
