"""Secrets in base64 and in files that devices and services wrote into a record
(issue 12, item 9)."""

from __future__ import annotations

import base64
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.redact import MASK, Redactor, base64_forms

SECRET = "Qx7vLm2pRt9wKe4s"
ROOT = Path(__file__).resolve().parents[1]


@settings(max_examples=200, deadline=None)
@given(prefix=st.binary(max_size=40), suffix=st.binary(max_size=40), urlsafe=st.booleans())
def test_base64_of_a_secret_is_masked_at_any_offset(prefix: bytes, suffix: bytes, urlsafe: bool):
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    blob = encode(prefix + SECRET.encode() + suffix).decode()
    out = Redactor([SECRET]).text(f"Authorization: Basic {blob}\n")
    assert MASK in out
    # What is left of the encoding cannot be decoded back to the secret.
    left = out.split("Basic ", 1)[1].split(MASK)
    for piece in left:
        for start in range(4):
            chunk = piece[start:]
            chunk = chunk[: len(chunk) // 4 * 4]
            try:
                decoded = base64.b64decode(chunk + "==", altchars=b"-_" if urlsafe else None)
            except ValueError:
                continue
            assert SECRET.encode() not in decoded


def test_short_base64_fragments_are_not_masked() -> None:
    # Only fragments of 8 characters or more are masked: shorter ones match ordinary text.
    assert base64_forms("abcdef") == {"YWJjZGVm"}
    text = "Dinner at 19:30 — 你好 🎉 YWJj"
    assert Redactor([SECRET, "abcdef"]).text(text) == text


def test_scrub_tree_cleans_databases_text_and_leaves_binaries(tmp_path: Path) -> None:
    db = tmp_path / "fs" / "mmssms.db"
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE sms (_id INTEGER PRIMARY KEY, body TEXT, raw BLOB, n INTEGER)")
    conn.execute(
        "INSERT INTO sms (body, raw, n) VALUES (?, ?, 1)",
        (f"my key is {SECRET} ok", f"blob {SECRET}".encode()),
    )
    conn.execute("INSERT INTO sms (body, n) VALUES ('nothing here', 2)")
    conn.commit()
    conn.close()  # WAL mode: the rows may still be only in the -wal file
    note = tmp_path / "fs" / "note.md"
    note.write_text(f"# keys\n{SECRET}\n{base64.b64encode(SECRET.encode()).decode()}\n")
    png = tmp_path / "fs" / "shot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\0\0" + SECRET.encode())
    changed = Redactor([SECRET]).scrub_tree(tmp_path)
    assert set(changed) == {db, note}
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != png:
            assert SECRET.encode() not in path.read_bytes(), path
    rows = sqlite3.connect(db).execute("SELECT body, raw, n FROM sms ORDER BY _id").fetchall()
    assert rows == [(f"my key is {MASK} ok", f"blob {MASK}".encode(), 1), ("nothing here", None, 2)]
    assert png.read_bytes().endswith(SECRET.encode())  # pixels are not redacted


@pytest.mark.integration
def test_a_key_typed_on_the_phone_is_not_in_the_run_folder(tmp_path: Path) -> None:
    task = tmp_path / "task"
    shutil.copytree(ROOT / "tests" / "mcp" / "fixtures" / "add-contact", task)
    oracle = task / "oracle.py"
    oracle.write_text(oracle.read_text().replace('"Ada"', repr(SECRET)))
    assert SECRET in oracle.read_text()
    out = tmp_path / "out"
    env = {**os.environ, "CLAWRIG_TEST_API_KEY": SECRET}
    r = subprocess.run(
        [sys.executable, "-m", "rig.cli", "run", str(task), "--agent", "oracle", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode in (0, 1), r.stderr
    leaks = [p for p in out.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert not leaks
    contacts = next(out.rglob("contacts2.db"))
    names = sqlite3.connect(contacts).execute("SELECT data1 FROM data").fetchall()
    assert (f"{MASK} Lovelace",) in names
