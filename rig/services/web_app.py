"""What the bank, shop and parcels apps share, host side: SQLite, auth, idempotency, audit.

Each web service is a FastAPI app over one SQLite file in its state folder,
served by uvicorn on a loopback port in a thread of the world's service host.
Every request is audited (``HTTP METHOD``, path, user, status, JSON body fields
with secrets masked); every write may carry an ``Idempotency-Key`` (the same key
with the same body replays the first answer, with another body it is refused);
every error is a JSON object ``{"error": …}`` with a 4xx status. The rig seeds
and reads state through ``/_rig/…`` routes guarded by a per-world admin token
that no device ever sees; they are left out of the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from rig.services.audit import AuditLog, WorldClock

SECRET_FIELDS = {"code", "password", "token", "card_number", "cvc"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class ApiError(HTTPException):
    """A 4xx answer with a JSON body ``{"error": message, …extra}``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(status, message)
        self.extra = extra


class Db:
    """One SQLite connection shared by the app's threads behind a lock."""

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.lock = threading.RLock()
        with self.lock:
            self.conn.executescript(schema + _IDEMPOTENCY)

    def rows(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.conn.execute(sql, tuple(args)).fetchall()]

    def one(self, sql: str, args: Iterable[Any] = ()) -> dict[str, Any] | None:
        found = self.rows(sql, args)
        return found[0] if found else None

    def run(self, sql: str, args: Iterable[Any] = ()) -> int:
        with self.lock:
            return self.conn.execute(sql, tuple(args)).lastrowid or 0

    def transaction(self) -> _Tx:
        return _Tx(self)

    def tables(self) -> list[str]:
        names = self.rows("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        return [r["name"] for r in names if not r["name"].startswith(("sqlite_", "_"))]

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class _Tx:
    def __init__(self, db: Db) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.lock.acquire()
        self.db.conn.execute("BEGIN IMMEDIATE")
        return self.db.conn

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        try:
            self.db.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.db.lock.release()


_IDEMPOTENCY = """
CREATE TABLE IF NOT EXISTS _idempotency (
    user TEXT NOT NULL, key TEXT NOT NULL, request TEXT NOT NULL,
    status INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (user, key));
"""


def cents(value: Decimal | str | float | int) -> int:
    """An amount in minor units (two decimals, half up)."""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise ApiError(422, f"{value!r} is not an amount") from None
    return int((d * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money(minor: int) -> float:
    return float(Decimal(minor) / 100)


class WebContext:
    """What every route of one app needs: its db, clock, accounts and admin token."""

    def __init__(
        self,
        name: str,
        db: Db,
        clock: WorldClock,
        accounts: list[dict[str, Any]],
        admin_token: str,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.name, self.db, self.clock = name, db, clock
        self.accounts = {a["user"]: a for a in accounts}
        self.persona = accounts[0]["user"]
        self.admin_token = admin_token
        self.options = options or {}
        # What world time makes happen (the bank's standing orders), run before every
        # request but the rig's seeding so that every reader sees it.
        self.before_request: Callable[[], None] | None = None

    def now(self) -> str:
        return self.clock.now().isoformat(timespec="seconds")

    def user(self, request: Request) -> str:
        """The Basic-auth user, or 401 (the password compared in constant time)."""
        header = request.headers.get("authorization", "")
        user = _basic_user(header)
        if user is not None:
            name, password = user
            known = self.accounts.get(name)
            if known is not None and secrets.compare_digest(
                known["password"].encode(), password.encode()
            ):
                return name
        raise ApiError(401, "log in with HTTP Basic auth (user and password)")

    def admin(self, request: Request) -> None:
        token = request.headers.get("x-rig-admin", "")
        if not secrets.compare_digest(token.encode(), self.admin_token.encode()):
            raise ApiError(404, "not found")


def _basic_user(header: str) -> tuple[str, str] | None:
    if not header.lower().startswith("basic "):
        return None
    try:
        text = base64.b64decode(header[6:], validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    name, sep, password = text.partition(":")
    return (name, password) if sep else None


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("***" if k.lower() in SECRET_FIELDS else _mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


class AuditAndIdempotency:
    """ASGI middleware: audits every request and replays writes that repeat a key."""

    def __init__(self, app: Any, ctx: WebContext, audit: AuditLog) -> None:
        self.app, self.ctx, self.audit = app, ctx, audit
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent_body = False

        async def replay() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        basic = _basic_user(headers.get("authorization", ""))
        user = basic[0] if basic else None
        key = headers.get("idempotency-key")
        status: list[int] = []
        captured: list[bytes] = []
        replayed: list[bool] = []
        written: list[bool] = []

        def write_audit() -> None:
            # Before the answer's last byte leaves: a client that got its answer finds it
            # in the audit log.
            if written:
                return
            written.append(True)
            self.audit.write(
                request_client(self.audit, scope),
                f"{'RIG' if path.startswith('/_rig/') else 'HTTP'} {method}",
                path=path,
                query=scope.get("query_string", b"").decode("latin-1") or None,
                user=user,
                status=status[0] if status else None,
                body=_body_fields(body, headers.get("content-type", "")),
                idempotency_key=key,
                replayed=True if replayed else None,
            )

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                captured.append(message.get("body", b""))
                if not message.get("more_body", False):
                    write_audit()
            await send(message)

        try:
            if self.ctx.before_request is not None and path != "/_rig/seed":
                await run_in_threadpool(self.ctx.before_request)
            if key and method in WRITES and user in self.ctx.accounts:
                lock = self._locks.setdefault((user, key), asyncio.Lock())
                async with lock:
                    await self._idempotent(
                        scope, replay, capture, user, key, body, status, captured, replayed
                    )
            else:
                await self.app(scope, replay, capture)
        finally:
            write_audit()

    async def _idempotent(
        self,
        scope: dict[str, Any],
        receive: Any,
        capture: Any,
        user: str,
        key: str,
        body: bytes,
        status: list[int],
        captured: list[bytes],
        replayed: list[bool],
    ) -> None:
        digest = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"\n" + body
        ).hexdigest()
        db = self.ctx.db
        known = db.one("SELECT * FROM _idempotency WHERE user=? AND key=?", (user, key))
        if known is not None:
            if known["request"] != digest:
                answer = {"error": "this Idempotency-Key was used for another request"}
                await _send_json(capture, 409, answer)
                return
            replayed.append(True)
            await _send_raw(capture, known["status"], known["body"], replayed=True)
            return
        await self.app(scope, receive, capture)
        if status and status[0] < 500:
            db.run(
                "INSERT OR IGNORE INTO _idempotency VALUES (?,?,?,?,?)",
                (user, key, digest, status[0], b"".join(captured)),
            )


async def _send_json(send: Any, status: int, value: Any) -> None:
    await _send_raw(send, status, json.dumps(value).encode())


async def _send_raw(send: Any, status: int, body: bytes, replayed: bool = False) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def request_client(audit: AuditLog, scope: dict[str, Any]) -> str:
    """Who made an ASGI request: the device role whose own port it came in on, else the
    peer's address (the rig, or a person using ``rig world up``'s endpoints)."""
    server = scope.get("server") or (None, None)
    peer = tuple(scope.get("client") or ("?", "?"))
    return audit.client(server[1], peer)


def _body_fields(body: bytes, content_type: str) -> Any:
    if not body:
        return None
    if "json" in content_type or body[:1] in (b"{", b"["):
        try:
            return _mask(json.loads(body))
        except (ValueError, UnicodeDecodeError):
            pass
    return {"bytes": len(body)}


def make_app(ctx: WebContext, audit: AuditLog, title: str, description: str) -> FastAPI:
    """A FastAPI app whose every error is JSON and 4xx, audited, with idempotent writes."""
    app = FastAPI(title=title, description=description, version="1.0", docs_url=None)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.detail, **exc.extra}, exc.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        return JSONResponse({"error": detail}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"error": "invalid request", "problems": problems}, 422)

    def admin(request: Request) -> None:
        ctx.admin(request)

    @app.post("/_rig/seed", include_in_schema=False, dependencies=[Depends(admin)])
    async def _seed(request: Request) -> dict[str, Any]:
        try:
            tables = json.loads(await request.body())["tables"]
        except (ValueError, KeyError, TypeError):
            raise ApiError(422, "body must be {'tables': {name: [row, ...]}}") from None
        known = set(ctx.db.tables())
        counts = {}
        with ctx.db.transaction() as conn:
            for table, rows in tables.items():
                if table not in known:
                    raise ApiError(422, f"no table {table!r}")
                for row in rows:
                    cols = list(row)
                    conn.execute(
                        f"INSERT OR REPLACE INTO {table} ({', '.join(cols)}) "
                        f"VALUES ({', '.join('?' for _ in cols)})",
                        [row[c] for c in cols],
                    )
                counts[table] = len(rows)
        return {"inserted": counts}

    @app.get("/_rig/health", include_in_schema=False, dependencies=[Depends(admin)])
    def _health() -> dict[str, Any]:
        return {"tables": ctx.db.tables(), "now": ctx.now()}

    @app.get("/_rig/state", include_in_schema=False, dependencies=[Depends(admin)])
    def _state() -> dict[str, Any]:
        return {t: ctx.db.rows(f"SELECT * FROM {t} ORDER BY rowid") for t in ctx.db.tables()}

    app.add_middleware(AuditAndIdempotency, ctx=ctx, audit=audit)
    return app


class WebServer:
    """One app served by uvicorn on a free loopback port, in its own thread and loop."""

    def __init__(self, app: Any, name: str) -> None:
        self.app, self.name = app, name
        self.server: Any = None
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.ports: dict[str | None, int] = {}  # None: the rig's; else a device role's

    def clients(self) -> dict[str, dict[str, int]]:
        """The device roles' own ports, as the host reports them (``{ROLE: {"http": PORT}}``)."""
        return {role: {"http": port} for role, port in self.ports.items() if role is not None}

    def start(
        self, timeout: float = 10.0, audit: AuditLog | None = None, roles: Iterable[str] = ()
    ) -> int:
        """Serve on the rig's port and one more per device role (``audit`` then names the
        role of a request by the port it came in on); returns the rig's port."""
        import uvicorn

        sockets = []
        for role in [None, *roles]:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            self.ports[role] = sock.getsockname()[1]
            if role is not None and audit is not None:
                audit.roles[self.ports[role]] = role
            sockets.append(sock)
        port = self.ports[None]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", server_header=False
        )
        self.server = uvicorn.Server(config)

        def run() -> None:
            try:
                asyncio.run(self.server.serve(sockets=sockets))
            except BaseException as exc:  # reported by start()
                self.error = exc

        self.thread = threading.Thread(target=run, name=f"web-{self.name}", daemon=True)
        self.thread.start()
        waited = 0.0
        while not self.server.started and self.error is None and waited < timeout:
            threading.Event().wait(0.01)
            waited += 0.01
        if not self.server.started:
            raise RuntimeError(f"{self.name}: uvicorn did not start: {self.error!r}")
        return port

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(5)


Builder = Callable[[WebContext, AuditLog], FastAPI]
