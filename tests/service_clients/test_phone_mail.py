"""The virtual phone's Email app against the world's real IMAP and SMTP servers."""

from __future__ import annotations

import email
import email.policy
import hashlib
from email.message import EmailMessage

import pytest

from rig.service_clients import connect_devices
from tests.service_clients import ui

pytestmark = pytest.mark.integration


def _send_to_maya(stack, subject: str, body: str, attachment: bytes | None = None) -> str:
    msg = EmailMessage()
    msg["From"] = "Jonas Fischer <jonas.fischer@mailbox.example>"
    msg["To"] = "maya.fischer@posteo.example"
    msg["Subject"] = subject
    msg["Message-ID"] = email.utils.make_msgid(domain="mailbox.example")
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="Rechnung 03.pdf"
        )
    with stack["mail"].smtp(stack.accounts[1]) as smtp:
        smtp.send_message(msg)
    return str(msg["Message-ID"])


def test_a_mail_sent_to_the_persona_shows_in_the_phones_email_app(stack, world, phone):
    pdf = b"%PDF-1.4 invoice \x00\x01 bytes"
    _send_to_maya(stack, "Rechnung März", "Hallo Maya,\nanbei die Rechnung.", pdf)
    connect_devices(world, "Maya Fischer")
    phone.launch("com.android.email")
    assert ui.find(phone, rid="toolbar_title", text="Inbox")
    ui.tap(phone, contains="Rechnung März")
    shown = ui.texts(phone)
    assert "Rechnung März" in shown
    assert "Hallo Maya,\nanbei die Rechnung." in shown
    assert "From: Jonas Fischer <jonas.fischer@mailbox.example>" in shown
    ui.tap(phone, rid="attachment")
    saved = phone.read_bytes("/sdcard/Download/Rechnung 03.pdf")
    assert hashlib.sha256(saved).digest() == hashlib.sha256(pdf).digest()
    # Opening it marked it seen on the server, not only on the phone.
    inbox = [m for m in stack["mail"].messages(("INBOX",)) if m.subject == "Rechnung März"]
    assert inbox and "\\Seen" in inbox[0].flags
    ops = [r["op"] for r in stack["mail"].audit()]
    assert "IMAP LOGIN" in ops and "IMAP UID FETCH" in ops and "IMAP UID STORE" in ops


def test_reply_from_the_phone_reaches_the_sender_threaded(stack, world, phone):
    original = _send_to_maya(stack, "Key box", "What is the code?")
    connect_devices(world, "Maya Fischer")
    phone.launch("com.android.email")
    ui.tap(phone, contains="Key box")
    ui.tap(phone, rid="reply")
    phone.type_text("It is 4711.")  # the caret waits above the quote
    ui.tap(phone, desc="Send")
    sent = [m for m in stack["mail"].outbox() if m.subject == "Re: Key box"]
    assert len(sent) == 1
    assert sent[0].envelope_to == ["jonas.fischer@mailbox.example"]
    assert sent[0].in_reply_to == original
    assert sent[0].body.startswith("It is 4711.")
    assert sent[0].sender == "maya.fischer@posteo.example"
    boxes = {m.folder: m for m in stack["mail"].messages() if "Key box" in m.subject}
    assert "\\Answered" in boxes["INBOX"].flags
    assert boxes["Sent"].subject == "Re: Key box"
    ops = [r["op"] for r in stack["mail"].audit()]
    assert {"SMTP AUTH", "SMTP MAIL", "SMTP RCPT", "SMTP DATA", "IMAP APPEND"} <= set(ops)


def test_archive_and_search_on_the_phone_change_the_server(stack, world, phone):
    _send_to_maya(stack, "Parcel notice", "Your parcel is at the kiosk.")
    _send_to_maya(stack, "Lunch?", "Lunch on Friday?")
    connect_devices(world, "Maya Fischer")
    phone.launch("com.android.email")
    ui.tap(phone, desc="Search")
    phone.type_text("kiosk")
    hits = ui.find(phone, rid="message_row")
    assert len(hits) == 1
    ui.tap(phone, rid="message_row")
    ui.tap(phone, desc="Archive")
    folders = {m.subject: m.folder for m in stack["mail"].messages()}
    assert folders == {"Parcel notice": "Archive", "Lunch?": "INBOX"}
    assert any(r["op"] == "IMAP UID MOVE" for r in stack["mail"].audit())


def test_no_account_shows_a_note_not_a_crash(phone):
    phone.launch("com.android.email")
    assert ui.find(phone, rid="no_account")


def test_forward_carries_the_attachment_and_reply_all_keeps_the_others(stack, world, phone):
    pdf = b"%PDF-1.4 quote"
    msg = EmailMessage()
    msg["From"] = "jonas.fischer@mailbox.example"
    msg["To"] = "maya.fischer@posteo.example, anna@example.org"
    msg["Cc"] = "ben@example.org"
    msg["Subject"] = "Quote"
    msg["Message-ID"] = "<quote-1@mailbox.example>"
    msg.set_content("See the quote.")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="quote.pdf")
    with stack["mail"].smtp(stack.accounts[1]) as smtp:
        smtp.send_message(msg)
    connect_devices(world, "Maya Fischer")
    phone.launch("com.android.email")
    ui.tap(phone, contains="Quote")
    ui.tap(phone, rid="forward")
    phone.type_text("accountant@example.org")  # the caret waits in To
    ui.tap(phone, desc="Send")
    ui.tap(phone, rid="reply_all")
    phone.type_text("Thanks all.")
    ui.tap(phone, desc="Send")
    out = {m.subject: m for m in stack["mail"].outbox()}
    forwarded = out["Fwd: Quote"]
    assert forwarded.envelope_to == ["accountant@example.org"]
    assert forwarded.attachments == [("quote.pdf", hashlib.sha256(pdf).hexdigest())]
    replied = out["Re: Quote"]
    assert replied.to == ["jonas.fischer@mailbox.example"]
    assert sorted(replied.cc) == ["anna@example.org", "ben@example.org"]  # not Maya herself
    assert replied.in_reply_to == "<quote-1@mailbox.example>"


def test_pulling_the_inbox_down_fetches_new_mail(stack, world, phone):
    connect_devices(world, "Maya Fischer")
    phone.launch("com.android.email")
    assert not ui.find(phone, rid="message_row")
    _send_to_maya(stack, "Arrived later", "Fresh.")
    assert not ui.find(phone, rid="message_row")  # the list is the phone's copy
    w, h = phone.window_size()
    phone.swipe(w // 2, h // 3, w // 2, h * 2 // 3, 400)
    assert ui.find(phone, contains="Arrived later")


def test_a_server_that_went_away_is_a_banner_not_a_crash(stack, world, phone):
    _send_to_maya(stack, "Before the outage", "x")
    connect_devices(world, "Maya Fischer")
    stack.stop()
    phone.launch("com.android.email")
    assert ui.find(phone, rid="error_banner")
    assert ui.find(phone, contains="Before the outage")  # the phone's copy is still there
    assert phone.current_app()[0] == "com.android.email"
    assert "result=1" in phone.shell("am broadcast -a android.intent.action.SYNC").stdout
