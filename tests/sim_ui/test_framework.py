"""The window manager and toolkit: dump format, pixels under bounds, keys, back stack, state."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from emulator.sim.contracts import PhoneContext
from emulator.sim.ui import render
from emulator.sim.ui.system import LAUNCHER, UiSystem
from tests.sim_ui.conftest import make_ctx
from tests.sim_ui.screen import dark_pixels, find, find_all, nodes, tap, type_into
from tests.sim_ui.test_apps import add_contact

ATTR_ORDER = [
    "index",
    "text",
    "resource-id",
    "class",
    "package",
    "content-desc",
    "checkable",
    "checked",
    "clickable",
    "enabled",
    "focusable",
    "focused",
    "scrollable",
    "long-clickable",
    "password",
    "selected",
    "bounds",
]


def test_dump_matches_androids_format(ui: UiSystem) -> None:
    ui.start("com.android.settings")
    xml = ui.hierarchy_xml()
    assert xml.startswith(
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
        '<hierarchy rotation="0"><node index="0" text="" resource-id=""'
        ' class="android.widget.FrameLayout" package="com.android.settings"'
    )
    assert xml.endswith("</hierarchy>")
    for tag in re.findall(r"<node [^>]*>", xml):
        assert re.findall(r' ([a-z-]+)="', tag) == ATTR_ORDER, tag
    root = ET.fromstring(xml.encode())
    assert root.tag == "hierarchy"
    for n in nodes(ui):
        x1, y1, x2, y2 = n.bounds
        assert 0 <= x1 < x2 <= 1080 and 0 <= y1 < y2 <= 2400
    # The navigation bar is a window of its own, as on a phone.
    assert find(ui, desc="Back").attrs["package"] == "com.android.systemui"


def test_every_visible_text_is_drawn_inside_its_bounds(ui: UiSystem) -> None:
    for pkg in ("com.android.settings", LAUNCHER):
        ui.start(pkg)
        img = ui.screenshot()
        texts = [n for n in nodes(ui) if n.text and n.attrs["class"] == "android.widget.TextView"]
        assert len(texts) >= 4
        for n in texts:
            if pkg == LAUNCHER and n.attrs["clickable"] == "true":
                continue  # an icon's label is white-on-colour for the initial; checked below
            assert dark_pixels(img, n.bounds) > 20, n.attrs
    # Outside any text, a blank stretch of the settings list stays background-white.
    ui.start("com.android.settings")
    img = ui.screenshot()
    assert dark_pixels(img, (0, 2000, 1080, 2200)) == 0


def test_tapping_a_nodes_bounds_reaches_it(ui: UiSystem, ctx: PhoneContext) -> None:
    ui.start("com.android.settings")
    wifi = find(ui, rid="wifi_on")
    x1, y1, x2, y2 = wifi.bounds
    before = wifi.attrs["checked"]
    ui.tap(x1 + 2, y1 + 2)  # a corner, not just the centre
    assert find(ui, rid="wifi_on").attrs["checked"] != before
    ui.tap(x2 - 2, y2 - 2)
    assert find(ui, rid="wifi_on").attrs["checked"] == before
    ui.tap(540, 2150)  # empty space below the list does nothing
    assert find(ui, rid="wifi_on").attrs["checked"] == before


def test_hostile_text_is_escaped_in_the_dump(ctx: PhoneContext, ui: UiSystem) -> None:
    name = 'Zoë "Q" <b>&amp; $HOME `id` 100% 李小龙 🎉'
    add_contact(ctx, name, "+1555")
    ui.start("com.android.contacts")
    assert find(ui, text=name)  # parsed back from the XML, byte for byte
    assert "&lt;b&gt;&amp;amp;" in ui.hierarchy_xml()
    tap(ui, text=name)
    big = find(ui, rid="large_title")
    assert big.text == name
    assert dark_pixels(ui.screenshot(), big.bounds) > 500


def test_cjk_and_emoji_render(ui: UiSystem) -> None:
    # CJK comes from Noto: its drawing differs from the missing-glyph box DejaVu would draw.
    img_cjk = Image.new("RGB", (400, 100), "white")
    render.Canvas(img_cjk).text(0, 0, "漢字", 40, render.INK)
    img_tofu = Image.new("RGB", (400, 100), "white")
    canvas = render.Canvas(img_tofu)
    canvas.draw.text((0, 0), "漢字", font=render.font(40), fill=render.INK)
    assert img_cjk.tobytes() != img_tofu.tobytes()
    assert dark_pixels(img_cjk, (0, 0, 400, 100)) > 300
    assert list(render.runs("ab漢字cd")) == [("ab", "latin"), ("漢字", "cjk"), ("cd", "latin")]
    # Emoji: tests/sim_ui/test_emoji.py.


def test_status_bar_shows_the_phone_clock(ctx: PhoneContext, ui: UiSystem) -> None:
    ctx.clock.set(datetime(2026, 3, 4, 17, 42, tzinfo=UTC))
    clock = find(ui, rid="clock")
    assert clock.text == "17:42"
    first = ui.screenshot()
    assert dark_pixels(first, clock.bounds) > 50
    ctx.clock.set(datetime(2026, 3, 4, 18, 5, tzinfo=UTC))
    assert find(ui, rid="clock").text == "18:05"
    assert ui.screenshot().crop(clock.bounds).tobytes() != first.crop(clock.bounds).tobytes()
    assert find(ui, rid="date").text == "Wednesday, March 4"


def test_frames_are_cached_until_the_screen_changes(ui: UiSystem) -> None:
    png1 = ui.screenshot_png()
    png2 = ui.screenshot_png()
    assert png1 is png2  # same cached object: nothing was redrawn or re-encoded
    img = Image.open(io.BytesIO(png1))
    assert img.size == (1080, 2400) and img.mode == "RGB"
    ui.start("com.android.settings")
    png3 = ui.screenshot_png()
    assert png3 != png1
    raw = ui.screenshot_raw()
    assert raw[:16] == (1080).to_bytes(4, "little") + (2400).to_bytes(4, "little") + (1).to_bytes(
        4, "little"
    ) + (0).to_bytes(4, "little")
    assert len(raw) == 16 + 1080 * 2400 * 4


def test_display_size_follows_the_context(ctx: PhoneContext, ui: UiSystem) -> None:
    ctx.display.width, ctx.display.height, ctx.display.density = 720, 1280, 320
    assert ui.screenshot().size == (720, 1280)
    assert find(ui, desc="Home").bounds[3] == 1280


def test_back_home_and_recents(ui: UiSystem, ctx: PhoneContext) -> None:
    raw = add_contact(ctx, "Edsger Dijkstra", "+31 20 555 0000")
    assert raw
    ui.start("com.android.contacts")
    tap(ui, text="Edsger Dijkstra")
    assert ui.focus()[1].endswith("QuickContactActivity")
    ui.keyevent(3)  # HOME
    assert ui.focus()[0] == LAUNCHER
    ui.keyevent(187)  # APP_SWITCH
    assert find(ui, rid="snapshot").attrs["clickable"] == "true"
    tap(ui, text="Contacts")
    assert ui.focus()[1].endswith("QuickContactActivity")  # resumed where it was
    ui.keyevent(4)
    assert ui.focus()[1].endswith("PeopleActivity")
    tap(ui, desc="Back")
    assert ui.focus()[0] == LAUNCHER
    ui.keyevent(4)  # nothing below the home screen
    assert ui.focus()[0] == LAUNCHER


def test_start_force_stop_and_packages(ui: UiSystem) -> None:
    assert ui.start("com.android.calendar", "com.android.calendar.event.EditEventActivity")
    assert ui.focus() == ("com.android.calendar", "com.android.calendar.event.EditEventActivity")
    assert find(ui, rid="title").attrs["class"] == "android.widget.EditText"
    assert ui.start("com.android.settings", ".Settings")
    assert not ui.start("com.example.nothing")
    assert not ui.start("com.android.settings", ".NoSuchActivity")
    assert ui.focus()[0] == "com.android.settings"
    ui.force_stop("com.android.settings")
    assert ui.focus()[0] == LAUNCHER
    pkgs = dict(ui.packages())
    for pkg in (
        "com.android.contacts",
        "com.google.android.apps.messaging",
        "com.android.calendar",
        "com.android.deskclock",
        "com.android.settings",
        "com.android.documentsui",
        "net.gsantner.markor",
        LAUNCHER,
    ):
        assert pkgs[pkg].endswith(".apk")


def test_keys_edit_the_focused_field(ui: UiSystem) -> None:
    ui.start("com.android.contacts")
    tap(ui, text="Add contact")
    ui.keyevent(36)  # KEYCODE_H: nothing focused yet, nothing typed
    assert find(ui, rid="first_name").text == "First name"  # empty: its hint, as on Android
    type_into(ui, "first_name", "Bob")
    assert find(ui, rid="first_name").attrs["focused"] == "true"
    ui.keyevent(21)  # DPAD_LEFT
    ui.keyevent(67)  # DEL removes the "o"
    ui.text("a")
    ui.keyevent(22)  # DPAD_RIGHT
    ui.keyevent(36)  # KEYCODE_H
    assert find(ui, rid="first_name").text == "Babh"
    ui.keyevent(122)  # MOVE_HOME
    ui.keyevent(112)  # FORWARD_DEL
    assert find(ui, rid="first_name").text == "abh"
    ui.keyevent(66)  # ENTER in a one-line field moves to the next field
    assert find(ui, rid="last_name").attrs["focused"] == "true"
    ui.text("x\ny")  # a newline in one-line text is the IME action too
    assert find(ui, rid="last_name").text == "x"
    assert find(ui, rid="phone").text == "y"
    ui.keyevent(61)  # TAB
    assert find(ui, rid="email").attrs["focused"] == "true"


def test_dialog_cancels_on_outside_tap_and_back(ui: UiSystem, ctx: PhoneContext) -> None:
    add_contact(ctx, "Barbara Liskov", "+1 617 555 0100")
    ui.start("com.android.contacts")
    tap(ui, text="Barbara Liskov")
    plain = ui.screenshot()
    tap(ui, text="Delete")
    assert find(ui, rid="alertTitle")
    assert not find_all(ui, text="Edit")  # the activity behind is not in the dump
    dimmed = ui.screenshot()
    assert sum(dimmed.convert("L").histogram()[200:]) < sum(plain.convert("L").histogram()[200:])
    ui.tap(540, 300)  # outside the card
    assert not find_all(ui, rid="alertTitle")
    tap(ui, text="Delete")
    card = find(ui, rid="message")
    ui.tap(*card.center)  # inside the card, not on a button: stays open
    assert find(ui, rid="alertTitle")
    ui.keyevent(4)
    assert not find_all(ui, rid="alertTitle")
    assert find(ui, text="Edit")
    assert len(ctx.providers.query("content://com.android.contacts/raw_contacts", ["_id"])) == 1


def test_lists_scroll_and_fling(ctx: PhoneContext, ui: UiSystem) -> None:
    for i in range(40):
        add_contact(ctx, f"Person {i:02d}", f"+1 555 01{i:02d}")
    ui.start("com.android.contacts")
    lst = find(ui, rid="list")
    assert lst.attrs["scrollable"] == "true"
    _, ly1, _, ly2 = lst.bounds
    assert find(ui, text="Person 00")
    assert not find_all(ui, text="Person 39")
    for n in find_all(ui, rid="contact"):  # rows are clipped to the list's viewport
        assert ly1 <= n.bounds[1] and n.bounds[3] <= ly2
    ui.swipe(540, 1800, 540, 1000, 600)  # slow drag: content moves by the finger's distance
    first = find_all(ui, rid="contact")[0]
    assert not find_all(ui, text="Person 00")
    tap(ui, text="Person 12")  # tapping a row after scrolling opens that row
    assert find(ui, rid="large_title").text == "Person 12"
    ui.keyevent(4)
    assert find_all(ui, rid="contact")[0].text == first.text  # scroll position kept

    def offset() -> int:
        return int(ui.state()["stack"][-1]["scroll"])

    start = offset()
    assert start == 800  # the slow drag moved content exactly as far as the finger
    ui.swipe(540, 1800, 540, 1400, 100)  # a short fast fling goes further than its distance
    assert offset() - start > 400
    for _ in range(10):
        ui.swipe(540, 1800, 540, 600, 100)
    assert find(ui, text="Person 39")  # clamped at the end, last row visible
    ui.keyevent(92)  # PAGE_UP
    ui.swipe(540, 600, 540, 2000, 100)
    ui.swipe(540, 600, 540, 2000, 100)
    ui.swipe(540, 600, 540, 2000, 100)
    assert find(ui, text="Person 00")


def test_swipe_in_place_is_a_long_press_or_tap(ui: UiSystem) -> None:
    icon = find(ui, text="Settings")
    ui.swipe(*icon.center, *icon.center, 800)
    assert ui.focus()[0] == "com.android.settings"
    ui.keyevent(3)
    ui.long_press(*find(ui, text="Clock").center, 1000)
    assert ui.focus()[0] == "com.android.deskclock"


def test_drafts_survive_restart_and_restore(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ui = UiSystem(ctx)
    ctx.ui = ui
    ui.start("com.google.android.apps.messaging")
    tap(ui, text="Start chat")
    type_into(ui, "recipient", "+1 555 0000")
    tap(ui, text="Next")
    type_into(ui, "compose", 'half-typed "draft" $x 你好')
    saved = ui.state()
    assert json.loads(json.dumps(saved)) == saved
    # A new UiSystem on the same state directory (a restarted phone) comes back to the draft.
    again = UiSystem(ctx)
    assert again.focus()[1].endswith("ConversationActivity")
    assert find(again, rid="compose").text == 'half-typed "draft" $x 你好'
    assert find(again, rid="compose").attrs["focused"] == "true"
    # restore() puts back an earlier state.
    again.keyevent(3)
    again.start("com.android.settings")
    again.restore(saved)
    assert find(again, rid="compose").text == 'half-typed "draft" $x 你好'
    again.keyevent(4)
    assert again.focus()[1].endswith("ConversationListActivity")
    # A damaged ui.json means a fresh home screen, not a dead phone.
    (tmp_path / "ui.json").write_text("{not json")
    assert UiSystem(ctx).focus()[0] == LAUNCHER
    ctx.providers.close()  # type: ignore[attr-defined]


def test_a_crashing_app_returns_home_and_the_phone_keeps_working(
    ui: UiSystem, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from emulator.sim.ui.apps.contacts import ContactsApp
    from emulator.sim.ui.apps.settings import SettingsApp

    def boom(*_: object) -> None:
        raise RuntimeError("bug in an app")

    ui.start("com.android.contacts")
    tap(ui, text="Add contact")
    monkeypatch.setattr(ContactsApp, "save", boom)
    tap(ui, text="Save")
    assert ui.focus()[0] == LAUNCHER
    assert "com.android.contacts crashed" in caplog.text
    monkeypatch.setattr(SettingsApp, "screen_main", boom)
    assert ui.start("com.android.settings")
    assert find(ui, text="Calendar")  # the home screen, drawn instead of the broken app
    assert ui.focus()[0] == LAUNCHER
    tap(ui, text="Calendar")
    assert ui.focus()[0] == "com.android.calendar"


def test_ui_system_is_the_contracts_ui(ui: UiSystem) -> None:
    from emulator.sim.contracts import Ui

    assert isinstance(ui, Ui)
    sources = Path(__file__).resolve().parents[2] / "emulator" / "sim" / "ui"
    for path in sources.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) (rig|scoring)\b", text, re.M), path


def test_tapping_inside_text_moves_the_caret_there(ui: UiSystem, ctx: PhoneContext) -> None:
    ctx.vfs.mkdir("/sdcard/Documents/Notes")
    ctx.vfs.write_bytes("/sdcard/Documents/Notes/c.md", b"first line\nsecond line\n")
    ui.start("net.gsantner.markor")
    tap(ui, text="c.md")
    editor = find(ui, rid="editor")
    x1, y1, _, _ = editor.bounds
    before = ui.screenshot()
    # Just left of the second line's start: the caret goes to offset 11.
    lh = render.line_height(ui.m.dp(16))
    ui.tap(x1 + ui.m.dp(12) + 1, y1 + ui.m.dp(16) + lh + lh // 2)
    ui.text(">> ")
    assert find(ui, rid="editor").text == "first line\n>> second line\n"
    assert ui.screenshot().tobytes() != before.tobytes()
    ui.tap(x1 + 5, editor.bounds[3] - 5)  # below the text: the end
    ui.text("end")
    assert find(ui, rid="editor").text == "first line\n>> second line\nend"


def test_restore_drops_what_it_cannot_use(ui: UiSystem) -> None:
    ui.restore(
        {
            "stack": [
                {"pkg": "com.example.gone", "screen": "main"},
                {"pkg": "com.android.settings", "screen": "no_such_screen"},
                "not an entry",
                {"pkg": "com.android.contacts", "screen": "edit", "form": {"first_name": "Kept"}},
            ],
            "recents": {
                "com.android.calendar": [
                    {"pkg": "com.android.calendar", "screen": "main", "args": None}
                ],
                "com.example.gone": [],
            },
        }
    )
    assert ui.focus() == (
        "com.android.contacts",
        "com.android.contacts.activities.ContactEditorActivity",
    )
    assert find(ui, rid="first_name").text == "Kept"
    assert list(ui.recents) == ["com.android.calendar"]
    ui.start("com.android.calendar")
    assert find(ui, text="Agenda")
    ui.restore({})
    assert ui.focus()[0] == LAUNCHER


def test_a_change_only_in_looks_is_redrawn(ctx: PhoneContext, ui: UiSystem) -> None:
    ctx.providers.insert("content://sms/inbox", {"address": "+1 555 0100", "body": "hi", "read": 0})
    ui.open_shade()
    tap(ui, text="Clear all")  # no notification icon to change with the read state
    ui.start("com.google.android.apps.messaging")
    xml, unread = ui.hierarchy_xml(), ui.screenshot_png()
    assert ui.screenshot_png() is unread  # nothing changed: served from the cache
    ctx.providers.update("content://sms", {"read": 1})  # e.g. `content update` over adb
    assert ui.hierarchy_xml() == xml  # same texts and bounds; only the weight changed
    assert ui.screenshot_png() != unread


def test_a_long_one_line_field_shows_its_end_while_typing(ui: UiSystem) -> None:
    ui.start("com.android.contacts")
    tap(ui, text="Add contact")
    type_into(ui, "email", "a.very.long.address.that.does.not.fit@example-domain.org")
    x1, y1, x2, y2 = find(ui, rid="email").bounds
    inner = (x1 + ui.m.dp(8), y1 + ui.m.dp(8), x2 - ui.m.dp(8), y2 - ui.m.dp(8))
    pixels = ui.screenshot().crop(inner)
    caret = [
        x
        for x in range(pixels.width)
        for y in range(0, pixels.height, 4)
        if pixels.getpixel((x, y)) == (26, 115, 232)
    ]
    assert caret and min(caret) > pixels.width * 3 // 4  # the caret is in view, at the right


def test_explicit_start_of_an_item_activity_opens_the_app(ui: UiSystem) -> None:
    for pkg, activity, main in (
        ("com.android.contacts", ".quickcontact.QuickContactActivity", "PeopleActivity"),
        (
            "com.google.android.apps.messaging",
            ".ui.conversation.ConversationActivity",
            "ConversationListActivity",
        ),
        ("com.android.calendar", ".EventInfoActivity", "AllInOneActivity"),
        ("net.gsantner.markor", ".activity.DocumentActivity", "MainActivity"),
    ):
        assert ui.start(pkg, activity)
        assert ui.focus()[1].endswith(main), (pkg, ui.focus())
