"""An event stream aimed at one Linux role, as a person's laptop keeps it in real tools.

- mail: Maildir ``~/Mail/INBOX`` (received; unread ones in ``new/``) and ``~/Mail/Sent``,
  readable with mblaze (``mlist ~/Mail/INBOX | mscan``) and any Maildir client.
- notes: markdown under ``~/notes`` (last text of each; mtime = last edit).
- files placed by ``file.placed``: at their own path under ``~``, with their mode.
- downloads: ``~/Downloads``; bank transactions: one CSV export per account under
  ``~/Documents/Bank`` (``compile_formats.bank_csv``).
- shell commands: ``~/.bash_history`` with ``#epoch`` lines (bash's HISTTIMEFORMAT form).
- todos: ``~/todo.txt`` in todo.txt format (done ones ``x DONE CREATED …``).
- chat messages: SQLite ``~/.local/share/chat/chat.db`` (same table as on the phone).

File modification times are the events' times. Header fields of mail are one
line by RFC 5322: line breaks in a subject or address are unfolded to spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from linux_vm.seeding import (
    BashHistoryRecord,
    FileRecord,
    HistoryEntry,
    LinuxSeedPlan,
    MailRecord,
    SqliteRecord,
    SqliteTable,
)
from tasks import events as ev
from tasks.compile_formats import Todo, bank_csv, slug, todo_txt

MAIL_INBOX = "~/Mail/INBOX"
MAIL_SENT = "~/Mail/Sent"
NOTES_DIR = "~/notes"
DOWNLOAD_DIR = "~/Downloads"
BANK_DIR = "~/Documents/Bank"
TODO_FILE = "~/todo.txt"
HISTORY_FILE = "~/.bash_history"
CHAT_DB = "~/.local/share/chat/chat.db"
CHAT_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS messages (_id INTEGER PRIMARY KEY, room TEXT NOT NULL, "
    "sender TEXT NOT NULL, body TEXT NOT NULL, outgoing INTEGER NOT NULL, date INTEGER NOT NULL)"
)
CHAT_COLUMNS = ["room", "sender", "body", "outgoing", "date"]
_BREAKS = re.compile(r"[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """A header value: every kind of line break unfolded to one space."""
    return _BREAKS.sub(" ", text)


@dataclass
class LinuxFold:
    tz: ZoneInfo
    mail: list[MailRecord] = field(default_factory=list)
    files: dict[str, FileRecord] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    todos: dict[str, Todo] = field(default_factory=dict)
    todo_mtime: datetime | None = None
    bank: dict[str, list[ev.BankTransaction]] = field(default_factory=dict)
    chat: list[list[int | str]] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)

    def add(self, e: ev.EventBase) -> None:
        handler = _HANDLERS.get(type(e))
        if handler is None:
            raise ValueError(f"event {e.id} ({e.kind}): nothing seeds it on a Linux device")
        handler(self, e)

    def finish(self) -> LinuxSeedPlan:
        records: list = [*self.mail, *self.files.values()]
        for account, rows in self.bank.items():
            data = bank_csv(
                [
                    (
                        r.t.astimezone(self.tz),
                        r.amount,
                        r.currency,
                        r.counterparty,
                        r.reference,
                        r.balance,
                    )
                    for r in rows
                ]
            )
            path = f"{BANK_DIR}/{slug(account, 'account')}.csv"
            records.append(FileRecord(path=path, content=data, mtime=rows[-1].t))
        if self.todos:
            data = todo_txt(list(self.todos.values()))
            records.append(FileRecord(path=TODO_FILE, content=data, mtime=self.todo_mtime))
        if self.history:
            records.append(BashHistoryRecord(path=HISTORY_FILE, entries=self.history))
        if self.chat:
            table = SqliteTable(table="messages", columns=CHAT_COLUMNS, rows=self.chat)
            records.append(SqliteRecord(path=CHAT_DB, schema_sql=[CHAT_SCHEMA], tables=[table]))
        return LinuxSeedPlan(records=records)


def _mail(f: LinuxFold, e: ev.MailReceived | ev.MailSent) -> None:
    received = isinstance(e, ev.MailReceived)
    headers = {}
    if e.cc:
        headers["Cc"] = one_line(", ".join(e.cc))
    if e.in_reply_to:
        headers["In-Reply-To"] = one_line(e.in_reply_to)
    f.mail.append(
        MailRecord(
            maildir=MAIL_INBOX if received else MAIL_SENT,
            sender=one_line(e.sender),
            to=[one_line(t) for t in e.to],
            subject=one_line(e.subject),
            body=e.body,
            date=e.t,
            message_id=one_line(e.message_id),
            seen=e.read if isinstance(e, ev.MailReceived) else True,
            headers=headers,
        )
    )


def _file(f: LinuxFold, path: str, text: str, when: datetime) -> None:
    f.files[path] = FileRecord(path=path, content=text.encode("utf-8"), mtime=when)


def _note(f: LinuxFold, e: ev.NoteWritten | ev.NoteEdited) -> None:
    _file(f, f"{NOTES_DIR}/{e.path}", e.text, e.t)


def _download(f: LinuxFold, e: ev.FileDownloaded) -> None:
    _file(f, f"{DOWNLOAD_DIR}/{e.name}", e.text, e.t)


def _placed(f: LinuxFold, e: ev.FilePlaced) -> None:
    why = e.device_problem("linux")
    if why:
        raise ValueError(f"event {e.id}: {why}")
    f.files[e.path] = FileRecord(
        path=e.path, content=e.content(), mode=e.mode, mtime=e.mtime or e.t
    )


def _shell(f: LinuxFold, e: ev.ShellCommand) -> None:
    f.history.append(HistoryEntry(at=e.t, command=e.command))


def _todo_added(f: LinuxFold, e: ev.TodoAdded) -> None:
    due = e.due.astimezone(f.tz).date() if e.due else None
    f.todos[e.todo_id] = Todo(e.todo_id, e.text, e.t.astimezone(f.tz).date(), None, due)
    f.todo_mtime = e.t


def _todo_done(f: LinuxFold, e: ev.TodoDone) -> None:
    todo = f.todos.get(e.todo_id)
    if todo is None:
        raise ValueError(f"event {e.id}: todo.done of unknown todo {e.todo_id!r}")
    todo.done = e.t.astimezone(f.tz).date()
    f.todo_mtime = e.t


def _bank(f: LinuxFold, e: ev.BankTransaction) -> None:
    f.bank.setdefault(e.account, []).append(e)


def _chat(f: LinuxFold, e: ev.ChatMessage) -> None:
    f.chat.append([e.room, e.sender, e.body, int(e.outgoing), int(e.t.timestamp() * 1000)])


_HANDLERS = {
    ev.MailReceived: _mail,
    ev.MailSent: _mail,
    ev.NoteWritten: _note,
    ev.NoteEdited: _note,
    ev.FileDownloaded: _download,
    ev.FilePlaced: _placed,
    ev.ShellCommand: _shell,
    ev.TodoAdded: _todo_added,
    ev.TodoDone: _todo_done,
    ev.BankTransaction: _bank,
    ev.ChatMessage: _chat,
}
