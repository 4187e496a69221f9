"""Reading a Linux machine's real state for scoring and for seed verification.

Queries are typed (``kind`` picks one): a file's bytes, its SHA-256, the
SHA-256 of every file under a folder, a directory listing, a command's output,
SQLite rows, the messages of a Maildir folder, a user's crontab. Reads that need
more than SFTP run a short Python program in the guest as root and return JSON,
one command per read (the programs are modules of :mod:`linux_vm.guest`).

The kinds every device answers alike (the Android readers too, see
``rig.world.Device.read_state``): ``file`` (bytes; ``FileNotFoundError`` when
missing), ``sha256``, ``tree_hashes`` and ``command``. A path starting ``~/`` is
in the connected user's home.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from email import policy
from email.parser import BytesParser
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from linux_vm.errors import DeviceLost, LinuxInputError, VMError
from linux_vm.guest import source
from state_queries import (
    CommandQuery,
    FileQuery,
    HashQuery,
    TreeHashQuery,
    command_answer,
    parse,
)
from state_queries import Query as _Query

if TYPE_CHECKING:
    from linux_vm.device import SshLinuxDevice


# The shared kinds (file, sha256, tree_hashes, command) are :mod:`state_queries`'; these are
# the Linux machine's own.
class DirQuery(_Query):
    kind: Literal["list_dir"] = "list_dir"
    path: str


class SqliteQuery(_Query):
    kind: Literal["sqlite"] = "sqlite"
    path: str
    sql: str
    params: list[int | float | str | None] = Field(default_factory=list)


class MaildirQuery(_Query):
    kind: Literal["maildir"] = "maildir"
    path: str = "~/Maildir"
    folder: str = ""
    user: str = "user"


class CrontabQuery(_Query):
    kind: Literal["crontab"] = "crontab"
    user: str = "user"


Query = Annotated[
    FileQuery
    | HashQuery
    | TreeHashQuery
    | DirQuery
    | CommandQuery
    | SqliteQuery
    | MaildirQuery
    | CrontabQuery,
    Field(discriminator="kind"),
]


_KINDS: TypeAdapter[Any] = TypeAdapter(Query)


def parse_query(query: Any) -> Any:
    """A typed query from a typed one or a mapping (``{"kind": "file", "path": …}``)."""
    return parse(query, _KINDS, LinuxInputError, "Linux")


def read(device: SshLinuxDevice, query: Any) -> Any:
    """Answer one query: bytes, a hex digest, names, a dict or a list of rows/messages."""
    q = parse_query(query)
    if isinstance(q, FileQuery):
        return device.read_file(sftp_path(q.path))
    if isinstance(q, HashQuery):
        return hashlib.sha256(device.read_file(sftp_path(q.path))).hexdigest()
    if isinstance(q, TreeHashQuery):
        return tree_hashes(device, q.root)
    if isinstance(q, DirQuery):
        return device.list_dir(sftp_path(q.path))
    if isinstance(q, CommandQuery):
        return command_answer(device.exec(q.command, timeout=q.timeout))
    if isinstance(q, SqliteQuery):
        return sqlite_rows(device, q.path, q.sql, q.params)
    if isinstance(q, MaildirQuery):
        return maildir_messages(device, q.path, q.folder, q.user)
    if isinstance(q, CrontabQuery):
        return crontab(device, q.user)
    raise LinuxInputError(f"unsupported query {q!r}")  # another layer's typed query


def sftp_path(path: str) -> str:
    """``~/…`` as SFTP sees it: relative paths start in the connected user's home."""
    if path == "~":
        return "."
    return path[2:] or "." if path.startswith("~/") else path


def shell_path(path: str) -> str:
    """``path`` quoted for a shell, with ``~/…`` in ``$HOME``."""
    if path == "~" or path.startswith("~/"):
        rest = path[2:]
        return '"$HOME"' + (f"/{shlex.quote(rest)}" if rest else "")
    return shlex.quote(path)


LISTING_CAP = 1 << 26


def tree_hashes(device: SshLinuxDevice, root: str) -> dict[str, str]:
    """``{path: sha256}`` of every regular file under ``root`` (empty when it does not exist)."""
    return trees_hashes(device, [root])[root]


def trees_hashes(device: SshLinuxDevice, roots: list[str]) -> dict[str, dict[str, str]]:
    """:func:`tree_hashes` of several roots in one round trip: a walk in the guest's resident
    helper, as the connected user (a command per root costs a channel and a few processes)."""
    user = device.session.user
    reply = _guest(device, source("tree_hashes"), {"roots": list(roots), "user": user}, "hashing")
    if not isinstance(reply, dict) or set(reply) != set(roots):
        raise VMError(f"hashing {roots}: the guest answered for {sorted(reply)}")
    return reply


def find_tree_hashes(device: SshLinuxDevice, root: str) -> dict[str, str]:
    """:func:`tree_hashes` the way a shell does it (``find | sha256sum``, one command)."""
    q = shell_path(root)
    # never cut at the usual output cap: a file missing from the listing would read as unchanged
    r = device.exec(
        f"[ -d {q} ] && find {q} -type f -print0 | xargs -0 -r sha256sum; true",
        timeout=120,
        output_cap=LISTING_CAP,
    )
    if r.exit_code != 0 or r.truncated:
        raise VMError(f"hashing {root} failed or passed {LISTING_CAP} bytes: {r.stderr.strip()}")
    hashes: dict[str, str] = {}
    for line in r.stdout.splitlines():
        digest, _, path = line.partition(" ")
        if digest:
            hashes[path.lstrip(" *")] = digest
    return hashes


def _guest(device: SshLinuxDevice, program: str, args: Any, what: str) -> Any:
    r = device.privileged_python(program, stdin=json.dumps(args).encode(), timeout=120)
    try:
        reply = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise VMError(
            f"{what}: the guest reader failed (exit {r.exit_code}): {r.stderr.strip()}"
        ) from None
    if isinstance(reply, dict) and "error" in reply:
        raise LinuxInputError(f"{what}: {reply['error']}")
    return reply


def _decode(v: Any) -> Any:
    return base64.b64decode(v["$b64"]) if isinstance(v, dict) and "$b64" in v else v


def sqlite_rows(
    device: SshLinuxDevice, path: str, sql: str, params: list | None = None
) -> list[list[Any]]:
    """Rows of a read-only query (BLOBs come back as bytes)."""
    rows = _guest(
        device, source("sqlite_rows"), {"path": path, "sql": sql, "params": params or []}, path
    )
    return [[_decode(v) for v in row] for row in rows]


def maildir_messages(
    device: SshLinuxDevice, path: str = "~/Maildir", folder: str = "", user: str = "user"
) -> list[dict[str, Any]]:
    """Messages of a Maildir folder, parsed: headers, decoded body, flags, file name."""
    items = _guest(device, source("maildir"), {"path": path, "folder": folder, "user": user}, path)
    out = []
    for item in items:
        raw = base64.b64decode(item["raw"])
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        body = msg.get_body(("plain",))
        flags = item["name"].rpartition(":2,")[2] if ":2," in item["name"] else ""
        out.append(
            {
                "file": f"{item['sub']}/{item['name']}",
                "from": str(msg["From"] or ""),
                "to": str(msg["To"] or ""),
                "subject": str(msg["Subject"] or ""),
                "date": str(msg["Date"] or ""),
                "message_id": str(msg["Message-ID"] or ""),
                "body": body.get_content() if body is not None else "",
                "seen": "S" in flags,
                "flagged": "F" in flags,
                "mtime": item["mtime"],
                "raw": raw,
            }
        )
    return out


def crontab(device: SshLinuxDevice, user: str = "user") -> str:
    """The user's installed crontab ("" when there is none)."""
    r = device.privileged(f"crontab -l -u {_word(user)}", timeout=30)
    if r.exit_code != 0:
        if "no crontab" in r.stderr:
            return ""
        raise VMError(f"crontab -l -u {user} failed: {r.stderr.strip()}")
    return r.stdout


def _word(value: str) -> str:
    if not value or not all(c.isalnum() or c in "._-" for c in value):
        raise LinuxInputError(f"{value!r} is not a valid user name")
    return value


def canonical_rows(rows: list[list[Any]]) -> str:
    """A digest of rows in order (bytes already encoded as ``{"$b64": …}``)."""
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def facts(device: SshLinuxDevice, checks: list[dict]) -> list[dict]:
    """What is really there for each check (files, crontabs, SQLite tables), one command."""
    if not checks:
        return []
    try:
        return _guest(device, source("facts"), checks, "reading seeded state back")
    except LinuxInputError as exc:  # pragma: no cover - the program reports no input errors
        raise VMError(str(exc)) from exc
    except DeviceLost:
        raise
