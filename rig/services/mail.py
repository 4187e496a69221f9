"""The world's mail, controller side: endpoints, health, seeding, and readers for scoring.

Readers return plain :class:`MailMessage` values parsed from the real server
state: :meth:`MailService.messages` over IMAP (every folder of the persona's
mailbox, flags and INTERNALDATE included) and :meth:`MailService.outbox` from
the submission server's capture of every message sent, to any address.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import functools
import hashlib
import imaplib
import json
import re
import smtplib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from rig.services import maildir
from rig.services.audit import read_audit
from rig.services.base import Account, ServiceDown

_FETCH = re.compile(rb"(\d+) \(.*?UID (\d+).*?FLAGS \(([^)]*)\).*?INTERNALDATE \"([^\"]+)\"", re.S)


@dataclass
class MailMessage:
    """One message as a client sees it; addresses are lower-cased bare addresses."""

    folder: str
    raw: bytes
    uid: int | None = None
    flags: tuple[str, ...] = ()
    internaldate: datetime | None = None
    sender: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    subject: str = ""
    body: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    date: datetime | None = None
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (name, sha256)
    envelope_to: list[str] = field(default_factory=list)  # outbox only: the SMTP RCPT TOs

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def _addresses(values: list[str]) -> list[str]:
    return [addr.lower() for _name, addr in getaddresses(values) if addr]


# Parsing is most of reading a mailbox (the email package's header objects), and the same
# messages are read again and again: after seeding, for the baseline, each check, every
# reset's digest. A parse is a function of the bytes, so it is kept, keyed on them.
_PARSE_CACHE_MAX_BYTES = 64 * 1024  # with 4096 kept: at most 256 MB, about 20 MB for a real mailbox


def parse_message(raw: bytes, folder: str = "") -> MailMessage:
    """Headers decoded (RFC 2047), the first text part as the body, attachments hashed.

    Each call returns a message of its own (the caller may change it), parsed once per
    distinct ``raw`` and ``folder`` while they stay among the recent ones."""
    if len(raw) > _PARSE_CACHE_MAX_BYTES:
        return _parse(raw, folder)
    kept = _parse_kept(raw, folder)
    return replace(
        kept,
        to=list(kept.to),
        cc=list(kept.cc),
        bcc=list(kept.bcc),
        references=list(kept.references),
        attachments=list(kept.attachments),
        envelope_to=list(kept.envelope_to),
    )


@functools.lru_cache(maxsize=4096)
def _parse_kept(raw: bytes, folder: str) -> MailMessage:
    return _parse(raw, folder)


def _parse(raw: bytes, folder: str) -> MailMessage:
    msg: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[assignment]

    def header(name: str) -> str:
        value = msg.get(name)
        return str(value) if value is not None else ""

    body = ""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is not None:
        with contextlib.suppress(LookupError, ValueError):
            body = part.get_content().replace("\r\n", "\n")  # as a client shows it
    attachments = []
    for att in msg.iter_attachments():
        data = att.get_payload(decode=True) or b""
        attachments.append((att.get_filename() or "", hashlib.sha256(data).hexdigest()))
    date = None
    with contextlib.suppress(TypeError, ValueError):
        date = parsedate_to_datetime(header("Date")) if header("Date") else None
    senders = _addresses([header("From")])
    return MailMessage(
        folder=folder,
        raw=raw,
        sender=senders[0] if senders else "",
        to=_addresses([str(v) for v in msg.get_all("To") or []]),
        cc=_addresses([str(v) for v in msg.get_all("Cc") or []]),
        bcc=_addresses([str(v) for v in msg.get_all("Bcc") or []]),
        subject=header("Subject"),
        body=body,
        message_id=header("Message-ID").strip(),
        in_reply_to=header("In-Reply-To").strip(),
        references=header("References").split(),
        date=date,
        attachments=attachments,
    )


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MailService:
    """Mail of one world: IMAP (Dovecot behind the audit relay) and SMTP submission."""

    name = "mail"

    def __init__(self, stack: Any, ports: Mapping[str, Any]) -> None:
        self.stack = stack
        self.imap_port = int(ports["imap"])
        self.smtp_port = int(ports["smtp"])
        self.mx_port = int(ports["mx"]) if ports.get("mx") else None  # inbound (live mail)
        self.client_ports: dict[str, dict[str, int]] = dict(ports.get("clients") or {})
        self.account: Account = stack.accounts[0]
        self.state: Path = stack.state_dir("mail")
        self.store = self.state / "maildir"
        self.audit_path: Path = stack.audit_path("mail")
        self.uid, self.gid = int(ports.get("uid", -1)), int(ports.get("gid", -1))
        self.round_trips = 0  # IMAP/SMTP commands this controller sent (for the benchmarks)

    # -- access -------------------------------------------------------------------------
    def ports_for(self, role: str | None = None) -> dict[str, int]:
        """``{"imap", "smtp"}`` host ports for a device role (its own, so the audit names it),
        or the rig's own when ``role`` is None."""
        if role is None:
            return {"imap": self.imap_port, "smtp": self.smtp_port}
        try:
            return dict(self.client_ports[role])
        except KeyError:
            known = ", ".join(sorted(self.client_ports)) or "none"
            raise KeyError(f"mail has no ports for role {role!r} (roles: {known})") from None

    def endpoint(self, role: str | None = None) -> dict[str, Any]:
        ports = self.ports_for(role)
        return {
            "imap": f"127.0.0.1:{ports['imap']}",
            "smtp": f"127.0.0.1:{ports['smtp']}",
            "user": self.account.user,
            "password": self.account.password,
            "address": self.account.addresses[0] if self.account.addresses else "",
        }

    @contextlib.contextmanager
    def imap(self, account: Account | None = None) -> Iterator[imaplib.IMAP4]:
        """A logged-in IMAP connection (the persona's unless ``account`` is given)."""
        account = account or self.account
        try:
            conn = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
            conn.login(account.user, account.password)
            self.round_trips += 2  # greeting + LOGIN
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ServiceDown("mail", f"IMAP login failed: {exc}") from exc
        try:
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    @contextlib.contextmanager
    def smtp(self, account: Account | None = None) -> Iterator[smtplib.SMTP]:
        account = account or self.account
        try:
            conn = smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10)
            conn.login(account.user, account.password)
        except (OSError, smtplib.SMTPException) as exc:
            raise ServiceDown("mail", f"SMTP login failed: {exc}") from exc
        try:
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.quit()

    def receive(self, raw: bytes, sender: str, recipients: list[str] | None = None) -> None:
        """Mail from outside the world arriving over SMTP (inbound, no outbox entry)."""
        if self.mx_port is None:
            raise ServiceDown("mail", "the mail host has no inbound SMTP port")
        to = recipients or list(self.account.addresses[:1])
        try:
            with smtplib.SMTP("127.0.0.1", self.mx_port, timeout=10) as conn:
                conn.sendmail(sender, to, raw)
        except (OSError, smtplib.SMTPException) as exc:
            raise ServiceDown("mail", f"inbound SMTP failed: {exc}") from exc

    def health(self) -> None:
        with self.imap() as conn:
            typ, _ = conn.noop()
            if typ != "OK":
                raise ServiceDown("mail", f"IMAP NOOP answered {typ}")
        try:
            with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as conn:
                code, _ = conn.noop()
        except (OSError, smtplib.SMTPException) as exc:
            raise ServiceDown("mail", f"SMTP did not answer: {exc}") from exc
        if code != 250:
            raise ServiceDown("mail", f"SMTP NOOP answered {code}")

    # -- readers --------------------------------------------------------------------------
    def messages(
        self, folders: tuple[str, ...] = maildir.FOLDERS, account: Account | None = None
    ) -> list[MailMessage]:
        """Every message in ``folders`` over IMAP: one SELECT and one FETCH per folder."""
        out: list[MailMessage] = []
        with self.imap(account) as conn:
            for folder in folders:
                typ, data = conn.select(_quote(folder), readonly=True)
                self.round_trips += 1
                if typ != "OK":
                    raise ServiceDown("mail", f"SELECT {folder} answered {typ}: {data}")
                if int(data[0] or 0) == 0:
                    continue
                typ, rows = conn.fetch("1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
                self.round_trips += 1
                if typ != "OK":
                    raise ServiceDown("mail", f"FETCH in {folder} answered {typ}")
                for row in rows:
                    if not isinstance(row, tuple):
                        continue
                    m = _FETCH.search(row[0])
                    msg = parse_message(row[1], folder)
                    if m:
                        msg.uid = int(m.group(2))
                        msg.flags = tuple(m.group(3).decode().split())
                        msg.internaldate = _internaldate(m.group(4).decode())
                    out.append(msg)
        return out

    def outbox(self) -> list[MailMessage]:
        """Every message submitted over SMTP during the world's life, oldest first."""
        index = self.state / "outbox" / "index.jsonl"
        if not index.is_file():
            return []
        out = []
        for line in index.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            raw = (self.state / "outbox" / entry["file"]).read_bytes()
            msg = parse_message(raw, "outbox")
            msg.envelope_to = [a.lower() for a in entry["rcpt_tos"]]
            msg.internaldate = datetime.fromisoformat(entry["t"])
            out.append(msg)
        return out

    def audit(self) -> list[dict[str, Any]]:
        return read_audit(self.audit_path)

    def read_state(self, query: Any) -> Any:
        """Answer a :mod:`rig.services.readers` query (mail_messages, mail_outbox, audit)."""
        from rig.services import readers

        return readers.read(self, query)

    # -- seeding --------------------------------------------------------------------------
    def seed(self, plan: Any) -> dict[str, Any]:
        """Write every message straight into the Maildirs (as a delivery agent does), then
        read them all back over IMAP and compare bytes and flags."""
        owner = (self.uid, self.gid)
        user = plan.user or self.account.user
        for m in plan.messages:
            maildir.deliver(self.store, user, m.folder, m.raw, m.when, m.flags, owner)
        before = self.round_trips
        folders = tuple(dict.fromkeys(m.folder for m in plan.messages))
        got = self.messages(folders) if folders else []
        have: dict[tuple[str, str], list[tuple[str, ...]]] = {}
        for g in got:
            have.setdefault((g.folder, g.sha256), []).append(g.flags)
        for i, m in enumerate(plan.messages):
            key = (m.folder, hashlib.sha256(m.raw).hexdigest())
            flags = have.get(key)
            if not flags:
                raise ServiceDown(
                    "mail", f"seed did not read back: message {i} ({m.message_id}) in {m.folder}"
                )
            seen = flags.pop(0)
            if set(m.flags) - set(seen):
                raise ServiceDown(
                    "mail", f"seed did not read back: {m.message_id} has {seen}, not {m.flags}"
                )
        digest = hashlib.sha256()
        for folder, sha in sorted(
            (m.folder, hashlib.sha256(m.raw).hexdigest()) for m in plan.messages
        ):
            digest.update(f"{folder}:{sha}\n".encode())
        return {
            "digest": digest.hexdigest(),
            "messages": len(plan.messages),
            "round_trips": self.round_trips - before,
        }

    def close(self) -> None:
        pass


def _internaldate(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None
