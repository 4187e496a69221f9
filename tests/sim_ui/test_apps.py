"""Tapping through every app with hierarchy lookups, then checking pixels and the phone's data."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

from emulator.sim.contracts import PhoneContext
from emulator.sim.ui.system import LAUNCHER, UiSystem
from tests.sim_ui.screen import (
    colours,
    dark_pixels,
    find,
    find_all,
    retype,
    tap,
    type_into,
)

CONTACTS = "content://com.android.contacts"
MIME_NAME = "vnd.android.cursor.item/name"
MIME_PHONE = "vnd.android.cursor.item/phone_v2"


def add_contact(ctx: PhoneContext, name: str, phone: str) -> int:
    uri = ctx.providers.insert(f"{CONTACTS}/raw_contacts", {})
    raw = int(uri.rsplit("/", 1)[1])
    ctx.providers.insert(
        f"{CONTACTS}/data", {"raw_contact_id": raw, "mimetype": MIME_NAME, "data1": name}
    )
    ctx.providers.insert(
        f"{CONTACTS}/data",
        {"raw_contact_id": raw, "mimetype": MIME_PHONE, "data1": phone, "data2": 2},
    )
    return raw


def test_launcher_icons_open_apps(ui: UiSystem) -> None:
    assert ui.focus()[0] == LAUNCHER
    home = ui.screenshot()
    icon = find(ui, text="Contacts", desc="Contacts")
    assert icon.attrs["clickable"] == "true"
    assert colours(home, icon.bounds) > 10  # a drawn disc, letter and label, not a flat box
    tap(ui, text="Contacts")
    assert ui.focus() == ("com.android.contacts", "com.android.contacts.activities.PeopleActivity")
    assert ui.screenshot().tobytes() != home.tobytes()
    tap(ui, desc="Home")
    assert ui.focus()[0] == LAUNCHER
    labels = {n.text for n in find_all(ui, cls="android.widget.TextView") if n.text}
    for label in ("Contacts", "Messages", "Calendar", "Clock", "Markor", "Files", "Settings"):
        assert label in labels


def test_contacts_add_edit_delete(ctx: PhoneContext, ui: UiSystem) -> None:
    ui.start("com.android.contacts")
    tap(ui, text="Add contact")
    assert ui.focus()[1] == "com.android.contacts.activities.ContactEditorActivity"
    type_into(ui, "first_name", "Ada")
    type_into(ui, "last_name", "Lovelace")
    type_into(ui, "phone", "+1 555 0100")
    type_into(ui, "email", "ada@example.com")
    img = ui.screenshot()
    field = find(ui, rid="first_name")
    assert field.text == "Ada" and field.attrs["class"] == "android.widget.EditText"
    assert dark_pixels(img, field.bounds) > 50
    tap(ui, text="Save")
    raws = ctx.providers.query(f"{CONTACTS}/raw_contacts", ["_id", "display_name"])
    assert [r["display_name"] for r in raws] == ["Ada Lovelace"]
    raw_id = raws[0]["_id"]
    data = {
        r["mimetype"]: r
        for r in ctx.providers.query(
            f"{CONTACTS}/data",
            ["mimetype", "data1", "data2", "data3"],
            "raw_contact_id=?",
            [raw_id],
        )
    }
    assert data[MIME_NAME]["data2"] == "Ada" and data[MIME_NAME]["data3"] == "Lovelace"
    assert data[MIME_PHONE]["data1"] == "+1 555 0100"
    assert data["vnd.android.cursor.item/email_v2"]["data1"] == "ada@example.com"
    # The detail screen shows the new contact.
    assert ui.focus()[1] == "com.android.contacts.quickcontact.QuickContactActivity"
    title = find(ui, text="Ada Lovelace")
    assert dark_pixels(ui.screenshot(), title.bounds) > 100
    # Edit the phone number.
    tap(ui, text="Edit")
    tap(ui, rid="phone")
    for _ in range(4):
        ui.keyevent(67)  # DEL
    ui.text("0199")
    tap(ui, text="Save")
    phones = ctx.providers.query(f"{CONTACTS}/data", ["data1"], "mimetype=?", [MIME_PHONE])
    assert [p["data1"] for p in phones] == ["+1 555 0199"]
    # Back to the list: the contact is there with its number.
    ui.keyevent(4)
    row = find(ui, text="Ada Lovelace")
    assert find(ui, text="+1 555 0199")
    # Delete through the confirmation dialog.
    ui.tap(*row.center)
    tap(ui, text="Delete")
    assert find(ui, rid="alertTitle").text == "Delete this contact?"
    tap(ui, text="Delete", cls="android.widget.Button")
    assert ctx.providers.query(f"{CONTACTS}/raw_contacts", ["_id"]) == []
    assert find(ui, text="No contacts yet")


def test_empty_contact_is_discarded(ctx: PhoneContext, ui: UiSystem) -> None:
    ui.start("com.android.contacts")
    tap(ui, text="Add contact")
    tap(ui, text="Save")
    assert ctx.providers.query(f"{CONTACTS}/raw_contacts", ["_id"]) == []
    assert ui.focus()[1].endswith("PeopleActivity")


def test_messages_reply_writes_sent_sms(ctx: PhoneContext, ui: UiSystem) -> None:
    add_contact(ctx, "Grace Hopper", "+15550123")
    ctx.providers.insert(
        "content://sms/inbox",
        {
            "address": "+15550123",
            "body": "Lunch at 1?",
            "date": ctx.clock.now_ms() - 60_000,
            "read": 0,
        },
    )
    inbox = ctx.providers.query("content://sms", ["thread_id"])[0]
    ui.start("com.google.android.apps.messaging")
    row = find(ui, text="Grace Hopper")
    assert find(ui, text="Lunch at 1?")
    ui.tap(*row.center)
    assert ui.focus()[1] == "com.google.android.apps.messaging.ui.conversation.ConversationActivity"
    bubble = find(ui, rid="message_text", text="Lunch at 1?")
    assert dark_pixels(ui.screenshot(), bubble.bounds) > 50
    # Opening the thread marks it read, as the real app does.
    assert ctx.providers.query("content://sms", ["read"])[0]["read"] == 1
    type_into(ui, "compose", "Sure, see you there")
    send = find(ui, text="Send")
    before = ui.screenshot()
    ui.tap(*send.center)
    sent = ctx.providers.query("content://sms/sent", ["address", "body", "type", "thread_id"])
    assert sent == [
        {
            "address": "+15550123",
            "body": "Sure, see you there",
            "type": 2,
            "thread_id": inbox["thread_id"],
        }
    ]
    assert find(ui, rid="message_text_outgoing", text="Sure, see you there")
    assert find(ui, rid="compose").text == "Text message"  # an empty field reports its hint
    assert ui.screenshot().tobytes() != before.tobytes()


def test_messages_new_conversation(ctx: PhoneContext, ui: UiSystem) -> None:
    add_contact(ctx, "Alan Turing", "+44 20 7946 0000")
    ui.start("com.google.android.apps.messaging")
    assert find(ui, text="No conversations yet")
    tap(ui, text="Start chat")
    type_into(ui, "recipient", "alan")
    tap(ui, text="Alan Turing")
    type_into(ui, "compose", "Hello\nsecond line")
    tap(ui, text="Send")
    sent = ctx.providers.query("content://sms", ["address", "body", "type"])
    assert sent == [{"address": "+44 20 7946 0000", "body": "Hello\nsecond line", "type": 2}]
    ui.keyevent(4)
    assert find(ui, text="Alan Turing")


def test_calendar_create_edit_delete_event(ctx: PhoneContext, ui: UiSystem) -> None:
    ctx.clock.set_timezone("Europe/Paris")
    ui.start("com.android.calendar")
    assert find(ui, text="No upcoming events")
    tap(ui, text="New event")
    type_into(ui, "title", "Dentist")
    for fid, value in (("date", "2026-01-02"), ("start", "14:30"), ("end", "15:15")):
        retype(ui, fid, value)
    type_into(ui, "location", "Rue de Rivoli 1")
    retype(ui, "reminder", "30")
    tap(ui, text="Save")
    events = ctx.providers.query(
        "content://com.android.calendar/events",
        ["_id", "title", "dtstart", "dtend", "eventTimezone", "eventLocation", "calendar_id"],
    )
    assert len(events) == 1
    ev = events[0]
    paris = ZoneInfo("Europe/Paris")
    assert ev["dtstart"] == int(datetime(2026, 1, 2, 14, 30, tzinfo=paris).timestamp() * 1000)
    assert ev["dtend"] == int(datetime(2026, 1, 2, 15, 15, tzinfo=paris).timestamp() * 1000)
    assert ev["eventTimezone"] == "Europe/Paris" and ev["eventLocation"] == "Rue de Rivoli 1"
    reminders = ctx.providers.query(
        "content://com.android.calendar/reminders", ["event_id", "minutes", "method"]
    )
    assert reminders == [{"event_id": ev["_id"], "minutes": 30, "method": 1}]
    assert find(ui, text="Dentist")
    assert find(ui, text="Reminder: 30 minutes before")
    # Edit the title.
    tap(ui, text="Edit")
    tap(ui, rid="title")
    ui.text(" check-up")
    tap(ui, text="Save")
    assert ctx.providers.query(f"content://com.android.calendar/events/{ev['_id']}", ["title"]) == [
        {"title": "Dentist check-up"}
    ]
    ui.keyevent(4)
    assert find(ui, text="Tomorrow")
    assert find(ui, text="Dentist check-up")
    # Day view: today is empty, tomorrow has the event.
    tap(ui, text="Day")
    assert find(ui, text="No events")
    tap(ui, text="Next day")
    tap(ui, text="Dentist check-up")
    tap(ui, text="Delete")
    tap(ui, text="Delete", cls="android.widget.Button")
    assert ctx.providers.query("content://com.android.calendar/events", ["_id"]) == []


def test_calendar_rejects_a_bad_date(ctx: PhoneContext, ui: UiSystem) -> None:
    ui.start("com.android.calendar")
    tap(ui, text="New event")
    retype(ui, "date", "next tuesday")
    tap(ui, text="Save")
    assert find(ui, rid="error").text == "Date must look like 2026-01-31"
    assert ctx.providers.query("content://com.android.calendar/events", ["_id"]) == []


def test_notes_edit_and_create(ctx: PhoneContext, ui: UiSystem) -> None:
    ctx.vfs.mkdir("/sdcard/Documents/Notes")
    ctx.vfs.write_bytes("/sdcard/Documents/Notes/todo.md", b"# Todo\n- milk\n")
    ui.start("net.gsantner.markor")
    assert find(ui, text="todo.md")
    tap(ui, text="todo.md")
    assert ui.focus()[1] == "net.gsantner.markor.activity.DocumentActivity"
    editor = find(ui, rid="editor")
    assert editor.text == "# Todo\n- milk\n"
    ui.tap(*editor.center)  # caret goes to the end
    ui.text("- eggs\n")
    assert find(ui, text="todo.md •")  # unsaved marker
    tap(ui, text="Save")
    assert ctx.vfs.read_bytes("/sdcard/Documents/Notes/todo.md") == b"# Todo\n- milk\n- eggs\n"
    assert find(ui, text="todo.md")
    tap(ui, text="Preview")
    heading = find(ui, rid="heading", text="Todo")
    assert dark_pixels(ui.screenshot(), heading.bounds) > 100
    ui.keyevent(4)
    tap(ui, text="New note")
    type_into(ui, "name", "ideas")
    tap(ui, text="Create")
    type_into(ui, "editor", "Build a phone")
    tap(ui, text="Save")
    assert ctx.vfs.read_bytes("/sdcard/Documents/Notes/ideas.md") == b"Build a phone"
    ui.keyevent(4)
    assert find(ui, text="ideas.md") and find(ui, text="todo.md")


def test_files_browse_and_details(ctx: PhoneContext, ui: UiSystem) -> None:
    ctx.vfs.write_bytes("/sdcard/Download/report.txt", "quarterly numbers: 42 €".encode())
    ui.start("com.android.documentsui")
    assert find(ui, text="Internal storage")
    tap(ui, text="Download")
    assert find(ui, text="Download", rid="toolbar_title")
    tap(ui, text="report.txt")
    assert find(ui, rid="preview").text == "quarterly numbers: 42 €"
    assert find(ui, text="25 B")
    tap(ui, text="Delete")
    tap(ui, text="Delete", cls="android.widget.Button")
    assert not ctx.vfs.exists("/sdcard/Download/report.txt")
    assert find(ui, text="No items")
    tap(ui, desc="Navigate up")
    assert find(ui, text="Internal storage")


def test_clock_add_toggle_delete_alarm(ctx: PhoneContext, ui: UiSystem) -> None:
    ui.start("com.android.deskclock")
    assert find(ui, text="No alarms")
    tap(ui, text="Add alarm")
    retype(ui, "time", "07:30")
    type_into(ui, "label", "Gym")
    tap(ui, text="Mon")
    tap(ui, text="Wed")
    assert find(ui, text="Mon", cls="android.widget.TextView")
    tap(ui, text="Save")
    db = ctx.vfs.host_path("/data/user_de/0/com.android.deskclock/databases/alarms.db")
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT hour, minutes, daysofweek, enabled, label FROM alarm_templates"
        ).fetchall()
    assert rows == [(7, 30, 0b101, 1, "Gym")]
    row = find(ui, text="07:30")
    assert find(ui, text="Gym · Mon, Wed")
    switch = find(ui, rid="onoff")
    assert switch.attrs["checked"] == "true"
    before = ui.screenshot()
    ui.tap(*switch.center)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT enabled FROM alarm_templates").fetchone() == (0,)
    assert find(ui, rid="onoff").attrs["checked"] == "false"
    assert before.crop(switch.bounds).tobytes() != ui.screenshot().crop(switch.bounds).tobytes()
    ui.tap(*row.center)
    tap(ui, text="Delete")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM alarm_templates").fetchone() == (0,)


def test_settings_toggles_write_global_settings(ctx: PhoneContext, ui: UiSystem) -> None:
    def get(name: str) -> str | None:
        rows = ctx.providers.query("content://settings/global", ["value"], "name=?", [name])
        return rows[0]["value"] if rows else None

    ui.start("com.android.settings")
    wifi = find(ui, rid="wifi_on")
    assert wifi.attrs["checked"] == ("true" if get("wifi_on") == "1" else "false")
    start = get("wifi_on")
    ui.tap(*wifi.center)
    assert get("wifi_on") != start
    tap(ui, rid="bluetooth_on")
    assert get("bluetooth_on") == "1"
    tap(ui, rid="zen_mode")
    assert get("zen_mode") == "1"
    tap(ui, rid="airplane_mode_on")
    assert get("airplane_mode_on") == "1"
    assert get("wifi_on") == "0" and get("bluetooth_on") == "0"
    assert find(ui, rid="airplane_mode_on").attrs["checked"] == "true"
    # The shell's ``settings put`` shows up on screen at once.
    ctx.providers.insert("content://settings/global", {"name": "wifi_on", "value": "1"})
    assert find(ui, rid="wifi_on").attrs["checked"] == "true"
    tap(ui, text="About phone")
    assert find(ui, text="Pixel 7")


def test_contacts_search_filters_by_name_and_number(ctx: PhoneContext, ui: UiSystem) -> None:
    add_contact(ctx, "Katherine Johnson", "+1 757 555 0101")
    add_contact(ctx, "Dorothy Vaughan", "+1 757 555 0202")
    ui.start("com.android.contacts")
    type_into(ui, "search_view", "kath")
    assert find(ui, text="Katherine Johnson")
    assert not find_all(ui, text="Dorothy Vaughan")
    retype(ui, "search_view", "0202")
    assert find(ui, text="Dorothy Vaughan")
    assert not find_all(ui, text="Katherine Johnson")
    retype(ui, "search_view", "nobody")
    assert find(ui, text="No matches")


def test_notes_delete(ctx: PhoneContext, ui: UiSystem) -> None:
    ctx.vfs.mkdir("/sdcard/Documents/Notes")
    ctx.vfs.write_bytes("/sdcard/Documents/Notes/old.md", b"bye")
    ui.start("net.gsantner.markor")
    tap(ui, text="old.md")
    tap(ui, text="Delete")
    tap(ui, text="Delete", cls="android.widget.Button")
    assert not ctx.vfs.exists("/sdcard/Documents/Notes/old.md")
    assert ui.focus()[1] == "net.gsantner.markor.activity.MainActivity"
    assert find(ui, text="No notes yet")
