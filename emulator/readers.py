"""Android state for scoring and seed verification: providers, files, app databases, settings.

``read_state(device, query)`` answers one query; a query is a model below (or of
:mod:`state_queries`) or a mapping naming its ``kind``. The kinds every device
answers alike (the Linux readers too, see ``rig.world.Device.read_state``): ``file`` (bytes;
``FileNotFoundError`` when missing), ``sha256``, ``tree_hashes`` (``{path:
sha256}`` of the regular files under a folder) and ``command`` (``{stdout,
stderr, exit_code}``, outside the agent's session). A path starting ``~/`` is in
the user's home, which on a phone is ``/sdcard``. Android's own kinds:
``provider``, ``contacts``, ``app_db``, ``file_hashes`` (md5), ``setting``, ``ui``.

``content query`` prints ``Row: N col=value, col=value`` with values raw: a
value may contain ``, `` or newlines. Rows are therefore split only at a
``Row: N `` line whose N is the next expected index, and columns only at
``, NAME=`` for the next column of the known projection, in order.

App database rows travel as ``typeof:hex`` pairs, so any bytes survive.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from emulator.errors import AndroidError, AndroidInputError
from state_queries import (
    CommandQuery,
    FileQuery,
    HashQuery,
    Query,
    TreeHashQuery,
    command_answer,
    parse,
)

if TYPE_CHECKING:
    from emulator.device import AdbAndroidDevice

Value = str | int | float | bytes | None
Row = dict[str, Value]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# ContactsContract data kinds (the ``mimetype`` column of ``content://com.android.contacts/data``).
MIME_NAME = "vnd.android.cursor.item/name"
MIME_PHONE = "vnd.android.cursor.item/phone_v2"
MIME_EMAIL = "vnd.android.cursor.item/email_v2"
MIME_ORG = "vnd.android.cursor.item/organization"  # data1 company, data4 job title
MIME_NOTE = "vnd.android.cursor.item/note"  # data1 the note


def parse_content_rows(
    text: str, projection: Sequence[str], types: Mapping[str, Callable[[str], Any]] | None = None
) -> list[Row]:
    """Rows of ``content query --projection a:b:c`` output, in projection order.

    ``NULL`` becomes None (``content`` prints SQL NULL and the text ``NULL`` alike);
    ``types`` converts named columns (``{"_id": int}``).
    """
    if not projection:
        raise AndroidInputError("parse_content_rows needs the projection the query used")
    if text.strip() in ("", "No result found."):
        return []
    types = types or {}
    chunks: list[str] = []
    pos = 0
    index = 0
    head = f"Row: {index} "
    if not text.startswith(head):
        raise AndroidError(f"content query output does not start with 'Row: 0': {text[:200]!r}")
    pos = len(head)
    while True:
        index += 1
        nxt = text.find(f"\nRow: {index} ", pos)
        if nxt < 0:
            body = text[pos:]
            chunks.append(body[:-1] if body.endswith("\n") else body)
            break
        chunks.append(text[pos:nxt])
        pos = nxt + len(f"\nRow: {index} ")
    return [_split_row(chunk, projection, types) for chunk in chunks]


def _split_row(
    chunk: str, projection: Sequence[str], types: Mapping[str, Callable[[str], Any]]
) -> Row:
    first = f"{projection[0]}="
    if not chunk.startswith(first):
        raise AndroidError(f"content row does not start with {first!r}: {chunk[:200]!r}")
    row: Row = {}
    start = len(first)
    for i, col in enumerate(projection):
        if i + 1 < len(projection):
            sep = f", {projection[i + 1]}="
            end = chunk.find(sep, start)
            if end < 0:
                raise AndroidError(f"content row lacks column {projection[i + 1]!r}: {chunk!r}")
            raw, start = chunk[start:end], end + len(sep)
        else:
            raw = chunk[start:]
        row[col] = None if raw == "NULL" else (types[col](raw) if col in types else raw)
    return row


def content_query_command(
    uri: str,
    projection: Sequence[str],
    where: str | None = None,
    sort: str | None = None,
) -> str:
    for col in projection:
        if not _IDENT.fullmatch(col):
            raise AndroidInputError(f"bad column name in projection: {col!r}")
    cmd = f"content query --uri {shlex.quote(uri)} --projection {':'.join(projection)}"
    if where:
        cmd += f" --where {shlex.quote(where)}"
    if sort:
        cmd += f" --sort {shlex.quote(sort)}"
    return cmd


def query(
    device: AdbAndroidDevice,
    uri: str,
    projection: Sequence[str],
    where: str | None = None,
    sort: str | None = None,
    types: Mapping[str, Callable[[str], Any]] | None = None,
) -> list[Row]:
    """Rows of a content provider, parsed and typed."""
    out = device.check(content_query_command(uri, projection, where, sort))
    return parse_content_rows(out, projection, types)


def batch(device: AdbAndroidDevice, commands: Mapping[str, str]) -> dict[str, str]:
    """Run several read-only commands in one round trip; each one's stdout by name.

    Sections are delimited by a random nonce no data can predict.
    """
    nonce = "@@" + secrets.token_hex(8)
    script = "; ".join(f"echo {nonce}:{name}; {cmd}" for name, cmd in commands.items())
    out = device.check(script, timeout=300)
    result: dict[str, str] = {}
    parts = out.split(nonce + ":")
    for part in parts[1:]:
        name, _, body = part.partition("\n")
        result[name] = body
    missing = set(commands) - set(result)
    if missing:
        raise AndroidError(f"batched read lost sections {sorted(missing)}: {out[:300]!r}")
    return result


# -- app databases --------------------------------------------------------------
def sqlite_select_command(db: str, table: str, columns: Sequence[str], where: str = "") -> str:
    """A ``sqlite3`` command printing each row as ``type:hex|type:hex…`` (byte-exact)."""
    for name in (table, *columns):
        if not _IDENT.fullmatch(name):
            raise AndroidInputError(f"bad SQL identifier: {name!r}")
    cells = " || '|' || ".join(f"typeof({c}) || ':' || hex({c})" for c in columns)
    sql = f"SELECT {cells} FROM {table}"
    if where:
        sql += f" WHERE {where}"
    sql += " ORDER BY rowid;"
    return f"sqlite3 -batch -noheader {shlex.quote(db)} {shlex.quote(sql)}"


def _decode_cell(cell: str) -> Value:
    kind, _, hexed = cell.partition(":")
    raw = bytes.fromhex(hexed)
    if kind == "null":
        return None
    if kind == "integer":
        return int(raw.decode("ascii"))
    if kind == "real":
        return float(raw.decode("ascii"))
    if kind == "text":
        return raw.decode("utf-8", "surrogateescape")
    if kind == "blob":
        return raw
    raise AndroidError(f"sqlite3 printed an unknown type {kind!r}")


def parse_sqlite_rows(text: str, columns: Sequence[str]) -> list[Row]:
    rows: list[Row] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        cells = line.split("|")
        if len(cells) != len(columns):
            raise AndroidError(f"sqlite3 row has {len(cells)} cells, expected {len(columns)}")
        rows.append({c: _decode_cell(v) for c, v in zip(columns, cells, strict=True)})
    return rows


def app_db_rows(
    device: AdbAndroidDevice, db: str, table: str, columns: Sequence[str], where: str = ""
) -> list[Row]:
    """Rows of an app's SQLite table, read as root, values exactly as stored."""
    return parse_sqlite_rows(
        device.check(sqlite_select_command(db, table, columns, where)), columns
    )


# -- files and settings ---------------------------------------------------------
def file_hashes(device: AdbAndroidDevice, paths: Sequence[str]) -> dict[str, str | None]:
    """``{path: md5 hex}`` for each path (None when missing), in one round trip."""
    return _sums(device, "md5sum", paths)


HOME = "/sdcard"


def expand(path: str) -> str:
    """``~`` and ``~/…`` in the user's home (shared storage on a phone)."""
    return HOME + path[1:] if path == "~" or path.startswith("~/") else path


def read_file(device: AdbAndroidDevice, path: str) -> bytes:
    """The file's bytes; ``FileNotFoundError`` when there is no regular file at ``path``."""
    path = expand(path)
    try:
        data = device.read_bytes(path)
    except (AndroidError, AndroidInputError):  # AndroidInputError: sync refused the path
        data = None
    # sync RECV of a missing file either fails or yields nothing: only then ask.
    if not data and device.shell(f"test -f {shlex.quote(path)}").exit_code != 0:
        raise FileNotFoundError(path)
    if data is None:  # the file is there but sync could not read it: report that, not absence
        return device.read_bytes(path)
    return data


COMMAND_BYTES = 32 * 1024


def _sums(device: AdbAndroidDevice, tool: str, paths: Sequence[str]) -> dict[str, str | None]:
    """``{path: hex digest}`` from toybox ``tool`` (None when missing), in one round trip per
    :data:`COMMAND_BYTES` of quoted paths (adb refuses a longer shell request)."""
    if not paths:
        return {}
    width = {"md5sum": 32, "sha256sum": 64}[tool]
    found: dict[str, str | None] = dict.fromkeys(paths)
    chunks: list[list[str]] = [[]]
    size = 0
    for p in paths:
        quoted = len(shlex.quote(p).encode()) + 1
        if chunks[-1] and size + quoted > COMMAND_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(p)
        size += quoted
    for chunk in chunks:
        cmd = f"{tool} " + " ".join(shlex.quote(p) for p in chunk) + " 2>/dev/null"
        res = device.shell(cmd, output_cap=1 << 24)
        for line in res.stdout.split("\n"):  # not splitlines(): names may hold \x1c-\x1e, \x85
            digest, _, path = line.partition(" ")
            path = path.lstrip(" *")
            if path in found and re.fullmatch(rf"[0-9a-f]{{{width}}}", digest):
                found[path] = digest
    return found


def sha256(device: AdbAndroidDevice, path: str) -> str:
    """The file's SHA-256 hex digest; ``FileNotFoundError`` when missing."""
    path = expand(path)
    digest = _sums(device, "sha256sum", [path])[path]
    if digest is None:
        raise FileNotFoundError(path)
    return digest


LISTING_CAP = 1 << 26


def tree_hashes(device: AdbAndroidDevice, root: str) -> dict[str, str]:
    """``{path: sha256}`` of every regular file under ``root`` (empty when it does not exist)."""
    root = expand(root)
    q = shlex.quote(root)
    # a listing is never cut at the shell's usual cap: a missing file would read as "unchanged"
    r = device.shell(f"[ -d {q} ] && find {q} -type f; true", timeout=120, output_cap=LISTING_CAP)
    if r.exit_code != 0 or r.truncated:
        raise AndroidError(f"listing {root} failed or passed {LISTING_CAP} bytes: {r.stderr[:200]}")
    paths = [line for line in r.stdout.split("\n") if line]
    return {p: d for p, d in _sums(device, "sha256sum", paths).items() if d is not None}


def command(device: AdbAndroidDevice, cmd: str, timeout: float = 60.0) -> dict[str, Any]:
    """A command's output and status, run on its own (never in the agent's session)."""
    return command_answer(device.shell(cmd, timeout=timeout))


def get_setting(device: AdbAndroidDevice, namespace: str, key: str) -> str | None:
    """A setting's value; None when unset (``settings get`` prints ``null``)."""
    if namespace not in ("system", "secure", "global"):
        raise AndroidInputError(f"settings namespace must be system/secure/global: {namespace!r}")
    out = device.check(f"settings get {namespace} {shlex.quote(key)}")
    value = out[:-1] if out.endswith("\n") else out
    return None if value == "null" else value


# -- contacts ---------------------------------------------------------------------
CONTACT_DATA_COLUMNS = ["raw_contact_id", "mimetype", "data1", "data4"]


@dataclass
class ContactRecord:
    """One raw contact assembled from its ``data`` rows (the first name/org/note row wins)."""

    raw_contact_id: int
    name: str | None = None
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    org: str | None = None
    title: str | None = None
    note: str | None = None


def contacts_from_rows(rows: Sequence[Row]) -> list[ContactRecord]:
    """Group ``data`` rows (projection :data:`CONTACT_DATA_COLUMNS`) by raw contact, in order."""
    found: dict[int, ContactRecord] = {}
    for r in rows:
        rid = int(r["raw_contact_id"] or 0)
        c = found.setdefault(rid, ContactRecord(rid))
        mime, value = r["mimetype"], r["data1"]
        text = None if value is None else str(value)
        if mime == MIME_NAME and c.name is None:
            c.name = text
        elif mime == MIME_PHONE and text is not None:
            c.phones.append(text)
        elif mime == MIME_EMAIL and text is not None:
            c.emails.append(text)
        elif mime == MIME_ORG and c.org is None and c.title is None:
            c.org = text
            c.title = None if r.get("data4") is None else str(r["data4"])
        elif mime == MIME_NOTE and c.note is None:
            c.note = text
    return list(found.values())


def contacts(device: AdbAndroidDevice, where: str | None = None) -> list[ContactRecord]:
    """Every raw contact (or those whose ``data`` rows match ``where``), with org and note."""
    rows = query(
        device,
        "content://com.android.contacts/data",
        CONTACT_DATA_COLUMNS,
        where=where,
        sort="raw_contact_id ASC, _id ASC",
        types={"raw_contact_id": int},
    )
    return contacts_from_rows(rows)


# -- typed queries for rig.world's read_state ---------------------------------------
# The shared kinds (file, sha256, tree_hashes, command) are :mod:`state_queries`'; Android's
# own are of the same shape: pydantic models told apart by ``kind``.
class _Query(Query):
    model_config = ConfigDict(arbitrary_types_allowed=True)


class ProviderQuery(_Query):
    kind: Literal["provider"] = "provider"
    uri: str
    projection: list[str]
    where: str | None = None
    sort: str | None = None
    types: dict[str, Callable[[str], Any]] = Field(default_factory=dict)


class FileHashQuery(_Query):
    kind: Literal["file_hashes"] = "file_hashes"
    paths: list[str]


class AppDbQuery(_Query):
    kind: Literal["app_db"] = "app_db"
    db: str
    table: str
    columns: list[str]
    where: str = ""


class SettingQuery(_Query):
    kind: Literal["setting"] = "setting"
    namespace: str
    key: str


class UiQuery(_Query):
    """The focused app and the UI tree."""

    kind: Literal["ui"] = "ui"


class ContactsQuery(_Query):
    """Raw contacts as :class:`ContactRecord` (name, phones, emails, org, title, note)."""

    kind: Literal["contacts"] = "contacts"
    where: str | None = None


StateQuery = Annotated[
    ProviderQuery
    | FileQuery
    | HashQuery
    | TreeHashQuery
    | CommandQuery
    | FileHashQuery
    | AppDbQuery
    | SettingQuery
    | UiQuery
    | ContactsQuery,
    Field(discriminator="kind"),
]


_KINDS: TypeAdapter[Any] = TypeAdapter(StateQuery)


def parse_query(query: Any) -> Any:
    """A typed query from a typed one or a mapping (``{"kind": "provider", "uri": …}``)."""
    return parse(query, _KINDS, AndroidInputError, "Android")


def read_state(device: AdbAndroidDevice, q: Any) -> Any:
    """Answer one state query; mappings name their kind: ``{"kind": "provider", "uri": …}``."""
    q = parse_query(q)
    if isinstance(q, ProviderQuery):
        return query(device, q.uri, q.projection, q.where, q.sort, q.types)
    if isinstance(q, FileQuery):
        return read_file(device, q.path)
    if isinstance(q, HashQuery):
        return sha256(device, q.path)
    if isinstance(q, TreeHashQuery):
        return tree_hashes(device, q.root)
    if isinstance(q, CommandQuery):
        return command(device, q.command, q.timeout)
    if isinstance(q, FileHashQuery):
        return file_hashes(device, q.paths)
    if isinstance(q, AppDbQuery):
        return app_db_rows(device, q.db, q.table, q.columns, q.where)
    if isinstance(q, SettingQuery):
        return get_setting(device, q.namespace, q.key)
    if isinstance(q, ContactsQuery):
        return contacts(device, q.where)
    if isinstance(q, UiQuery):
        pkg, act = device.current_app()
        return {"package": pkg, "activity": act, "tree": device.ui_tree()}
    raise AndroidInputError(f"unknown state query {q!r}")
