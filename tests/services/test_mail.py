"""Mail over the real servers: smtplib submits to aiosmtpd, imaplib reads Dovecot."""

from __future__ import annotations

import hashlib
import imaplib
import smtplib
from email.message import EmailMessage

import pytest

from rig.services.mail import parse_message

pytestmark = pytest.mark.integration

MAYA = "maya.fischer@posteo.example"
JONAS = "jonas.fischer@mailbox.example"


def _mail(subject: str, to: list[str], body: str, attachment: bytes | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Maya Fischer <{MAYA}>"
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="Rechnung März.pdf"
        )
    return msg


def test_submitted_mail_is_captured_and_own_mail_delivered(stack):
    mail = stack["mail"]
    pdf = b"%PDF-1.4 invoice \x00\xff"
    with mail.smtp() as conn:
        to = [MAYA, "accountant@tax.example"]
        conn.send_message(_mail("Grüße 🌷 zum $Montag", to, "hi", pdf))
        conn.send_message(_mail("nur extern", ["lena.albrecht@gmx.example"], '`rm` "x"'))
    sent = mail.outbox()
    assert [m.subject for m in sent] == ["Grüße 🌷 zum $Montag", "nur extern"]
    assert sent[0].envelope_to == [MAYA, "accountant@tax.example"]
    assert sent[0].attachments == [("Rechnung März.pdf", hashlib.sha256(pdf).hexdigest())]
    assert sent[1].body.strip() == '`rm` "x"'
    inbox = mail.messages(("INBOX",))
    assert [m.subject for m in inbox] == ["Grüße 🌷 zum $Montag"]  # only mail to herself
    assert inbox[0].message_id == sent[0].message_id
    # The world clock, not the host's: the task's now plus the seconds the world ran.
    assert abs((inbox[0].internaldate - stack.now).total_seconds()) < 120
    assert abs((sent[0].date - stack.now).total_seconds()) < 120


def test_folders_flags_and_moves_over_imap(stack):
    mail = stack["mail"]
    with mail.smtp() as conn:
        conn.send_message(_mail("flag me", [MAYA], "body"))
    with mail.imap() as conn:
        _typ, boxes = conn.list()
        names = {line.decode().rsplit(" ", 1)[-1].strip('"') for line in boxes}
        assert {"INBOX", "Sent", "Archive", "Drafts", "Trash"} <= names
        conn.select("INBOX")
        assert conn.store("1", "+FLAGS", "(\\Flagged \\Answered \\Seen)")[0] == "OK"
        assert conn.copy("1", "Archive")[0] == "OK"
        conn.store("1", "+FLAGS", "(\\Deleted)")
        conn.expunge()
        conn.append("Drafts", "(\\Draft)", None, _mail("draft", [JONAS], "later").as_bytes())
    got = {m.folder: m for m in mail.messages()}
    assert set(got) == {"Archive", "Drafts"}
    assert {"\\Flagged", "\\Answered", "\\Seen"} <= set(got["Archive"].flags)
    assert "\\Draft" in got["Drafts"].flags


def test_threads_and_rfc2047_headers_survive(stack):
    mail = stack["mail"]
    first = _mail("Termin Physio", [MAYA], "Donnerstag?")
    first["Message-ID"] = "<physio-1@praxis.example>"
    reply = _mail("Re: Termin Physio", [MAYA], "Ja")
    reply["In-Reply-To"] = "<physio-1@praxis.example>"
    reply["References"] = "<physio-1@praxis.example>"
    with mail.smtp() as conn:
        conn.send_message(first)
        conn.send_message(reply)
    raw = mail.outbox()[0].raw
    assert b"=?utf-8?" in raw or b"Termin Physio" in raw
    inbox = mail.messages(("INBOX",))
    assert inbox[1].in_reply_to == "<physio-1@praxis.example>"
    assert inbox[1].references == ["<physio-1@praxis.example>"]
    assert parse_message(raw).subject == "Termin Physio"


def test_logins_are_checked_and_accounts_separate(stack):
    mail = stack["mail"]
    maya, jonas = stack.accounts
    with pytest.raises(imaplib.IMAP4.error):
        conn = imaplib.IMAP4("127.0.0.1", mail.imap_port)
        try:
            conn.login(maya.user, "wrong")
        finally:
            conn.shutdown()
    with (
        pytest.raises(smtplib.SMTPAuthenticationError),
        smtplib.SMTP("127.0.0.1", mail.smtp_port) as conn,
    ):
        conn.login(maya.user, "wrong")
    with mail.smtp() as conn:
        conn.send_message(_mail("für Jonas", [JONAS], "privat"))
    assert mail.messages(("INBOX",)) == []
    assert [m.subject for m in mail.messages(("INBOX",), account=jonas)] == ["für Jonas"]


def test_audit_records_every_operation_and_no_password(stack):
    mail = stack["mail"]
    with mail.smtp() as conn:
        conn.send_message(_mail("audit", [MAYA], "x"))
    with mail.imap() as conn:
        conn.select("INBOX")
        conn.fetch("1", "(BODY.PEEK[])")
        conn.uid("STORE", "1", "+FLAGS", "(\\Seen)")
        conn.append("Sent", None, None, _mail("copy", [MAYA], "y").as_bytes())
        conn.expunge()
    ops = [r["op"] for r in mail.audit()]
    for op in (
        "SMTP AUTH",
        "SMTP MAIL",
        "SMTP RCPT",
        "SMTP DATA",
        "IMAP LOGIN",
        "IMAP SELECT",
        "IMAP FETCH",
        "IMAP UID STORE",
        "IMAP APPEND",
        "IMAP EXPUNGE",
    ):
        assert op in ops, op
    rcpt = next(r for r in mail.audit() if r["op"] == "SMTP RCPT")
    assert rcpt["recipient"] == MAYA and rcpt["client"].startswith("127.0.0.1:")
    append = next(r for r in mail.audit() if r["op"] == "IMAP APPEND")
    assert append["mailbox"] == "Sent" and append["user"] == "maya"
    text = stack.audit_path("mail").read_text()
    assert mail.account.password not in text
    assert text.splitlines()[0].startswith('{"t": "2026-03-16T')


def test_append_without_a_date_gets_the_world_clock(stack):
    mail = stack["mail"]
    with mail.imap() as conn:
        conn.append("Sent", "(\\Seen)", None, _mail("kopie", [JONAS], "x").as_bytes())
        dated = imaplib.Time2Internaldate(1700000000)
        conn.append("Drafts", None, dated, _mail("alt", [JONAS], "y").as_bytes())
    got = {m.folder: m.internaldate for m in mail.messages(("Sent", "Drafts"))}
    assert abs((got["Sent"] - stack.now).total_seconds()) < 120  # not the host's clock
    assert got["Drafts"].timestamp() == 1700000000  # a client's own date is kept


def test_a_parse_is_kept_but_each_reader_gets_its_own_message():
    from rig.services import mail as mail_module

    raw = (
        b"From: Anna <anna@example.org>\r\nTo: maya@example.org, Jonas <jonas@example.org>\r\n"
        b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <k1@example.org>\r\n\r\nHallo\r\n"
    )
    before = mail_module._parse_kept.cache_info().hits
    first, second = parse_message(raw, "INBOX"), parse_message(raw, "INBOX")
    assert mail_module._parse_kept.cache_info().hits == before + 1
    assert first == second and first is not second
    first.to.append("mallory@example.org")
    first.flags = ("\\Seen",)
    again = parse_message(raw, "INBOX")
    assert again.to == ["maya@example.org", "jonas@example.org"] and again.flags == ()
    assert again.subject == "Grüße" and again.body == "Hallo\n"
    assert parse_message(raw, "Archive").folder == "Archive"
    big = raw.replace(b"Hallo", b"x" * (mail_module._PARSE_CACHE_MAX_BYTES + 1))
    size = mail_module._parse_kept.cache_info().currsize
    assert parse_message(big).body.startswith("xxx")
    assert mail_module._parse_kept.cache_info().currsize == size  # too big to keep
