"""Maildir files written the way Dovecot reads them, shared by seeding and SMTP delivery.

A message is written into ``tmp/`` and renamed into ``new/`` (unseen, no flags) or
``cur/`` with its ``:2,FLAGS`` suffix; the file's mtime is the message's
INTERNALDATE. Bytes are written as given: nothing is re-encoded.
"""

from __future__ import annotations

import itertools
import os
import socket
from datetime import datetime
from pathlib import Path

FOLDERS = ("INBOX", "Sent", "Archive", "Drafts", "Trash")
# IMAP system flag -> Maildir info letter (Maildir wants them sorted).
FLAG_LETTERS = {
    "\\Draft": "D",
    "\\Flagged": "F",
    "\\Answered": "R",
    "\\Seen": "S",
    "\\Deleted": "T",
}
_counter = itertools.count()


def mailbox_path(store: Path, user: str, folder: str) -> Path:
    """Where ``folder`` of ``user`` lives (Dovecot ``LAYOUT=fs`` with INBOX as a folder)."""
    return store / user / folder


def make_folders(store: Path, user: str, uid: int | None = None, gid: int | None = None) -> None:
    for folder in FOLDERS:
        for sub in ("cur", "new", "tmp"):
            path = mailbox_path(store, user, folder) / sub
            path.mkdir(parents=True, exist_ok=True)
    if uid is not None:
        chown_tree(store, uid, gid if gid is not None else uid)


def chown_tree(root: Path, uid: int, gid: int) -> None:
    if os.geteuid() != 0:
        return
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, name), uid, gid)


def deliver(
    store: Path,
    user: str,
    folder: str,
    data: bytes,
    when: datetime,
    flags: tuple[str, ...] = (),
    owner: tuple[int, int] | None = None,
) -> Path:
    """Write one message; returns its final path."""
    box = mailbox_path(store, user, folder)
    stamp = when.timestamp()
    base = f"{int(stamp)}.M{next(_counter)}P{os.getpid()}.{socket.gethostname().replace('/', '_')}"
    tmp = box / "tmp" / base
    with open(tmp, "wb") as f:
        f.write(data)
    os.utime(tmp, (stamp, stamp))
    if owner is not None and owner[0] >= 0 and os.geteuid() == 0:
        os.chown(tmp, *owner)
    letters = "".join(sorted(FLAG_LETTERS[f] for f in flags if f in FLAG_LETTERS))
    if flags:
        final = box / "cur" / f"{base},S={len(data)}:2,{letters}"
    else:
        final = box / "new" / f"{base},S={len(data)}"
    os.rename(tmp, final)
    return final
