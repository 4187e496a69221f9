"""Every laptop event kind compiled, seeded into a real VM, read back with the guest's tools.

Mail is read with mblaze (the image's mail tools) and parsed from the Maildir,
history with bash itself, the todo file and bank CSV with their parsers, chat
rows with SQLite; each is compared with the events it came from.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from linux_vm.helper import GuestPython
from linux_vm.readers import maildir_messages, sqlite_rows
from linux_vm.ssh import SshSession
from tasks import compile_linux as L
from tasks.compile import compile_stream
from tasks.compile_formats import parse_bank_csv, parse_todo_txt, slug
from tests.compile.streams import HOSTILE, at, events, laptop_stream

# The first test on the VM pays for its restore (a cold boot when the machine is loaded).
pytestmark = [pytest.mark.integration, pytest.mark.vm, pytest.mark.slow, pytest.mark.timeout(600)]
DEVICES = {"laptop": "linux"}
TZ = "Europe/Berlin"


def epoch(hours: float) -> int:
    return int(datetime.fromisoformat(at(hours)).timestamp())


def home(laptop, path: str) -> str:
    return "/home/user/" + path[2:] if path.startswith("~/") else path


def counting(monkeypatch: pytest.MonkeyPatch, cls: type, name: str, calls: list[str]) -> None:
    real = getattr(cls, name)

    def counted(self, *args, **kwargs):
        calls.append(f"{cls.__name__}.{name}")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, counted)


def test_every_laptop_kind_round_trips_with_hostile_text(laptop, monkeypatch) -> None:
    tag = uuid.uuid4().hex[:8]
    plans = compile_stream(DEVICES, TZ, events(laptop_stream(tag)))
    calls: list[str] = []
    counting(monkeypatch, SshSession, "exec", calls)  # one SSH command each
    counting(monkeypatch, GuestPython, "run", calls)  # one program for the guest's root python
    digest = laptop.seed(plans["laptop"])
    monkeypatch.undo()
    assert len(calls) == 2, calls  # one apply, one read back, whatever the size
    assert digest["records"] == len(plans["laptop"].records)

    inbox = {m["message_id"]: m for m in maildir_messages(laptop, L.MAIL_INBOX)}
    got = inbox[f"<in-{tag}@x.example>"]
    assert got["body"] == f"{HOSTILE}\n{tag}\n"
    subject = f"{HOSTILE.replace(chr(10), ' ')} {tag}"  # headers are one line (RFC 5322)
    # A long UTF-8 subject is folded after "Subject:"; Python's parser keeps the fold's space.
    assert got["subject"].lstrip(" ") == subject
    assert not got["seen"] and got["file"].startswith("new/")
    assert got["mtime"] == epoch(0)
    sent = {m["message_id"]: m for m in maildir_messages(laptop, L.MAIL_SENT)}
    assert sent[f"<out-{tag}@x.example>"]["body"] == f"{HOSTILE} {tag}"
    # The image's mail tools read the same Maildir (mblaze decodes the encoded subject).
    r = laptop.exec(
        'mlist ~/Mail/INBOX | while read -r f; do mhdr -h message-id:subject "$f"; done'
    )
    assert r.exit_code == 0, r.stderr
    assert f"<in-{tag}@x.example>\n{subject}\n" in r.stdout  # exact, no folding space

    note = home(laptop, f'{L.NOTES_DIR}/work/{tag} "n" $x.md')
    assert laptop.read_file(note) == f"{HOSTILE}\n".encode()
    stamp = laptop.exec(f"stat -c %Y '{note.replace(chr(39), chr(39) + chr(92) + chr(39) * 2)}'")
    assert stamp.stdout.strip() == str(epoch(3))
    report = laptop.read_file(home(laptop, f"{L.DOWNLOAD_DIR}/report {tag}.csv"))
    assert report == f'a,b\n1,"{HOSTILE}"\n'.encode()

    # bash reads its own history file, timestamps included (histchars names the '#'
    # that marks a timestamp line; a non-interactive bash leaves it unset).
    r = laptop.exec(
        'bash -c \'histchars="!^#"; HISTFILE=~/.bash_history; HISTTIMEFORMAT="%s|"; '
        "set -o history; history -c; history -r; history'"
    )
    assert f"{epoch(5)}|echo '{tag}' | wc -c" in r.stdout
    assert f'{epoch(6)}|grep -r "$HOME" {tag}' in r.stdout

    todos = parse_todo_txt(laptop.read_file(home(laptop, L.TODO_FILE)))
    assert [(t.text, t.done is None, t.due is not None) for t in todos] == [
        (f"{HOSTILE} {tag}", True, True),
        (f"second {tag}", False, False),
    ]

    bank = laptop.read_file(home(laptop, f"{L.BANK_DIR}/{slug(f'DE44 {tag}', 'account')}.csv"))
    rows = parse_bank_csv(bank)
    assert [(r["amount"], r["counterparty"], r["reference"]) for r in rows] == [
        ("-12.50", HOSTILE, HOSTILE),
        ("1000", "Employer GmbH", ""),
    ]

    chat = sqlite_rows(laptop, home(laptop, L.CHAT_DB), "SELECT body, outgoing, date FROM messages")
    assert [f"{HOSTILE} {tag}", 1, epoch(12) * 1000] in chat
