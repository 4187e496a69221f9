"""Seeding a Linux machine: typed records, applied in one round trip, read back and verified.

A :class:`LinuxSeedPlan` is a list of records (files with owner/mode/mtime,
Maildir messages, bash history with timestamps, crontabs, SQLite databases).
The task compiler targets these models. :func:`apply_plan` renders the plan on
the host into one tar stream (payloads + a manifest of operations) and sends it
on the stdin of a single ``sudo python3`` command in the guest, which applies
every operation. A second command then reads the real state back
(:func:`linux_vm.readers.facts`) and the host compares it with what the plan
implies; the first record that differs raises :class:`SeedMismatch`.

Text is carried as bytes end to end (tar members, never shell arguments), so
quotes, ``$``, backticks, newlines, emoji and CJK arrive byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from linux_vm.errors import LinuxInputError, SeedMismatch
from linux_vm.guest import source
from linux_vm.readers import canonical_rows, facts

if TYPE_CHECKING:
    from linux_vm.device import SshLinuxDevice

SqlValue = int | float | str | bytes | None
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def label(self) -> str:
        return f"{self.kind} {getattr(self, 'path', '')}".strip()  # type: ignore[attr-defined]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("datetimes must carry a timezone")
    return value


def _check_path(path: str) -> str:
    if not (path.startswith("/") or path.startswith("~/")):
        raise ValueError(f"{path!r}: paths must be absolute or start with ~/")
    if "\x00" in path or any(part == ".." for part in path.split("/")):
        raise ValueError(f"{path!r}: no NUL bytes or '..' components")
    return path


class FileRecord(_Record):
    """A file with exact bytes; ``~/`` means the owner's home; parents are created."""

    kind: Literal["file"] = "file"
    path: str
    content: bytes
    owner: str = "user"
    group: str | None = None
    mode: int = Field(default=0o644, ge=0, le=0o7777)
    mtime: datetime | None = None

    _path = field_validator("path")(classmethod(lambda cls, v: _check_path(v)))
    _mtime = field_validator("mtime")(classmethod(lambda cls, v: _aware(v)))

    @field_validator("content", mode="before")
    @classmethod
    def _text_is_utf8(cls, v: Any) -> Any:
        return v.encode("utf-8") if isinstance(v, str) else v


class MailRecord(_Record):
    """One message in a Maildir (``folder`` "" is the inbox, ".Archive" a subfolder)."""

    kind: Literal["mail"] = "mail"
    maildir: str = "~/Maildir"
    folder: str = ""
    sender: str
    to: list[str]
    subject: str
    body: str
    date: datetime
    message_id: str | None = None
    seen: bool = True
    flagged: bool = False
    headers: dict[str, str] = Field(default_factory=dict)
    owner: str = "user"

    _maildir = field_validator("maildir")(classmethod(lambda cls, v: _check_path(v)))
    _date = field_validator("date")(classmethod(lambda cls, v: _aware(v)))

    @field_validator("subject", "sender")
    @classmethod
    def _one_line(cls, v: str) -> str:
        # Python's email headers refuse every Unicode line boundary, not only CR/LF.
        if len(v.splitlines()) > 1 or any(c in v for c in _LINE_BREAKS):
            raise ValueError(f"header values cannot contain line breaks: {v!r}")
        # Whitespace around a header value is not part of it (RFC 5322): say so up front
        # instead of reading back something shorter than what was planned.
        return v.strip(" \t")

    @field_validator("to")
    @classmethod
    def _one_line_each(cls, v: list[str]) -> list[str]:
        return [cls._one_line(x) for x in v]

    @field_validator("headers")
    @classmethod
    def _one_line_headers(cls, v: dict[str, str]) -> dict[str, str]:
        return {cls._one_line(k): cls._one_line(x) for k, x in v.items()}

    @field_validator("folder")
    @classmethod
    def _folder(cls, v: str) -> str:
        if v and (not v.startswith(".") or "/" in v or v in (".", "..")):
            raise ValueError(f"{v!r}: Maildir++ folders look like '.Name'")
        return v

    def label(self) -> str:
        return f"mail {self.maildir}/{self.folder} {self.subject!r}"

    def render(self) -> bytes:
        """The message as RFC 5322 bytes; the body decodes back to exactly ``body``."""
        # RFC 6532 UTF-8 headers: no encoded-words, whose folding loses spaces between them.
        msg = EmailMessage(policy=policy.default.clone(utf8=True))
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Subject"] = self.subject
        msg["Date"] = format_datetime(self.date)
        msg["Message-ID"] = self.message_id or make_msgid(domain="clawrig.local")
        for key, value in self.headers.items():
            msg[key] = value
        simple = (
            self.body.endswith("\n")
            and "\r" not in self.body
            and all(len(line.encode()) < 900 for line in self.body.split("\n"))
        )
        if simple:
            msg.set_content(self.body, cte="8bit")
        else:
            # set_content(str) normalises line ends; as bytes, base64 keeps them exactly.
            msg.set_content(
                self.body.encode(),
                maintype="text",
                subtype="plain",
                cte="base64",
                params={"charset": "utf-8"},
            )
        return msg.as_bytes()

    def filename(self, rendered: bytes) -> str:
        stamp = int(self.date.timestamp())
        uniq = hashlib.sha256(rendered).hexdigest()[:16]
        flags = ("F" if self.flagged else "") + ("S" if self.seen else "")
        return f"{stamp}.{uniq}.clawrig:2,{flags}"

    def target(self, rendered: bytes) -> str:
        box = self.maildir.rstrip("/") + ("/" + self.folder if self.folder else "")
        sub = "cur" if self.seen else "new"
        return f"{box}/{sub}/{self.filename(rendered)}"


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: datetime
    command: str

    _at = field_validator("at")(classmethod(lambda cls, v: _aware(v)))


class BashHistoryRecord(_Record):
    """``~/.bash_history`` with ``#<epoch>`` lines, as bash writes it with HISTTIMEFORMAT."""

    kind: Literal["bash_history"] = "bash_history"
    user: str = "user"
    path: str = "~/.bash_history"
    entries: list[HistoryEntry]

    _path = field_validator("path")(classmethod(lambda cls, v: _check_path(v)))

    def render(self) -> bytes:
        lines = []
        for e in sorted(self.entries, key=lambda e: e.at):
            lines.append(f"#{int(e.at.timestamp())}\n{e.command.rstrip(chr(10))}\n")
        return "".join(lines).encode("utf-8")


class CrontabRecord(_Record):
    """A user's crontab, installed with ``crontab -u USER -``."""

    kind: Literal["crontab"] = "crontab"
    user: str = "user"
    content: str

    def label(self) -> str:
        return f"crontab of {self.user}"

    def body(self) -> bytes:
        text = self.content if self.content.endswith("\n") else self.content + "\n"
        return text.encode("utf-8")


class SqliteTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    table: str
    columns: list[str]
    rows: list[list[SqlValue]] = Field(default_factory=list)


class SqliteRecord(_Record):
    """A SQLite database: ``schema`` statements run first, then ``tables`` rows inserted."""

    kind: Literal["sqlite"] = "sqlite"
    path: str
    schema_sql: list[str] = Field(default_factory=list)
    tables: list[SqliteTable] = Field(default_factory=list)
    owner: str = "user"
    mode: int = Field(default=0o644, ge=0, le=0o7777)

    _path = field_validator("path")(classmethod(lambda cls, v: _check_path(v)))


SeedRecord = Annotated[
    FileRecord | MailRecord | BashHistoryRecord | CrontabRecord | SqliteRecord,
    Field(discriminator="kind"),
]


class LinuxSeedPlan(BaseModel):
    """Everything one Linux device is seeded with, in order."""

    model_config = ConfigDict(extra="forbid")
    records: list[SeedRecord] = Field(default_factory=list)


# -- host side: render ----------------------------------------------------------------


def _encode(value: SqlValue) -> Any:
    return {"$b64": base64.b64encode(value).decode()} if isinstance(value, bytes) else value


def _file_op(path: str, data: bytes, owner: str, group: str | None, mode: int, mtime) -> dict:
    return {
        "op": "file",
        "path": path,
        "data": data,
        "owner": owner,
        "group": group,
        "mode": mode,
        "mtime": None if mtime is None else mtime.timestamp(),
    }


def compile_plan(plan: LinuxSeedPlan) -> tuple[list[dict], list[dict]]:
    """The guest operations and, per record, the facts that must read back afterwards."""
    ops: list[dict] = []
    expect: list[dict] = []
    made: set[tuple[str, str, int]] = set()  # a stream's mails share a few folders
    for rec in plan.records:
        if isinstance(rec, FileRecord):
            ops.append(_file_op(rec.path, rec.content, rec.owner, rec.group, rec.mode, rec.mtime))
            expect.append(_file_facts(rec.path, rec.content, rec.owner, rec.group, rec.mode))
            if rec.mtime is not None:
                expect[-1]["mtime"] = int(rec.mtime.timestamp())
        elif isinstance(rec, MailRecord):
            data = rec.render()
            box = rec.maildir.rstrip("/") + ("/" + rec.folder if rec.folder else "")
            for sub in ("cur", "new", "tmp"):
                if (f"{box}/{sub}", rec.owner, 0o700) not in made:
                    made.add((f"{box}/{sub}", rec.owner, 0o700))
                    ops.append(
                        {"op": "dir", "path": f"{box}/{sub}", "owner": rec.owner, "mode": 0o700}
                    )
            path = rec.target(data)
            ops.append(_file_op(path, data, rec.owner, None, 0o600, rec.date))
            expect.append(_file_facts(path, data, rec.owner, None, 0o600))
            expect[-1]["mtime"] = int(rec.date.timestamp())
        elif isinstance(rec, BashHistoryRecord):
            data = rec.render()
            ops.append(_file_op(rec.path, data, rec.user, None, 0o600, None))
            expect.append(_file_facts(rec.path, data, rec.user, None, 0o600))
        elif isinstance(rec, CrontabRecord):
            body = rec.body()
            ops.append({"op": "crontab", "user": rec.user, "data": body})
            expect.append(
                {"kind": "crontab", "user": rec.user, "sha256": hashlib.sha256(body).hexdigest()}
            )
        elif isinstance(rec, SqliteRecord):
            tables = [
                {
                    "table": t.table,
                    "columns": t.columns,
                    "rows": [[_encode(v) for v in row] for row in t.rows],
                }
                for t in rec.tables
            ]
            ops.append(
                {
                    "op": "sqlite",
                    "path": rec.path,
                    "owner": rec.owner,
                    "mode": rec.mode,
                    "data": json.dumps({"schema": rec.schema_sql, "tables": tables}).encode(),
                }
            )
            expect.append(
                {
                    "kind": "sqlite",
                    "path": rec.path,
                    "owner": rec.owner,
                    "mode": rec.mode,
                    "tables": {
                        t.table: canonical_rows([[_encode(v) for v in r] for r in t.rows])
                        for t in rec.tables
                    },
                    "columns": {t.table: t.columns for t in rec.tables},
                }
            )
    return ops, expect


def _file_facts(path: str, data: bytes, owner: str, group: str | None, mode: int) -> dict:
    return {
        "kind": "file",
        "path": path,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "owner": owner,
        "group": group,
        "mode": mode,
    }


def bundle(ops: Sequence[dict]) -> bytes:
    """One tar: ``ops.json`` plus one member per payload (never inlined into a command)."""
    buf = io.BytesIO()
    manifest = []
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for i, op in enumerate(ops):
            op = dict(op)
            data = op.pop("data", None)
            if data is not None:
                info = tarfile.TarInfo(f"blob/{i}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                op["blob"] = f"blob/{i}"
            manifest.append(op)
        blob = json.dumps(manifest).encode()
        info = tarfile.TarInfo("ops.json")
        info.size = len(blob)
        tar.addfile(info, io.BytesIO(blob))
    return buf.getvalue()


def apply_plan(device: SshLinuxDevice, plan: LinuxSeedPlan | dict | list) -> dict[str, Any]:
    """Seed ``device`` with ``plan`` (one transfer + one command), verify, return the digest."""
    plan = as_plan(plan)
    ops, expect = compile_plan(plan)
    if ops:
        result = device.privileged_python(source("apply_seed"), stdin=bundle(ops), timeout=300)
        reply = _last_json(result.stdout, result.stderr, result.exit_code)
        if "error" in reply:
            if reply["error"] == "input":
                raise LinuxInputError(f"seed plan: {reply['message']}")
            raise SeedMismatch(f"seeding failed: {reply['message']}")
    return verify_plan(device, plan, expect)


def verify_plan(
    device: SshLinuxDevice, plan: LinuxSeedPlan | dict | list, expect: list[dict] | None = None
) -> dict[str, Any]:
    """Read the seeded state back and compare; raises :class:`SeedMismatch` on the first miss."""
    plan = as_plan(plan)
    if expect is None:
        expect = compile_plan(plan)[1]
    got = facts(device, expect)
    for i, (want, have) in enumerate(zip(expect, got, strict=True)):
        problem = _differs(want, have)
        if problem:
            rec = plan.records[i]
            raise SeedMismatch(f"seed record #{i} ({rec.label()}) did not read back: {problem}")
    items = [{k: v for k, v in g.items() if k != "tables"} for g in got]
    digest = hashlib.sha256(json.dumps(got, sort_keys=True).encode()).hexdigest()
    return {"records": len(expect), "sha256": digest, "items": items}


def _differs(want: dict, have: dict) -> str | None:
    if have.get("missing"):
        return f"{have.get('path') or have.get('user')} is missing"
    for key, value in want.items():
        if key in ("kind", "path", "user", "columns") or value is None:
            continue
        if key == "tables":
            for table, digest in value.items():
                if have.get("tables", {}).get(table) != digest:
                    return f"table {table!r} rows differ"
            continue
        if have.get(key) != value:
            shown = oct(value) if key == "mode" else value
            seen = oct(have.get(key) or 0) if key == "mode" else have.get(key)
            return f"{key} is {seen!r}, expected {shown!r}"
    return None


def as_plan(plan: LinuxSeedPlan | dict | list) -> LinuxSeedPlan:
    """Accept a plan model, a mapping with ``records`` or a bare list of records."""
    if isinstance(plan, LinuxSeedPlan):
        return plan
    try:
        if isinstance(plan, list):
            return LinuxSeedPlan.model_validate({"records": plan})
        return LinuxSeedPlan.model_validate(plan)
    except Exception as exc:
        raise LinuxInputError(f"invalid Linux seed plan: {exc}") from exc


def _last_json(stdout: str, stderr: str, code: int) -> dict:
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise SeedMismatch(f"the guest seeding step failed (exit {code}): {stderr.strip()[-2000:]}")
