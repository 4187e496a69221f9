"""The content providers on real SQLite files inside the phone's filesystem.

Each database opens lazily in WAL mode, one connection per file guarded by a
lock (the transport runs shells on several threads). Every call is one
transaction, and the side effects AOSP's providers have (SMS threads,
contact aggregation and display names, calendar ``hasAlarm``) happen inside it.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from emulator.sim.providers import schema
from emulator.sim.providers.instances import fill_window
from emulator.sim.providers.routes import ProviderError, Route, resolve

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


_NON_DIGIT = re.compile(r"\D")


@functools.lru_cache(maxsize=8192)
def _digits(text: str) -> str:
    return _NON_DIGIT.sub("", text)


def normalize_number(number: str | None) -> str:
    """Digits (and a leading ``+``) of a phone number, the way lookups compare them."""
    if not number:
        return ""
    text = str(number).strip()
    digits = _digits(text)
    return ("+" + digits) if text.startswith("+") else digits


def phone_equal(a: Any, b: Any) -> int:
    """Loose phone-number equality (AOSP's ``PHONE_NUMBERS_EQUAL``): same trailing digits."""
    sa, sb = str(a or ""), str(b or "")
    da, db_ = _digits(sa), _digits(sb)
    if not da or not db_:
        return int(bool(sa.strip()) and sa.strip() == sb.strip())
    if da == db_:
        return 1
    n = min(len(da), len(db_))
    return int(n >= 7 and da[-n:] == db_[-n:])


class SqliteProviders:
    """A :class:`~emulator.sim.contracts.Providers` over SQLite files in ``vfs``."""

    _SCRIPTS: ClassVar[dict[str, str]] = {
        schema.CONTACTS_DB: schema.CONTACTS_SQL,
        schema.SMS_DB: schema.SMS_SQL,
        schema.CALLLOG_DB: schema.CALLLOG_SQL,
        schema.CALENDAR_DB: schema.CALENDAR_SQL,
        schema.SETTINGS_DB: schema.SETTINGS_SQL,
    }

    def __init__(self, vfs: Any, clock: Any) -> None:
        self.vfs = vfs
        self.clock = clock
        # The phone's files carry the phone's time: give the filesystem the same clock.
        attach = getattr(vfs, "attach_clock", None)
        if attach is not None:
            attach(clock)
        self._conns: dict[str, sqlite3.Connection] = {}
        self._locks: dict[str, threading.RLock] = {db: threading.RLock() for db in self._SCRIPTS}
        self._open_lock = threading.Lock()
        # Called with a database's device path after a write commits (a content observer:
        # the phone's sync starts from it); writes under as_sync_adapter() do not call it.
        self.on_change: Callable[[str], None] | None = None
        self._adapter = threading.local()
        # The phone's system log (emulator.sim.logbuf.LogBuffer): one line per committed write.
        self.log: Any = None

    @contextmanager
    def as_sync_adapter(self) -> Iterator[None]:
        """Writes in this block are a sync adapter's (``caller_is_syncadapter``): no observer."""
        depth = getattr(self._adapter, "depth", 0)
        self._adapter.depth = depth + 1
        try:
            yield
        finally:
            self._adapter.depth = depth

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Observers hear of the writes in this block once, at its end (an app's save is
        several rows, and one sync after them all is what a phone does)."""
        outer = getattr(self._adapter, "pending", None)
        if outer is not None:
            yield
            return
        self._adapter.pending = pending = set()
        try:
            yield
        finally:
            self._adapter.pending = None
            for db in sorted(pending):
                self._changed(db)

    def _changed(self, db: str) -> None:
        if self.on_change is None or getattr(self._adapter, "depth", 0):
            return
        pending = getattr(self._adapter, "pending", None)
        if pending is not None:
            pending.add(db)
            return
        self.on_change(db)

    # -- connections ----------------------------------------------------------
    def _conn(self, db: str) -> sqlite3.Connection:
        conn = self._conns.get(db)
        if conn is not None:
            return conn
        with self._open_lock:
            conn = self._conns.get(db)
            if conn is None:
                host = self.vfs.host_path(db)
                host.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(host, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=5000")
                conn.create_function("phone_equal", 2, phone_equal, deterministic=True)
                conn.executescript(self._SCRIPTS[db])
                self._seed(db, conn)
                self._conns[db] = conn
        return conn

    def _seed(self, db: str, conn: sqlite3.Connection) -> None:
        if db == schema.SETTINGS_DB:
            for ns, values in schema.DEFAULT_SETTINGS.items():
                if conn.execute(f"SELECT COUNT(*) FROM {ns}").fetchone()[0] == 0:
                    conn.executemany(
                        f"INSERT INTO {ns} (name, value) VALUES (?, ?)", values.items()
                    )
        elif (
            db == schema.CALENDAR_DB
            and conn.execute("SELECT COUNT(*) FROM Calendars").fetchone()[0] == 0
        ):
            cols = ", ".join(schema.DEFAULT_CALENDAR)
            marks = ", ".join("?" for _ in schema.DEFAULT_CALENDAR)
            conn.execute(
                f"INSERT INTO Calendars ({cols}) VALUES ({marks})",
                list(schema.DEFAULT_CALENDAR.values()),
            )

    def close(self) -> None:
        """Checkpoint and close every database; the next call reopens them."""
        with self._open_lock:
            conns, self._conns = self._conns, {}
        for db, conn in conns.items():
            with self._locks[db]:
                try:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    conn.close()

    def checkpoint(self) -> None:
        """Fold the WAL files into the databases (before copying the state directory)."""
        for db, conn in list(self._conns.items()):
            with self._locks[db]:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def database_path(self, uri: str) -> str:
        """The device path of the database that serves ``uri``."""
        return resolve(uri).db

    # -- the Providers contract ---------------------------------------------
    def query(
        self,
        uri: str,
        projection: Sequence[str] | None = None,
        where: str | None = None,
        args: Sequence[Any] = (),
        sort: str | None = None,
    ) -> list[dict[str, Any]]:
        route = resolve(uri)
        cols = ", ".join(projection) if projection else "*"
        clause, params = self._where(route, where, args)
        sql = f"SELECT {cols} FROM {route.source}{clause}"
        if sort:
            sql += f" ORDER BY {sort}"
        elif route.kind in ("sms", "conversations", "threads", "calls"):
            sql += " ORDER BY date DESC" if route.kind != "conversations" else ""
        with self._locks[route.db]:
            if route.window is not None:
                fill_window(self._conn(route.db), *route.window)
            cur = self._execute(route, sql, params)
            names = [d[0] for d in cur.description or ()]
            return [dict(zip(names, row, strict=False)) for row in cur.fetchall()]

    def insert(self, uri: str, values: Mapping[str, Any]) -> str:
        route = resolve(uri)
        if route.table is None:
            raise ProviderError(
                f"Cannot insert into URL: {uri}", "java.lang.UnsupportedOperationException"
            )
        if route.row_id is not None and route.kind != "settings":
            raise ProviderError(f"Cannot insert into URL: {uri}")
        row = {**route.defaults, **dict(values)}
        self._check_columns(row)
        with self._transaction(route.db) as conn:
            uri = self._insert(conn, route, row)
        self._logged("insert", uri, 1)
        self._changed(route.db)
        return uri

    def update(
        self,
        uri: str,
        values: Mapping[str, Any],
        where: str | None = None,
        args: Sequence[Any] = (),
    ) -> int:
        route = resolve(uri)
        if route.table is None:
            raise ProviderError(
                f"Cannot update URL: {uri}", "java.lang.UnsupportedOperationException"
            )
        row = dict(values)
        if not row:
            raise ProviderError("Empty values")
        self._check_columns(row)
        clause, params = self._where(route, where, args)
        with self._transaction(route.db) as conn:
            ids = self._ids(conn, route, clause, params)
            if ids and route.kind in self._DERIVED_ON_UPDATE:
                # Columns Android derives from the written ones differ row by row.
                for rid in ids:
                    values = self._derive_on_update(conn, route, rid, row)
                    sets = ", ".join(f"{k} = ?" for k in values)
                    self._run(
                        conn,
                        f"UPDATE {route.table} SET {sets} WHERE _id = ?",
                        [*values.values(), rid],
                    )
                self._after_write(conn, route, ids, row)
            elif ids:
                sets = ", ".join(f"{k} = ?" for k in row)
                marks = ",".join("?" * len(ids))
                self._run(
                    conn,
                    f"UPDATE {route.table} SET {sets} WHERE _id IN ({marks})",
                    [*row.values(), *ids],
                )
                self._after_write(conn, route, ids, row)
        if ids:
            self._logged("update", uri, len(ids))
            self._changed(route.db)
        return len(ids)

    # Tables with columns computed from others on every write, not only on insert.
    _DERIVED_ON_UPDATE = frozenset({"data", "calls"})
    _NAME_PARTS = ("data4", "data2", "data5", "data3", "data6")  # prefix given middle family suffix

    def _derive_on_update(
        self, conn: sqlite3.Connection, route: Route, rid: int, update: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The values to write to row ``rid``: ``update`` plus what Android derives from it.

        Phone numbers (data rows and the call log): a new number gets a new normalized
        number unless one is given with it (AOSP's ``fillNormalizedNumber``). Structured
        names: a new display name is split into parts, new parts rebuild the display name
        (AOSP's ``fixStructuredNameComponents``); given both, both are kept.
        """
        values = dict(update)
        if route.kind == "calls":
            if values.get("number") and "normalized_number" not in values:
                values["normalized_number"] = normalize_number(values["number"])
            return values
        mime = (
            values.get("mimetype")
            or self._column(conn, "SELECT mimetype FROM data WHERE _id = ?", [rid])[0]
        )
        if mime == schema.MIME_PHONE:
            if "data1" not in values:
                values.pop("data4", None)  # a normalized number alone is ignored, as on Android
            elif values["data1"] and not values.get("data4"):
                values["data4"] = normalize_number(values["data1"])
        elif mime == schema.MIME_NAME:
            parts_given = any(k in values for k in self._NAME_PARTS)
            if "data1" in values and not parts_given:
                words = str(values["data1"] or "").split()
                values.update(dict.fromkeys(self._NAME_PARTS))
                if len(words) >= 2:
                    values["data2"], values["data3"] = " ".join(words[:-1]), words[-1]
                elif words:
                    values["data2"] = words[0]
            elif parts_given and "data1" not in values:
                cols = ", ".join(self._NAME_PARTS)
                old = conn.execute(f"SELECT {cols} FROM data WHERE _id = ?", [rid]).fetchone()
                merged = {k: values.get(k, v) for k, v in zip(self._NAME_PARTS, old, strict=True)}
                name = " ".join(str(merged[k]) for k in self._NAME_PARTS if merged[k])
                values["data1"] = name or None
        return values

    def delete(self, uri: str, where: str | None = None, args: Sequence[Any] = ()) -> int:
        route = resolve(uri)
        if route.table is None:
            raise ProviderError(
                f"Cannot delete URL: {uri}", "java.lang.UnsupportedOperationException"
            )
        clause, params = self._where(route, where, args)
        with self._transaction(route.db) as conn:
            ids = self._ids(conn, route, clause, params)
            self._delete(conn, route, ids)
        if ids:
            self._logged("delete", uri, len(ids))
            self._changed(route.db)
        return len(ids)

    def _logged(self, op: str, uri: str, rows: int) -> None:
        """The URI and row count only: values stay in the databases, never in the log."""
        if self.log is not None:
            who = "sync" if getattr(self._adapter, "depth", 0) else "app"
            self.log.write("D", "ContentProvider", f"{op} {uri} rows={rows} by={who}")

    # -- conveniences for apps and the shell -------------------------------
    def setting(self, namespace: str, name: str) -> str | None:
        rows = self.query(f"content://settings/{namespace}", ["value"], "name = ?", [name])
        return None if not rows else rows[0]["value"]

    def put_setting(self, namespace: str, name: str, value: str | None) -> None:
        self.insert(f"content://settings/{namespace}", {"name": name, "value": value})

    def delete_setting(self, namespace: str, name: str) -> int:
        return self.delete(f"content://settings/{namespace}", "name = ?", [name])

    # -- internals ------------------------------------------------------------
    @contextmanager
    def _transaction(self, db: str) -> Iterator[sqlite3.Connection]:
        """One locked write transaction: a failure anywhere leaves the database as it was."""
        with self._locks[db]:
            conn = self._conn(db)
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _check_columns(row: Mapping[str, Any]) -> None:
        for key in row:
            if not _IDENT.match(str(key)):
                raise ProviderError(f"Invalid column {key}")

    def _execute(self, route: Route, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        return self._run(self._conn(route.db), sql, params)

    @staticmethod
    def _run(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        try:
            return conn.execute(sql, list(params))
        except sqlite3.Error as exc:
            raise ProviderError(
                f"{exc} (code 1 SQLITE_ERROR): , while compiling: {sql}",
                "android.database.sqlite.SQLiteException",
            ) from exc

    @staticmethod
    def _where(route: Route, where: str | None, args: Sequence[Any]) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        for sql, values in route.fixed:
            parts.append(f"({sql})")
            params.extend(values)
        if route.row_id is not None:
            parts.append("(_id = ?)")
            params.append(route.row_id)
        if where:
            parts.append(f"({where})")
            params.extend(args)
        return (" WHERE " + " AND ".join(parts)) if parts else "", params

    def _ids(
        self, conn: sqlite3.Connection, route: Route, clause: str, params: list[Any]
    ) -> list[int]:
        source = route.source if route.kind != "settings" else route.table
        cur = self._run(conn, f"SELECT _id FROM {source}{clause}", params)
        return [r[0] for r in cur.fetchall()]

    def _insert(self, conn: sqlite3.Connection, route: Route, row: dict[str, Any]) -> str:
        now = self.clock.now_ms()
        kind = route.kind
        if kind == "sms":
            row.setdefault("date", now)
            row.setdefault("type", 1)
            if row.get("thread_id") in (None, 0, "0"):
                row["thread_id"] = self._thread_for(conn, row.get("address"))
        elif kind == "calls":
            row.setdefault("date", now)
            row.setdefault("duration", 0)
            row.setdefault("new", 1)
            row.setdefault("is_read", 0)
            row.setdefault("last_modified", now)
            if row.get("number") and "normalized_number" not in row:
                row["normalized_number"] = normalize_number(row["number"])
        elif kind == "data":
            rid = row.get("raw_contact_id")
            if (
                rid is None
                or self._run(conn, "SELECT 1 FROM raw_contacts WHERE _id = ?", [rid]).fetchone()
                is None
            ):
                raise ProviderError(f"raw_contact_id is required (got {rid})")
            if not row.get("mimetype"):
                raise ProviderError("mimetype is required")
            self._fill_data(row)
        elif kind == "events":
            self._check_event(conn, row)
        elif kind == "settings":
            if route.name is not None:
                row.setdefault("name", route.name)
            if not row.get("name"):
                raise ProviderError("name must not be empty")
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        sql = (
            f"INSERT INTO {route.table} ({cols}) VALUES ({marks})"
            if row
            else (f"INSERT INTO {route.table} DEFAULT VALUES")
        )
        new_id = int(self._run(conn, sql, list(row.values())).lastrowid or 0)
        self._after_write(conn, route, [new_id], row, inserted=True)
        if kind == "settings":
            return f"{route.base_uri}/{row['name']}"
        return f"{route.base_uri}/{new_id}"

    # Rows that belong to a parent (thread, raw contact, event): deleting them refreshes it.
    _CHILD_ROWS: ClassVar[dict[str, tuple[str, str, str]]] = {
        "sms": ("sms", "thread_id", "_refresh_threads"),
        "data": ("data", "raw_contact_id", "_refresh_contacts"),
        "reminders": ("Reminders", "event_id", "_refresh_alarms"),
    }

    def _delete(self, conn: sqlite3.Connection, route: Route, ids: list[int]) -> None:
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        kind = route.kind
        if kind in self._CHILD_ROWS:
            table, column, refresh = self._CHILD_ROWS[kind]
            parents = self._parents(conn, table, column, ids)
            self._run(conn, f"DELETE FROM {table} WHERE _id IN ({marks})", ids)
            getattr(self, refresh)(conn, parents)
            return
        if kind == "contacts":
            raws = self._column(
                conn, f"SELECT _id FROM raw_contacts WHERE contact_id IN ({marks})", ids
            )
            self._delete_raw(conn, raws)
            self._run(conn, f"DELETE FROM contacts WHERE _id IN ({marks})", ids)
            return
        if kind == "raw_contacts":
            self._delete_raw(conn, ids)
            return
        self._run(conn, f"DELETE FROM {route.table} WHERE _id IN ({marks})", ids)

    def _after_write(
        self,
        conn: sqlite3.Connection,
        route: Route,
        ids: list[int],
        row: Mapping[str, Any],
        inserted: bool = False,
    ) -> None:
        kind = route.kind
        marks = ",".join("?" * len(ids))
        if kind == "sms":
            if not inserted and "address" in row:
                for mid in ids:
                    addr = self._run(
                        conn, "SELECT address FROM sms WHERE _id = ?", [mid]
                    ).fetchone()[0]
                    self._run(
                        conn,
                        "UPDATE sms SET thread_id = ? WHERE _id = ?",
                        [self._thread_for(conn, addr), mid],
                    )
            threads = self._parents(conn, "sms", "thread_id", ids)
            self._refresh_threads(conn, threads, prune=not inserted)
        elif kind == "raw_contacts":
            if inserted:
                rid = ids[0]
                cur = self._run(
                    conn,
                    "INSERT INTO contacts (name_raw_contact_id, lookup, starred) VALUES (?, ?, ?)",
                    [rid, f"0r{rid}", row.get("starred", 0) or 0],
                )
                self._run(
                    conn,
                    "UPDATE raw_contacts SET contact_id = ? WHERE _id = ?",
                    [cur.lastrowid, rid],
                )
            self._refresh_contacts(conn, ids)
        elif kind == "data":
            raws = self._parents(conn, "data", "raw_contact_id", ids)
            self._refresh_contacts(conn, raws)
        elif kind == "contacts" and "starred" in row:
            self._run(
                conn,
                f"UPDATE raw_contacts SET starred = ? WHERE contact_id IN ({marks})",
                [row["starred"], *ids],
            )
        elif kind == "reminders":
            events = self._parents(conn, "Reminders", "event_id", ids)
            self._refresh_alarms(conn, events)
        elif kind == "events":
            self._run(
                conn,
                f"UPDATE Events SET lastDate = dtend WHERE _id IN ({marks}) AND rrule IS NULL",
                ids,
            )
        elif kind == "attendees":
            events = self._parents(conn, "Attendees", "event_id", ids)
            em = ",".join("?" * len(events))
            if events:
                self._run(
                    conn, f"UPDATE Events SET hasAttendeeData = 1 WHERE _id IN ({em})", events
                )

    @staticmethod
    def _column(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
        return [r[0] for r in conn.execute(sql, list(params)).fetchall()]

    @classmethod
    def _parents(
        cls, conn: sqlite3.Connection, table: str, column: str, ids: Sequence[Any]
    ) -> list[Any]:
        """The distinct ``column`` values (threads, contacts, events) of rows ``ids``."""
        marks = ",".join("?" * len(ids))
        return cls._column(
            conn, f"SELECT DISTINCT {column} FROM {table} WHERE _id IN ({marks})", ids
        )

    # -- SMS threads -----------------------------------------------------------
    def _thread_for(self, conn: sqlite3.Connection, address: Any) -> int:
        """The thread of one address, creating its canonical address and thread as AOSP does."""
        addr = "" if address is None else str(address)
        row = conn.execute(
            "SELECT _id FROM canonical_addresses WHERE address = ? ORDER BY _id LIMIT 1", [addr]
        ).fetchone()
        if row is None:
            # Equal numbers end in the same digit: compare loosely only those candidates.
            last = _digits(addr)[-1:]
            row = conn.execute(
                "SELECT _id FROM canonical_addresses WHERE (? = '' OR address LIKE ?) "
                "AND phone_equal(address, ?) ORDER BY _id LIMIT 1",
                [last, f"%{last}%", addr],
            ).fetchone()
        canon = (
            row[0]
            if row
            else conn.execute(
                "INSERT INTO canonical_addresses (address) VALUES (?)", [addr]
            ).lastrowid
        )
        row = conn.execute(
            "SELECT _id FROM threads WHERE recipient_ids = ?", [str(canon)]
        ).fetchone()
        if row:
            return int(row[0])
        now = self.clock.now_ms()
        return int(
            conn.execute(
                "INSERT INTO threads (date, recipient_ids) VALUES (?, ?)", [now, str(canon)]
            ).lastrowid
        )

    def _refresh_threads(
        self, conn: sqlite3.Connection, threads: Iterable[Any], prune: bool = True
    ) -> None:
        for tid in threads:
            if tid is None:
                continue
            count = conn.execute("SELECT COUNT(*) FROM sms WHERE thread_id = ?", [tid]).fetchone()[
                0
            ]
            if count == 0:
                if prune:
                    conn.execute("DELETE FROM threads WHERE _id = ?", [tid])
                continue
            last = conn.execute(
                "SELECT date, body FROM sms WHERE thread_id = ? "
                "ORDER BY date DESC, _id DESC LIMIT 1",
                [tid],
            ).fetchone()
            unread = conn.execute(
                "SELECT COUNT(*) FROM sms WHERE thread_id = ? AND read = 0", [tid]
            ).fetchone()[0]
            conn.execute(
                "UPDATE threads SET message_count = ?, date = ?, snippet = ?, read = ? "
                "WHERE _id = ?",
                [count, last[0], last[1], 0 if unread else 1, tid],
            )

    # -- contacts aggregation -------------------------------------------------
    @staticmethod
    def _fill_data(row: dict[str, Any]) -> None:
        mime = row.get("mimetype")
        if mime == schema.MIME_NAME:
            if not row.get("data1"):
                parts = [row.get(k) for k in ("data4", "data2", "data5", "data3", "data6")]
                name = " ".join(str(p) for p in parts if p)
                if name:
                    row["data1"] = name
            elif not any(row.get(k) for k in ("data2", "data3", "data5")):
                words = str(row["data1"]).split()
                if len(words) >= 2:
                    row["data2"], row["data3"] = " ".join(words[:-1]), words[-1]
                elif words:
                    row["data2"] = words[0]
        elif mime == schema.MIME_PHONE and row.get("data1") and not row.get("data4"):
            row["data4"] = normalize_number(row["data1"])

    def _refresh_contacts(self, conn: sqlite3.Connection, raw_ids: Iterable[Any]) -> None:
        """Recompute display names and ``has_phone_number`` (one raw contact per contact)."""
        for rid in raw_ids:
            raw = conn.execute(
                "SELECT contact_id FROM raw_contacts WHERE _id = ?", [rid]
            ).fetchone()
            if raw is None:
                continue
            name, source = None, 0
            for mime, src in (
                (schema.MIME_NAME, 40),
                (schema.MIME_PHONE, 20),
                (schema.MIME_EMAIL, 10),
            ):
                hit = conn.execute(
                    "SELECT data1 FROM data WHERE raw_contact_id = ? AND mimetype = ? "
                    "AND data1 IS NOT NULL AND data1 != '' ORDER BY is_primary DESC, _id LIMIT 1",
                    [rid, mime],
                ).fetchone()
                if hit:
                    name, source = hit[0], src
                    break
            has_phone = conn.execute(
                "SELECT COUNT(*) FROM data WHERE raw_contact_id = ? AND mimetype = ?",
                [rid, schema.MIME_PHONE],
            ).fetchone()[0]
            conn.execute(
                "UPDATE raw_contacts SET display_name = ?, display_name_source = ?, sort_key = ? "
                "WHERE _id = ?",
                [name, source, name, rid],
            )
            conn.execute(
                "UPDATE contacts SET display_name = ?, has_phone_number = ?, "
                "contact_last_updated_timestamp = ? WHERE _id = ?",
                [name, 1 if has_phone else 0, self.clock.now_ms(), raw[0]],
            )

    def _delete_raw(self, conn: sqlite3.Connection, raw_ids: list[Any]) -> None:
        if not raw_ids:
            return
        marks = ",".join("?" * len(raw_ids))
        contacts = self._parents(conn, "raw_contacts", "contact_id", raw_ids)
        conn.execute(f"DELETE FROM data WHERE raw_contact_id IN ({marks})", raw_ids)
        conn.execute(f"DELETE FROM raw_contacts WHERE _id IN ({marks})", raw_ids)
        for cid in contacts:
            left = conn.execute(
                "SELECT COUNT(*) FROM raw_contacts WHERE contact_id = ?", [cid]
            ).fetchone()[0]
            if not left:
                conn.execute("DELETE FROM contacts WHERE _id = ?", [cid])

    # -- calendar ----------------------------------------------------------------
    @staticmethod
    def _check_event(conn: sqlite3.Connection, row: Mapping[str, Any]) -> None:
        if row.get("calendar_id") is None:
            raise ProviderError("New events must include a calendar_id.")
        if (
            conn.execute("SELECT 1 FROM Calendars WHERE _id = ?", [row["calendar_id"]]).fetchone()
            is None
        ):
            raise ProviderError(f"No calendar with _id {row['calendar_id']}")
        if row.get("dtstart") is None:
            raise ProviderError("DTSTART cannot be empty.")
        if not row.get("eventTimezone"):
            raise ProviderError("EVENT_TIMEZONE cannot be empty.")
        if row.get("dtend") is None and not row.get("duration") and not row.get("rrule"):
            raise ProviderError("DTEND and DURATION cannot both be null for an event.")

    @staticmethod
    def _refresh_alarms(conn: sqlite3.Connection, events: Iterable[Any]) -> None:
        for eid in events:
            n = conn.execute("SELECT COUNT(*) FROM Reminders WHERE event_id = ?", [eid]).fetchone()[
                0
            ]
            conn.execute("UPDATE Events SET hasAlarm = ? WHERE _id = ?", [1 if n else 0, eid])
