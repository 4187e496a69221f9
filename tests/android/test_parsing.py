"""Host-side parsing and command building: no device needed."""

from __future__ import annotations

import io
import shlex
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from emulator.device import (
    decode_raw_screencap,
    input_text_commands,
    parse_focus,
    parse_rotation,
    parse_wm_size,
)
from emulator.errors import AndroidError, AndroidInputError
from emulator.readers import _decode_cell, parse_content_rows, sqlite_select_command
from emulator.seeding import insert_command, sql_literal


def test_content_rows_with_commas_newlines_and_nulls() -> None:
    text = (
        "Row: 0 _id=1, address=+1 555, body=hello, body=not a column\nsecond line, date=5\n"
        "Row: 1 _id=2, address=NULL, body=, date=7\n"
    )
    rows = parse_content_rows(text, ["_id", "address", "body", "date"], {"_id": int})
    assert rows == [
        {
            "_id": 1,
            "address": "+1 555",
            "body": "hello, body=not a column\nsecond line",
            "date": "5",
        },
        {"_id": 2, "address": None, "body": "", "date": "7"},
    ]


def test_content_rows_split_only_at_the_next_row_number() -> None:
    text = "Row: 0 _id=1, body=a\nRow: 5 fake\n\nRow: 1 _id=2, body=b\n"
    rows = parse_content_rows(text, ["_id", "body"])
    assert [r["body"] for r in rows] == ["a\nRow: 5 fake\n", "b"]


def test_content_rows_empty_and_garbage() -> None:
    assert parse_content_rows("No result found.\n", ["_id"]) == []
    with pytest.raises(AndroidError, match="Row: 0"):
        parse_content_rows("Error while accessing provider:sms\n", ["_id"])


def _simulate_input_text(cmds: list[str]) -> str:
    """What Android's ``input text``/``keyevent`` would type for these shell commands."""
    typed = ""
    for cmd in cmds:
        words = shlex.split(cmd)
        if words[:2] == ["input", "keyevent"]:
            typed += {"66": "\n", "61": "\t"}[words[2]]
            continue
        assert words[:2] == ["input", "text"] and len(words) == 3
        arg, i = words[2], 0
        while i < len(arg):  # Android replaces every "%s" with a space
            if arg[i] == "%" and i + 1 < len(arg) and arg[i + 1] == "s":
                typed += " "
                i += 2
            else:
                typed += arg[i]
                i += 1
    return typed


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list(" %s$`'\"\\;&|()<>*?!#~\n\tab01")), max_size=40))
def test_input_text_escaping_round_trips(text: str) -> None:
    assert _simulate_input_text(input_text_commands(text)) == text


def test_input_text_rejects_unicode() -> None:
    with pytest.raises(AndroidInputError):
        input_text_commands("café")


def test_raw_screencap_formats() -> None:
    img = Image.new("RGB", (3, 2), (10, 20, 30))
    img.putpixel((2, 1), (200, 100, 50))
    rgba = img.convert("RGBA").tobytes()
    for header in (struct.pack("<3I", 3, 2, 1), struct.pack("<4I", 3, 2, 1, 0)):
        out = decode_raw_screencap(header + rgba)
        assert out.mode == "RGB" and out.size == (3, 2)
        assert out.getpixel((2, 1)) == (200, 100, 50)
    bgra = bytearray(rgba)
    bgra[0::4], bgra[2::4] = rgba[2::4], rgba[0::4]
    assert decode_raw_screencap(struct.pack("<3I", 3, 2, 5) + bytes(bgra)).getpixel((2, 1)) == (
        200,
        100,
        50,
    )
    with pytest.raises(AndroidError, match="do not hold"):
        decode_raw_screencap(struct.pack("<3I", 3, 2, 1) + rgba[:-4])
    png = io.BytesIO()
    img.save(png, "PNG")
    with pytest.raises(AndroidError):
        decode_raw_screencap(png.getvalue())


def test_window_and_focus_parsing() -> None:
    assert parse_wm_size("Physical size: 1080x2400\n") == (1080, 2400)
    assert parse_wm_size("Physical size: 1080x2400\nOverride size: 720x1600\n") == (720, 1600)
    assert parse_rotation("  mCurrentOrientation=1\n") == 1
    assert parse_rotation("nothing") == 0
    text = "  mCurrentFocus=Window{5e1 u0 com.android.contacts/.ContactsActivity}\n"
    assert parse_focus(text) == ("com.android.contacts", "com.android.contacts.ContactsActivity")
    text = "  mCurrentFocus=Window{5e1 u0 StatusBar}\n  mFocusedApp=ActivityRecord{9 u0 a.b/c.D t3}"
    assert parse_focus(text) == ("a.b", "c.D")
    assert parse_focus("mCurrentFocus=null") is None


@settings(max_examples=100)
@given(
    st.one_of(
        st.none(),
        st.integers(-(2**63), 2**63 - 1),
        st.text(),
        st.binary(),
    )
)
def test_sql_literal_and_cell_decoding_agree(value: object) -> None:
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (v)")
    db.execute(f"INSERT INTO t VALUES ({sql_literal(value)})")
    (cell,) = db.execute("SELECT typeof(v) || ':' || hex(v) FROM t").fetchone()
    assert _decode_cell(cell) == value


def test_commands_quote_hostile_values() -> None:
    cmd = insert_command("content://sms", {"body": "it's $HOME `id`\n", "date": 2**40, "n": None})
    assert shlex.split(cmd)[5] == "body:s:it's $HOME `id`\n"
    assert "date:l:1099511627776" in cmd and "--bind n:n:" in cmd
    with pytest.raises(AndroidInputError):
        sqlite_select_command("/d.db", "t; DROP TABLE x", ["a"])


@pytest.mark.parametrize(
    ("log", "snapshot", "kind"),
    [
        ("ERROR | x86_64 emulation currently requires hardware acceleration!", None, "NoKvm"),
        ("CPU acceleration status: /dev/kvm is not found", None, "NoKvm"),
        ("ERROR | port 5554 is already in use", None, "PortBusy"),
        ("qemu: could not bind to 127.0.0.1:5555: Address already in use", None, "PortBusy"),
        ("WARNING | Failed to load snapshot 'clean'", "clean", "SnapshotIncompatible"),
        ("WARNING | Failed to load snapshot 'clean'", None, "EmulatorExited"),
        ("PANIC: Unknown AVD name [x], use -list-avds to see valid list.", None, "SdkNotFound"),
        ("Segmentation fault", None, "EmulatorExited"),
    ],
)
def test_emulator_log_classification(log: str, snapshot: str | None, kind: str) -> None:
    from emulator.avd import classify_log

    found = classify_log(log, snapshot=snapshot)
    assert found is not None and found.__name__ == kind
    assert classify_log("INFO | boot completed", exited=False) is None
