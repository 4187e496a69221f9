"""The world's mail server, host side: Dovecot for IMAP, aiosmtpd for SMTP submission.

Runs inside the world's service host (:mod:`rig.services.host`). Dovecot runs
standalone (``dovecot -F -c CONF``) under a non-zero uid where the state folder
allows it, serving ``maildir`` folders INBOX, Sent, Archive, Drafts and Trash; it
listens only on a Unix socket in the world's runtime folder. The public IMAP port
is a small relay in front of it that appends every client command to the audit
log (LOGIN keeps the user, never the password). SMTP submission (AUTH PLAIN/LOGIN
with the world's credentials) captures every message in the outbox and delivers
mail addressed to one of the world's own accounts into that account's INBOX.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import os
import pwd
import re
import shutil
import subprocess
import time
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from hostproc.parent import die_with_parent
from rig.services import maildir
from rig.services.audit import AuditLog, WorldClock

DOVECOT = os.environ.get("CLAWRIG_DOVECOT", "dovecot")  # tests point it elsewhere
SOCKET = "imap"  # Unix socket name under the runtime folder
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r?\n$")
_APPEND = re.compile(
    rb"^(?P<head>\S+ APPEND )(?P<args>.*?) ?(?P<literal>~?\{\d+\+?\}\r?\n)$", re.IGNORECASE
)
_DATE_TIME = re.compile(rb'"[ \d]\d-[A-Za-z]{3}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}"')


def reachable_by_others(path: Path) -> bool:
    """Whether a process of another uid can traverse to ``path`` (o+x on every parent)."""
    path = path.resolve()
    return all(not p.exists() or os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


def _nobody() -> tuple[int, int]:
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def dovecot_config(store: Path, runtime: Path, passwd: Path, log: Path, uid: int, gid: int) -> str:
    import grp

    # Login and internal processes never run as root; mail processes run as ``uid``.
    internal_uid, internal_gid = (uid, gid) if uid else _nobody()
    user = pwd.getpwuid(internal_uid).pw_name
    group_line = f"default_internal_group = {grp.getgrgid(internal_gid).gr_name}\n"
    boxes = "".join(
        f"  mailbox {name} {{\n    special_use = \\{name}\n    auto = subscribe\n  }}\n"
        for name in maildir.FOLDERS
        if name != "INBOX"
    )
    return f"""# written by clawrig for one world; regenerated at every start
base_dir = {runtime}/dovecot
state_dir = {runtime}/dovecot/state
log_path = {log}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_login_user = {user}
{group_line}first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{store}/%n:LAYOUT=fs:INBOX={store}/%n/INBOX
mail_fsync = never
maildir_copy_with_hardlinks = yes
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {passwd}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={store}/%n
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  unix_listener {SOCKET} {{
    mode = 0600
    user = {pwd.getpwuid(os.geteuid()).pw_name}
  }}
  chroot =
  process_min_avail = 1
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
namespace inbox {{
  inbox = yes
  separator = /
{boxes}}}
"""


class Dovecot:
    """One standalone Dovecot for one world."""

    def __init__(self, state: Path, runtime: Path, accounts: list[dict[str, Any]]) -> None:
        self.store = state / "maildir"
        self.log = state / "dovecot.log"
        self.runtime = runtime
        self.socket = runtime / "dovecot" / SOCKET
        self.accounts = accounts
        self.process: subprocess.Popen[bytes] | None = None
        self.uid, self.gid = 0, 0
        self.live = self.store

    def start(self, timeout: float = 10.0) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def spawn(self) -> None:
        """Write the config and start Dovecot (from the main thread: PR_SET_PDEATHSIG is
        tied to the spawning thread); :meth:`wait_ready` waits for its socket."""
        # Dovecot refuses uid 0 for mail, so as root the mail processes run as nobody;
        # when nobody cannot reach the episode folder, the live store sits in the
        # runtime folder (linked from the state folder) and moves back at stop.
        self.uid, self.gid = (os.getuid(), os.getgid()) if os.geteuid() else _nobody()
        self.store.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0 and not reachable_by_others(self.store.parent):
            self.live = self.runtime / "maildir"
            self.live.mkdir(exist_ok=True)
            if self.store.is_dir() and not self.store.is_symlink():
                shutil.rmtree(self.live)
                shutil.move(self.store, self.live)
            if not self.store.is_symlink():
                self.store.symlink_to(self.live)
        else:
            self.store.mkdir(exist_ok=True)
            self.live = self.store
        for account in self.accounts:
            maildir.make_folders(self.live, account["user"])
        passwd = self.runtime / "dovecot.passwd"
        passwd.write_text("".join(f"{a['user']}:{{PLAIN}}{a['password']}\n" for a in self.accounts))
        conf = self.runtime / "dovecot.conf"
        conf.write_text(
            dovecot_config(self.live, self.runtime, passwd, self.log, self.uid, self.gid)
        )
        (self.runtime / "dovecot").mkdir(exist_ok=True)
        self.log.touch()
        internal = (self.uid, self.gid) if self.uid else _nobody()
        if os.geteuid() == 0:
            os.chown(passwd, *internal)  # read by the auth process
        os.chmod(passwd, 0o600)
        maildir.chown_tree(self.live, self.uid, self.gid)
        with open(self.log, "ab") as err:
            self.process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                preexec_fn=die_with_parent(),
            )

    def wait_ready(self, timeout: float = 10.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not come up (exit {self.process.poll()})")
            time.sleep(0.005)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.live != self.store and self.store.is_symlink():
            self.store.unlink()
            shutil.move(self.live, self.store)


class ImapRelay:
    """The public IMAP port: bytes pass through unchanged; client commands are audited."""

    def __init__(self, socket_path: Path, audit: AuditLog) -> None:
        self.socket_path, self.audit, self.clock = socket_path, audit, audit.clock

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local = writer.get_extra_info("sockname")
        client = self.audit.client(local[1] if local else None, writer.get_extra_info("peername"))
        try:
            up_r, up_w = await asyncio.open_unix_connection(str(self.socket_path))
        except OSError:
            writer.close()
            return
        session: dict[str, Any] = {"mailbox": None, "user": None}
        down = asyncio.ensure_future(_pump(up_r, writer))
        try:
            literal, continuing = 0, False
            while True:
                if literal:
                    chunk = await reader.read(min(literal, 65536))
                    if not chunk:
                        break
                    literal -= len(chunk)
                    up_w.write(chunk)
                    await up_w.drain()
                    continue
                line = await reader.readline()
                if not line:
                    break
                if not continuing:
                    line = self._dated(line)
                up_w.write(line)
                await up_w.drain()
                if not continuing:
                    self._audit_line(client, line, session)
                m = _LITERAL.search(line)
                literal, continuing = (int(m.group(1)), True) if m else (0, False)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                up_w.close()
            down.cancel()
            with contextlib.suppress(Exception):
                writer.close()

    def _dated(self, line: bytes) -> bytes:
        """An APPEND without a date-time gets the world's time, so INTERNALDATE follows the
        world clock (Dovecot would use the host's)."""
        m = _APPEND.match(line)
        if m is None or _DATE_TIME.search(m.group("args")):
            return line
        stamp = self.clock.now().strftime("%d-%b-%Y %H:%M:%S %z")
        return m.group("head") + m.group("args") + f' "{stamp}" '.encode() + m.group("literal")

    def _audit_line(self, client: str, line: bytes, session: dict[str, Any]) -> None:
        text = line.rstrip(b"\r\n").decode("utf-8", "replace")
        parts = text.split(" ", 2)
        if len(parts) < 2 or not parts[0] or not parts[1].isalpha():
            return  # a SASL response, IDLE's DONE or literal data: not a command
        command = parts[1].upper()
        rest = parts[2] if len(parts) > 2 else ""
        if command == "UID" and rest:
            sub, _, rest = rest.partition(" ")
            command = f"UID {sub.upper()}"
        fields: dict[str, Any] = {}
        if command == "LOGIN":
            session["user"] = _first_atom(rest)
        elif command == "AUTHENTICATE":
            fields["mechanism"] = rest.split(" ")[0].upper()
        elif command in ("SELECT", "EXAMINE"):
            session["mailbox"] = _first_atom(rest)
            fields["mailbox"] = session["mailbox"]
        elif command in ("APPEND", "CREATE", "DELETE", "STATUS", "SUBSCRIBE"):
            fields["mailbox"] = _first_atom(rest)
        elif command in ("COPY", "MOVE", "UID COPY", "UID MOVE"):
            ids, _, target = rest.partition(" ")
            fields.update(ids=ids, mailbox=session["mailbox"], to=_first_atom(target))
        elif command in ("FETCH", "STORE", "UID FETCH", "UID STORE", "UID EXPUNGE"):
            ids, _, what = rest.partition(" ")
            fields.update(ids=ids, mailbox=session["mailbox"], args=_literal_free(what)[:200])
        elif command in ("EXPUNGE", "CLOSE", "SEARCH", "UID SEARCH"):
            fields.update(mailbox=session["mailbox"], args=_literal_free(rest)[:200] or None)
        elif rest and command not in ("LOGOUT", "NOOP", "CAPABILITY", "IDLE"):
            fields["args"] = _literal_free(rest)[:200]
        self.audit.write(client, f"IMAP {command}", user=session["user"], **fields)


def _first_atom(text: str) -> str:
    text = text.strip()
    if text.startswith('"'):
        out, escaped = [], False
        for ch in text[1:]:
            if escaped:
                out.append(ch)
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                break
            else:
                out.append(ch)
        return "".join(out)
    if text.startswith("{"):
        return "{literal}"
    return text.split(" ", 1)[0]


def _literal_free(text: str) -> str:
    return re.sub(r"\{\d+\+?\}$", "{literal}", text)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class SubmissionHandler:
    """aiosmtpd handler: capture in the outbox, deliver to the world's own accounts."""

    def __init__(
        self,
        state: Path,
        store: Path,
        accounts: list[dict[str, Any]],
        clock: WorldClock,
        audit: AuditLog,
        owner: tuple[int, int],
    ) -> None:
        self.outbox = state / "outbox"
        self.outbox.mkdir(parents=True, exist_ok=True)
        self.index = self.outbox / "index.jsonl"
        self.store, self.clock, self.audit, self.owner = store, clock, audit, owner
        self.by_address = {
            addr.lower(): a["user"] for a in accounts for addr in a.get("addresses", [])
        }
        self.seq = len(list(self.outbox.glob("*.eml")))

    def _client(self, server: Any, session: Any) -> str:
        return smtp_client(self.audit, server, session)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        self.audit.write(self._client(server, session), "SMTP MAIL", sender=address)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        self.audit.write(self._client(server, session), "SMTP RCPT", recipient=address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        now = self.clock.now()
        data = bytes(envelope.original_content or envelope.content)
        headers = BytesHeaderParser().parsebytes(data)
        extra = b""
        if headers.get("Date") is None:
            extra += f"Date: {email.utils.format_datetime(now)}\r\n".encode()
        message_id = headers.get("Message-ID")
        if message_id is None:
            message_id = email.utils.make_msgid(domain="clawrig.world")
            extra += f"Message-ID: {message_id}\r\n".encode()
        data = extra + data
        self.seq += 1
        name = f"{self.seq:06d}.eml"
        (self.outbox / name).write_bytes(data)
        entry = {
            "file": name,
            "t": now.isoformat(),
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "message_id": str(message_id).strip(),
            "user": getattr(session, "authenticated_user", None),
        }
        with open(self.index, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        delivered = []
        for rcpt in envelope.rcpt_tos:
            user = self.by_address.get(rcpt.lower())
            if user and user not in delivered:
                maildir.deliver(self.store, user, "INBOX", data, now, owner=self.owner)
                delivered.append(user)
        self.audit.write(
            self._client(server, session),
            "SMTP DATA",
            message_id=entry["message_id"],
            outbox=name,
            delivered=delivered or None,
            size=len(data),
        )
        return "250 Message accepted"


class InboundHandler:
    """aiosmtpd handler for mail arriving from outside the world (the rig's live events):
    delivered to the world's own accounts only, never captured in the outbox (the outbox
    is what the persona submitted)."""

    def __init__(self, submission: SubmissionHandler) -> None:
        self.sub = submission

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() not in self.sub.by_address:
            return "550 5.1.1 no such mailbox in this world"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        now = self.sub.clock.now()
        data = bytes(envelope.original_content or envelope.content)
        headers = BytesHeaderParser().parsebytes(data)
        users = list(dict.fromkeys(self.sub.by_address[r.lower()] for r in envelope.rcpt_tos))
        for user in users:
            maildir.deliver(self.sub.store, user, "INBOX", data, now, owner=self.sub.owner)
        self.sub.audit.write(
            "inbound",
            "SMTP INBOUND",
            sender=envelope.mail_from,
            message_id=str(headers.get("Message-ID") or "").strip() or None,
            delivered=users,
            size=len(data),
        )
        return "250 Message accepted for delivery"


def smtp_client(audit: AuditLog, server: Any, session: Any) -> str:
    transport = getattr(server, "transport", None)
    local = transport.get_extra_info("sockname") if transport is not None else None
    return audit.client(local[1] if local else None, session.peer)


def smtp_authenticator(accounts: list[dict[str, Any]], audit: AuditLog) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    known = {a["user"]: a["password"] for a in accounts}
    for a in accounts:
        for addr in a.get("addresses", []):
            known.setdefault(addr, a["password"])

    def check(server, session, envelope, mechanism, auth_data):
        ok = False
        user = None
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode("utf-8", "replace")
            ok = known.get(user) == auth_data.password.decode("utf-8", "replace")
        audit.write(
            smtp_client(audit, server, session), "SMTP AUTH", mechanism=mechanism, user=user, ok=ok
        )
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    return check
