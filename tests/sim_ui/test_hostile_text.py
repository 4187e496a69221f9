"""Text typed into a field and saved reads back byte for byte (hypothesis)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.sim.contracts import PhoneContext
from emulator.sim.ui.system import UiSystem
from tests.sim_ui.conftest import make_ctx
from tests.sim_ui.screen import find, tap, type_into

HOSTILE = [
    "'",
    '"',
    "$",
    "`",
    "\\",
    "%",
    "%s",
    "\n",
    "\t",
    "&",
    "<",
    ">",
    ";",
    "|",
    "*",
    "🎉",
    "👍🏽",
    "漢",
    "字",
    "한",
    "ß",
    "é",
    "\u200b",
    " ",
]
TEXT = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE),
        st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0x2FFFF),
    ),
    min_size=1,
    max_size=30,
).map("".join)
ONE_LINE = TEXT.map(lambda s: s.replace("\n", " "))


@pytest.fixture(scope="module")
def phone() -> Iterator[PhoneContext]:
    with tempfile.TemporaryDirectory() as tmp:
        ctx = make_ctx(Path(tmp))
        ctx.ui = UiSystem(ctx)
        yield ctx
        ctx.providers.close()  # type: ignore[attr-defined]


SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(text=TEXT)
def test_note_saved_byte_for_byte(phone: PhoneContext, text: str) -> None:
    ui = phone.ui
    assert isinstance(ui, UiSystem)
    path = "/sdcard/Documents/Notes/fuzz.md"
    phone.vfs.mkdir("/sdcard/Documents/Notes")
    phone.vfs.write_bytes(path, b"")
    ui.force_stop("net.gsantner.markor")
    ui.start("net.gsantner.markor")
    tap(ui, text="fuzz.md")
    type_into(ui, "editor", text)
    assert find(ui, rid="editor").text == text  # the dump carries it exactly
    tap(ui, text="Save")
    assert phone.vfs.read_bytes(path) == text.encode("utf-8")


@SETTINGS
@given(text=TEXT)
def test_sent_message_body_byte_for_byte(phone: PhoneContext, text: str) -> None:
    ui = phone.ui
    assert isinstance(ui, UiSystem)
    ui.force_stop("com.google.android.apps.messaging")
    ui.start("com.google.android.apps.messaging")
    tap(ui, text="Start chat")
    type_into(ui, "recipient", "+1 555 0142")
    tap(ui, text="Next")
    type_into(ui, "compose", text)
    before = len(phone.providers.query("content://sms/sent", ["_id"]))
    tap(ui, text="Send")
    rows = phone.providers.query("content://sms/sent", ["body"], sort="_id DESC")
    if text.strip():
        assert rows[0]["body"] == text
    else:  # like the real app, a blank message is not sent
        assert len(rows) == before


def test_blank_message_is_not_sent(phone: PhoneContext) -> None:
    test_sent_message_body_byte_for_byte.hypothesis.inner_test(phone, " \n ")  # type: ignore


@SETTINGS
@given(first=ONE_LINE)
def test_contact_name_byte_for_byte(phone: PhoneContext, first: str) -> None:
    ui = phone.ui
    assert isinstance(ui, UiSystem)
    ui.force_stop("com.android.contacts")
    ui.start("com.android.contacts")
    tap(ui, text="Add contact")
    type_into(ui, "first_name", first)
    type_into(ui, "phone", "+1 555 0100")
    tap(ui, text="Save")
    rows = phone.providers.query(
        "content://com.android.contacts/data",
        ["data2"],
        "mimetype=?",
        ["vnd.android.cursor.item/name"],
        sort="_id DESC",
    )
    assert rows[0]["data2"] == first.strip() or first.strip() == ""
    if first.strip():
        assert find(ui, rid="large_title").text == first.strip()


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_dump_escaping_round_trips_through_an_xml_parser(text: str) -> None:
    import re
    import xml.etree.ElementTree as ET

    from emulator.sim.ui.hierarchy import escape

    parsed = ET.fromstring(f'<node text="{escape(text)}" />'.encode()).get("text")
    expected = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "\ufffd", text)
    assert parsed == expected
