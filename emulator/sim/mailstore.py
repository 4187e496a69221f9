"""The Email app's mail: a local copy of the IMAP account, and sending over SMTP.

Like a real mail app, the app shows a local cache (one SQLite file in its data
directory, ``EmailProvider.db``) that a sync brings in step with the server:
new messages fetched whole, flags updated, messages gone from the server
removed. What the user does goes to the server first (STORE, MOVE, APPEND,
SMTP) and then to the cache, so the server is always the truth the world's
checks read. The server is reached through :mod:`emulator.sim.net`
(``10.0.2.2`` is the host), with the account from :mod:`emulator.sim.accounts`.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import imaplib
import mimetypes
import re
import smtplib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from emulator.sim import net
from emulator.sim.accounts import Accounts, MailAccount

DB_PATH = "/data/data/com.android.email/databases/EmailProvider.db"
FOLDERS = ("INBOX", "Sent", "Archive", "Drafts", "Trash")
_ROW = re.compile(rb"UID (\d+)")
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_DATE = re.compile(rb'INTERNALDATE "([^"]+)"')

SCHEMA = """
CREATE TABLE IF NOT EXISTS message (
  _id INTEGER PRIMARY KEY AUTOINCREMENT, mailbox TEXT NOT NULL, uid INTEGER NOT NULL,
  flags TEXT NOT NULL DEFAULT '', timeStamp INTEGER, fromList TEXT, fromName TEXT,
  toList TEXT, ccList TEXT, subject TEXT, snippet TEXT, body TEXT, messageId TEXT,
  inReplyTo TEXT, refs TEXT, flagAttachment INTEGER NOT NULL DEFAULT 0, raw BLOB,
  UNIQUE (mailbox, uid));
"""


class MailError(Exception):
    """The server refused or could not be reached; the app shows the message."""


@dataclass
class Attachment:
    name: str
    mime: str
    data: bytes


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _decode(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, ValueError):
        return ""
    return str(text).replace("\r\n", "\n")


def attachments(raw: bytes) -> list[Attachment]:
    out = []
    for part in _decode(raw).iter_attachments():
        data = part.get_payload(decode=True) or b""
        out.append(Attachment(part.get_filename() or "attachment", part.get_content_type(), data))
    return out


def _header(msg: EmailMessage, name: str) -> str:
    value = msg.get(name)
    return str(value) if value is not None else ""


def _addresses(msg: EmailMessage, name: str) -> str:
    return ", ".join(a for _n, a in email.utils.getaddresses(msg.get_all(name) or []) if a)


class MailStore:
    """The mail of the phone's one mail account."""

    def __init__(self, vfs: Any, accounts: Accounts, clock: Any) -> None:
        self.vfs, self.accounts, self.clock = vfs, accounts, clock
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self.last_error = ""

    # -- local cache ----------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            host = self.vfs.host_path(DB_PATH)
            host.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(host, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.executescript(SCHEMA)
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def messages(self, mailbox: str) -> list[sqlite3.Row]:
        with self._lock:
            return self.db.execute(
                "SELECT * FROM message WHERE mailbox = ? ORDER BY timeStamp DESC, uid DESC",
                [mailbox],
            ).fetchall()

    def message(self, mid: int) -> sqlite3.Row | None:
        with self._lock:
            return self.db.execute("SELECT * FROM message WHERE _id = ?", [mid]).fetchone()

    def unread(self) -> dict[str, int]:
        with self._lock:
            rows = self.db.execute(
                "SELECT mailbox, COUNT(*) FROM message WHERE flags NOT LIKE '%\\Seen%' "
                "GROUP BY mailbox"
            ).fetchall()
        return {r[0]: r[1] for r in rows}

    def search(self, query: str) -> list[sqlite3.Row]:
        """Messages of every folder whose sender, recipients, subject or body has ``query``."""
        q = query.casefold().strip()
        if not q:
            return []
        with self._lock:
            rows = self.db.execute("SELECT * FROM message ORDER BY timeStamp DESC").fetchall()
        fields = ("fromList", "fromName", "toList", "ccList", "subject", "body")
        return [r for r in rows if any(q in str(r[f] or "").casefold() for f in fields)]

    # -- the server -----------------------------------------------------------------------
    def account(self) -> MailAccount:
        account = self.accounts.mail
        if account is None:
            raise MailError("No email account is set up")
        return account

    @contextlib.contextmanager
    def _imap(self) -> Iterator[net.IMAP4]:
        account = self.account()
        try:
            conn = net.IMAP4(account.imap[0], account.imap[1], timeout=15)
            conn.login(account.user, account.password)
        except (OSError, net.IMAP4.error) as exc:
            raise MailError(f"Couldn't connect to the server ({exc})") from exc
        try:
            yield conn
        except (OSError, net.IMAP4.error) as exc:
            raise MailError(f"The server said: {exc}") from exc
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    def sync(self, mailboxes: Sequence[str] = FOLDERS) -> None:
        """Bring the cache in step with the server (new, changed and removed messages)."""
        with self._lock, self._imap() as conn:
            for box in mailboxes:
                self._sync_box(conn, box)
        self.last_error = ""

    def _sync_box(self, conn: net.IMAP4, box: str) -> None:
        typ, data = conn.select(_quote(box), readonly=True)
        if typ != "OK":
            return  # a folder the server does not have: nothing to show
        server: dict[int, str] = {}
        if int(data[0] or 0):
            typ, rows = conn.uid("FETCH", "1:*", "(UID FLAGS)")
            for row in rows:
                line = row[0] if isinstance(row, tuple) else row
                if not isinstance(line, bytes):
                    continue
                uid, flags = _ROW.search(line), _FLAGS.search(line)
                if uid:
                    server[int(uid.group(1))] = flags.group(1).decode() if flags else ""
        db = self.db
        local = {
            r[0]: r[1]
            for r in db.execute("SELECT uid, flags FROM message WHERE mailbox = ?", [box])
        }
        gone = [uid for uid in local if uid not in server]
        if gone:
            marks = ",".join("?" * len(gone))
            db.execute(f"DELETE FROM message WHERE mailbox = ? AND uid IN ({marks})", [box, *gone])
        for uid, flags in server.items():
            if uid in local and local[uid] != flags:
                db.execute(
                    "UPDATE message SET flags = ? WHERE mailbox = ? AND uid = ?", [flags, box, uid]
                )
        new = sorted(uid for uid in server if uid not in local)
        if new:
            typ, rows = conn.uid(
                "FETCH", ",".join(map(str, new)), "(UID FLAGS INTERNALDATE BODY.PEEK[])"
            )
            for row in rows:
                if isinstance(row, tuple):
                    self._store(box, row[0], row[1])

    def _store(self, box: str, head: bytes, raw: bytes) -> None:
        uid, flags, date = _ROW.search(head), _FLAGS.search(head), _DATE.search(head)
        if uid is None:
            return
        msg = _decode(raw)
        when = None
        if date:
            with contextlib.suppress(ValueError):
                when = datetime.strptime(date.group(1).decode(), "%d-%b-%Y %H:%M:%S %z")
        if when is None:
            with contextlib.suppress(TypeError, ValueError):
                when = email.utils.parsedate_to_datetime(_header(msg, "Date"))
        body = body_text(msg)
        names = email.utils.getaddresses([_header(msg, "From")])
        has_attachment = any(True for _ in msg.iter_attachments())
        self.db.execute(
            "INSERT OR REPLACE INTO message (mailbox, uid, flags, timeStamp, fromList, fromName, "
            "toList, ccList, subject, snippet, body, messageId, inReplyTo, refs, flagAttachment, "
            "raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                box,
                int(uid.group(1)),
                flags.group(1).decode() if flags else "",
                int(when.timestamp() * 1000) if when else 0,
                names[0][1] if names else "",
                (names[0][0] or names[0][1]) if names else "",
                _addresses(msg, "To"),
                _addresses(msg, "Cc"),
                _header(msg, "Subject"),
                " ".join(body.split())[:200],
                body,
                _header(msg, "Message-ID").strip(),
                _header(msg, "In-Reply-To").strip(),
                _header(msg, "References").strip(),
                1 if has_attachment else 0,
                raw,
            ],
        )

    # -- what the user does ---------------------------------------------------------------
    def _at(self, mid: int) -> sqlite3.Row:
        row = self.message(mid)
        if row is None:
            raise MailError("That message is gone")
        return row

    def store_flag(self, mid: int, flag: str, on: bool) -> None:
        """Set or clear a flag (``\\Seen``, ``\\Flagged``, ``\\Answered``) on the server."""
        with self._lock:
            row = self._at(mid)
            with self._imap() as conn:
                conn.select(_quote(row["mailbox"]))
                conn.uid("STORE", str(row["uid"]), "+FLAGS" if on else "-FLAGS", f"({flag})")
                self._sync_box(conn, row["mailbox"])

    def move(self, mid: int, target: str) -> None:
        """Move a message to another folder (IMAP MOVE), then refresh both folders."""
        with self._lock:
            row = self._at(mid)
            with self._imap() as conn:
                conn.select(_quote(row["mailbox"]))
                typ, data = conn.uid("MOVE", str(row["uid"]), _quote(target))
                if typ != "OK":
                    raise MailError(f"Couldn't move the message: {data}")
                self._sync_box(conn, row["mailbox"])
                self._sync_box(conn, target)

    def delete(self, mid: int) -> None:
        """Delete: to Trash, or for good when it is already in Trash."""
        with self._lock:
            row = self._at(mid)
            if row["mailbox"] != "Trash":
                self.move(mid, "Trash")
                return
            with self._imap() as conn:
                conn.select(_quote("Trash"))
                conn.uid("STORE", str(row["uid"]), "+FLAGS", "(\\Deleted)")
                conn.expunge()
                self._sync_box(conn, "Trash")

    def send(
        self,
        to: str,
        subject: str,
        body: str,
        cc: str = "",
        files: Sequence[Attachment] = (),
        reply_to: int | None = None,
    ) -> str:
        """Send over SMTP, keep a copy in Sent (IMAP APPEND); returns the Message-ID."""
        account = self.account()
        recipients = [a for _n, a in email.utils.getaddresses([to, cc]) if a]
        if not recipients:
            raise MailError("Add at least one recipient")
        msg = EmailMessage()
        msg["From"] = email.utils.formataddr((account.name, account.address))
        msg["To"] = to
        if cc.strip():
            msg["Cc"] = cc
        msg["Subject"] = subject
        msg["Date"] = email.utils.format_datetime(self.clock.now())
        domain = account.address.rpartition("@")[2] or "localhost"
        msg["Message-ID"] = email.utils.make_msgid(domain=domain)
        original = self.message(reply_to) if reply_to is not None else None
        if original is not None and original["messageId"]:
            msg["In-Reply-To"] = original["messageId"]
            refs = (original["refs"] or "").split()
            msg["References"] = " ".join([*refs, original["messageId"]])
        msg.set_content(body)
        for f in files:
            maintype, _, subtype = (f.mime or "application/octet-stream").partition("/")
            msg.add_attachment(f.data, maintype=maintype, subtype=subtype, filename=f.name)
        raw = msg.as_bytes(policy=email.policy.SMTP)
        try:
            with net.SMTP(account.smtp[0], account.smtp[1], timeout=15) as smtp:
                smtp.login(account.user, account.password)
                smtp.sendmail(account.address, recipients, raw)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"Couldn't send: {exc}") from exc
        with self._lock, self._imap() as conn:
            when = imaplib.Time2Internaldate(self.clock.now())
            conn.append(_quote("Sent"), "(\\Seen)", when, raw)
            self._sync_box(conn, "Sent")
            if original is not None:
                conn.select(_quote(original["mailbox"]))
                conn.uid("STORE", str(original["uid"]), "+FLAGS", "(\\Answered)")
                self._sync_box(conn, original["mailbox"])
        return str(msg["Message-ID"])


def guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
