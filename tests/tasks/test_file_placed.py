"""``file.placed``: a file at any path under the laptop's home or the phone's /sdcard, from
inline text or bytes bundled in the task folder, with its mode and mtime."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.compile import compile_plans, compile_stream
from tasks.events import EVENT_ADAPTER
from tasks.folder import load_task
from tasks.stream import dumps, parse_stream

FIXTURE = Path(__file__).parent / "fixtures" / "place-files"
PDF = (FIXTURE / "files" / "invoice.pdf").read_bytes()


def test_bundled_bytes_are_read_and_carried_by_the_stream():
    loaded = load_task(FIXTURE)
    placed = {e.path: e for e in loaded.plot}
    assert placed["~/Documents/Invoices/März invoice.pdf"].content() == PDF
    assert placed["/sdcard/Documents/Invoices/invoice.pdf"].content() == PDF
    stream = loaded.stream()
    again = parse_stream(dumps(stream).decode("utf-8"))
    assert again == stream  # the JSONL stream holds the bytes (base64), not only the name
    assert [e.content() for e in again] == [e.content() for e in stream]


def test_compiled_to_their_paths_with_mode_and_mtime_on_both_devices():
    loaded = load_task(FIXTURE)
    plans = compile_plans(loaded, loaded.stream())
    laptop = {r.path: r for r in plans["laptop"].records}
    script = laptop["~/bin/backup.sh"]
    assert script.mode == 0o750
    assert script.mtime == datetime.fromisoformat("2026-02-14T12:00:00+01:00")
    invoice = laptop["~/Documents/Invoices/März invoice.pdf"]
    assert (invoice.content, invoice.mode) == (PDF, 0o600)
    assert invoice.mtime == datetime.fromisoformat("2026-03-15T09:00:00+01:00")  # mtime = t
    assert laptop["~/Documents/errands.md"].content.decode().startswith('# Errands\n- "quotes"')
    phone = {f.path: f for f in plans["phone"].files}
    assert phone["/sdcard/Documents/Invoices/invoice.pdf"].data == PDF
    assert phone["/sdcard/Documents/errands.md"].data == "milk 🥛\n".encode()


def test_a_stream_event_without_its_bytes_cannot_be_seeded():
    event = EVENT_ADAPTER.validate_python(
        {
            "t": "2026-03-15T09:00:00+01:00",
            "kind": "file.placed",
            "target": "laptop",
            "path": "~/a.pdf",
            "source": "files/a.pdf",
        }
    )
    try:
        compile_stream({"laptop": "linux"}, "Europe/Berlin", [event])
    except ValueError as exc:
        assert "was not read" in str(exc)
    else:
        raise AssertionError("compiled a placed file without its bytes")


names = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00/", exclude_categories=("Cs", "Cc")),
    min_size=1,
    max_size=20,
).filter(lambda s: s not in (".", ".."))


@settings(max_examples=50, deadline=None)
@given(name=names, text=st.text(max_size=40))
def test_any_name_under_home_stays_under_home(name: str, text: str):
    event = EVENT_ADAPTER.validate_python(
        {
            "t": "2026-03-15T09:00:00+01:00",
            "kind": "file.placed",
            "target": "laptop",
            "path": f"~/Documents/{name}",
            "text": text,
        }
    )
    plans = compile_stream({"laptop": "linux"}, "Europe/Berlin", [event])
    (record,) = plans["laptop"].records
    assert record.path == f"~/Documents/{name}" and record.content == text.encode()
