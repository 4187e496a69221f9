"""The world's chat, host side: a Synapse homeserver per world behind an audit proxy.

Synapse runs from its own venv (``.venv-synapse``, made by ``scripts/setup.sh``:
its pins differ from ours) as a child of the service host, like Dovecot: SQLite,
the client API only on a loopback port, no federation (no federation listener,
an empty whitelist, no key servers), presence, metrics and URL previews off,
small caches. An application service registration lets the rig create the
persona's contacts as users and write history at the messages' own times
(``?ts=``); the persona's own account gets a password (shared-secret
registration) so a device's client logs in like a person. Clients talk to an
ASGI proxy in front of Synapse that audits every request (``MATRIX METHOD``,
path, user, status, JSON body with secrets masked).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from hostproc.parent import die_with_parent
from hostproc.ports import free_port
from rig.services.audit import AuditLog
from rig.services.web_app import _body_fields

SERVER_NAME = "clawrig.world"
APPSERVICE_LOCALPART = "clawrig-seeder"
_ROOT = Path(__file__).resolve().parents[2]


def synapse_python() -> Path:
    """The interpreter that has Synapse: ``$CLAWRIG_SYNAPSE_PYTHON`` or ``.venv-synapse``."""
    env = os.environ.get("CLAWRIG_SYNAPSE_PYTHON")
    path = Path(env) if env else _ROOT / ".venv-synapse" / "bin" / "python"
    if not path.exists():
        raise RuntimeError(f"no Synapse interpreter at {path}: run `make setup`")
    return path


def _signing_key() -> str:
    seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"ed25519 a_clawrig {seed}\n"


def localpart(name: str) -> str:
    """A Matrix user localpart for a person's name (lower-case ASCII, digits, ._=-)."""
    import unicodedata

    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    cleaned = "".join(c if c.isalnum() or c in "._=-" else "." for c in ascii_)
    cleaned = cleaned.strip("._")  # Synapse keeps localparts that begin with _ for bridges
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:6]
    return f"{cleaned[:24] or 'user'}.{digest}"


TEMPLATE_FORMAT = 2  # bump when what the template holds changes
TEMPLATE_MARK = "clawrig_template"  # a table naming the template a world's database came from
_MODULES = Path(__file__).resolve().parent / "synapse_modules"


def _static_config() -> dict[str, Any]:
    """What every world's homeserver shares (the template database's key hashes it)."""
    return {
        "server_name": SERVER_NAME,
        "max_upload_size": "2M",
        "url_preview_enabled": False,
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "presence": {"enabled": False},
        "enable_metrics": False,
        "stats": {"enabled": False},
        # Each world's passwords are random tokens that live minutes: bcrypt's default
        # 12 rounds cost ~0.25 s of CPU per registration and login for nothing.
        "bcrypt_rounds": 4,
        "caches": {"global_factor": 0.1},
        "rc_message": {"per_second": 10000, "burst_count": 10000},
        "rc_login": {
            "address": {"per_second": 1000, "burst_count": 1000},
            "account": {"per_second": 1000, "burst_count": 1000},
        },
        "rc_joins": {"local": {"per_second": 1000, "burst_count": 1000}},
        "rc_joins_per_room": {"per_second": 1000, "burst_count": 1000},
        "rc_invites": {
            "per_room": {"per_second": 1000, "burst_count": 1000},
            "per_user": {"per_second": 1000, "burst_count": 1000},
        },
        "limit_remote_rooms": {"enabled": False},
        "require_auth_for_profile_requests": False,
        # Room version 12 drops the server from room ids ("!abc"); matrix-nio and so the
        # laptop's matrix-commander still take an id without ":server" for a short form and
        # add one, so they could not name a v12 room. 11 keeps "!abc:clawrig.world".
        "default_room_version": "11",
    }


def synapse_version(python: Path) -> str:
    """The installed Synapse's version, from its package metadata (no import: fast)."""
    site = python.parent.parent / "lib"
    found = sorted(site.glob("python*/site-packages/matrix_synapse-*.dist-info"))
    if not found:
        raise RuntimeError(f"no matrix_synapse package beside {python}")
    return found[-1].name.removeprefix("matrix_synapse-").removesuffix(".dist-info")


def template_root() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "clawrig" / "synapse"


def template_key(python: Path) -> str:
    what = {"synapse": synapse_version(python), "config": _static_config(), "v": TEMPLATE_FORMAT}
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


def template_db(python: Path | None = None, root: Path | None = None) -> Path:
    """An initialised homeserver database (schema made, background updates done, no
    users), built once per Synapse version and config under a file lock, then copied
    for each world: a fresh schema costs a world start ~0.5 s of CPU (seconds under
    load) and background updates after it."""
    from filelock import FileLock

    python = python or synapse_python()
    root = root or template_root()
    root.mkdir(parents=True, exist_ok=True)
    key = template_key(python)
    path = root / f"homeserver-{key}.db"
    if path.is_file():
        return path
    with FileLock(str(root / f"homeserver-{key}.lock")):
        if path.is_file():
            return path
        work = Path(tempfile.mkdtemp(prefix="template-", dir=root))
        try:
            (work / "rt").mkdir()
            synapse = Synapse(work / "state", work / "rt", [], template=None)
            synapse.spawn(background_sleep=False)
            try:
                synapse.wait_ready()
                synapse.wait_background_updates()
            finally:
                synapse.stop()
            built = work / "template.db"
            with contextlib.closing(sqlite3.connect(work / "state" / "homeserver.db")) as db:
                db.execute("VACUUM INTO ?", (str(built),))
            with contextlib.closing(sqlite3.connect(built)) as db, db:
                db.execute(f"CREATE TABLE {TEMPLATE_MARK} (key TEXT NOT NULL)")
                db.execute(f"INSERT INTO {TEMPLATE_MARK} VALUES (?)", (key,))
            os.replace(built, path)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return path


class Synapse:
    """One homeserver: config in the runtime folder, database and media in ``state``.

    ``template``: a database to start from (:func:`template_db`; None: a fresh schema)."""

    def __init__(
        self,
        state: Path,
        runtime: Path,
        accounts: list[dict[str, Any]],
        template: Path | None = None,
    ) -> None:
        self.state, self.runtime, self.accounts = state, runtime, accounts
        self.template = template
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log = state / "synapse.log"
        self.as_token = secrets.token_urlsafe(24)
        self.hs_token = secrets.token_urlsafe(24)
        self.shared_secret = secrets.token_urlsafe(24)

    @property
    def db(self) -> Path:
        return self.state / "homeserver.db"

    def spawn(self, background_sleep: bool = True, resume: bool = False) -> None:
        """Write the config and start Synapse (from the main thread: PR_SET_PDEATHSIG)."""
        self.state.mkdir(parents=True, exist_ok=True)
        for old in self.state.glob("homeserver.db*") if not resume else ():
            old.unlink()  # every world starts empty, even in a reused out folder
        if self.template is not None:
            shutil.copyfile(self.template, self.db)
        self.port = free_port()
        key = self.runtime / "chat.signing.key"
        key.write_text(_signing_key())
        registration = self.runtime / "chat.appservice.yaml"
        registration.write_text(
            json.dumps(
                {
                    "id": "clawrig",
                    "url": None,
                    "as_token": self.as_token,
                    "hs_token": self.hs_token,
                    "sender_localpart": APPSERVICE_LOCALPART,
                    "rate_limited": False,
                    "namespaces": {
                        "users": [{"exclusive": False, "regex": f"@.*:{SERVER_NAME}"}],
                        "rooms": [],
                        "aliases": [{"exclusive": False, "regex": f"#.*:{SERVER_NAME}"}],
                    },
                }
            )
        )
        logging = self.runtime / "chat.log.yaml"
        logging.write_text(
            json.dumps(
                {
                    "version": 1,
                    "formatters": {
                        "f": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
                    },
                    "handlers": {
                        "file": {
                            "class": "logging.FileHandler",
                            "filename": str(self.log),
                            "formatter": "f",
                        }
                    },
                    "root": {"level": "WARNING", "handlers": ["file"]},
                    "disable_existing_loggers": False,
                }
            )
        )
        config = {
            **_static_config(),
            "pid_file": str(self.runtime / "synapse.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(self.db)}},
            "media_store_path": str(self.state / "media"),
            "registration_shared_secret": self.shared_secret,
            "macaroon_secret_key": secrets.token_urlsafe(24),
            "form_secret": secrets.token_urlsafe(24),
            "signing_key_path": str(key),
            "log_config": str(logging),
            "app_service_config_files": [str(registration)],
            "modules": [{"module": "clawrig_seed.SeedModule", "config": {"token": self.as_token}}],
        }
        if not background_sleep:  # building the template: finish them at once
            config["background_updates"] = {"sleep_enabled": False}
        conf = self.runtime / "homeserver.yaml"
        conf.touch(mode=0o600)
        conf.write_text(json.dumps(config))  # JSON is YAML
        env = dict(os.environ)
        env["PYTHONPATH"] = str(_MODULES)  # our module only: Synapse's venv has the rest
        with open(self.state / "synapse.out", "ab") as out:
            self.process = subprocess.Popen(
                [str(synapse_python()), "-m", "synapse.app.homeserver", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                preexec_fn=die_with_parent(),
                cwd=self.state,
                env=env,
            )

    def wait_background_updates(self, timeout: float = 120.0) -> None:
        """Until Synapse has run every pending background update (read from its database)."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as db:
                left = db.execute("SELECT count(*) FROM background_updates").fetchone()[0]
            if not left:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"synapse: {left} background updates left after {timeout:.0f}s")
            time.sleep(0.1)

    def request(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
        finally:
            conn.close()

    def wait_ready(self, timeout: float = 90.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"synapse exited with {self.process.returncode}")
            try:
                if self.request("GET", "/_matrix/client/versions")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"synapse did not answer within {timeout:.0f}s")
            time.sleep(0.05)
        for account in self.accounts:
            self.register(account["user"], account["password"])

    def register(self, user: str, password: str) -> None:
        """A password account by shared-secret registration (how an admin makes one)."""
        _s, got = self.request("GET", "/_synapse/admin/v1/register")
        nonce = got["nonce"]
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), user.encode(), password.encode(), b"notadmin"]))
        body = {
            "nonce": nonce,
            "username": user,
            "password": password,
            "admin": False,
            "mac": mac.hexdigest(),
        }
        status, answer = self.request("POST", "/_synapse/admin/v1/register", body)
        if status != 200 and "in use" not in str(answer):
            raise RuntimeError(f"synapse: registering {user} answered {status}: {answer}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


# A client's event sends: PUT …/rooms/ROOM/send/TYPE/TXN and …/rooms/ROOM/state/TYPE[/KEY]
_TIMED = re.compile(r"^/_matrix/client/(?:v3|r0)/rooms/[^/]+/(send|state)/[^/]+(?:/([^/]*))?$")
_RIG_ONLY = "/_synapse/client/clawrig/"  # the seed module: never for a device


class MatrixProxy:
    """ASGI: forwards every client request to Synapse and audits it.

    A client's message or state event gets the **world's** time: Synapse stamps events
    with its host clock, and only an application service may give one its own
    ``ts``, so the proxy checks the client's token (``whoami``) and sends the event
    as the application service on that user's behalf (``?user_id=USER&ts=WORLD``),
    with the transaction id kept per token so a retried send is still sent once."""

    def __init__(self, synapse: Synapse, audit: AuditLog) -> None:
        self.synapse, self.audit = synapse, audit
        self.tokens: dict[str, str] = {}  # access token -> user id, learnt from login answers

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        import anyio

        from rig.services.web_app import request_client

        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if raw else quote(scope["path"], safe="/!@:$&+,;=-._~")
        if scope["path"].startswith(_RIG_ONLY):
            status, out_headers = 404, [("content-type", "application/json")]
            data = json.dumps({"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
            data = data.encode()
        else:
            try:
                status, out_headers, data = await anyio.to_thread.run_sync(
                    self._forward, scope["method"], raw_path, query, headers, body
                )
            except OSError as exc:
                status, out_headers = 502, [("content-type", "application/json")]
                data = json.dumps({"errcode": "M_UNKNOWN", "error": f"chat server: {exc}"})
                data = data.encode()
        user = self._user(headers, query)
        if status == 200 and scope["path"].endswith(("/login", "/register")):
            try:
                answer = json.loads(data)
                if answer.get("access_token"):
                    self.tokens[answer["access_token"]] = answer.get("user_id", "")
                    user = answer.get("user_id", user)
            except ValueError:
                pass
        self.audit.write(
            request_client(self.audit, scope),
            f"MATRIX {scope['method']}",
            path=scope["path"],
            user=user,
            status=status,
            body=_body_fields(body, headers.get("content-type", "")),
        )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out_headers],
            }
        )
        await send({"type": "http.response.body", "body": data})

    @staticmethod
    def _token(headers: dict[str, str], query: str) -> str | None:
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        return token or (parse_qs(query).get("access_token") or [None])[0]

    def _user(self, headers: dict[str, str], query: str) -> str | None:
        token = self._token(headers, query)
        return self.tokens.get(token) if token else None

    def _whoami(self, token: str) -> str | None:
        """The user a client's token belongs to, asked of Synapse at every send (a token
        logged out since must not send)."""
        status, answer = self.synapse.request(
            "GET", "/_matrix/client/v3/account/whoami", token=token
        )
        user = answer.get("user_id") if status == 200 and isinstance(answer, dict) else None
        return user if isinstance(user, str) and user.endswith(f":{SERVER_NAME}") else None

    def _at_world_time(
        self, method: str, path: str, query: str, headers: dict[str, str]
    ) -> tuple[str, dict[str, str]] | None:
        """The request that sends a client's event at the world's time, or None to
        forward it as it came (not an event send, or a token Synapse does not know)."""
        found = _TIMED.match(path) if method == "PUT" else None
        token = self._token(headers, query) if found else None
        user = self._whoami(token) if token else None
        if found is None or token is None or user is None:
            return None
        if found.group(1) == "send":
            device = hashlib.sha256(token.encode()).hexdigest()[:12]
            head, _, txn = path.rpartition("/")
            path = f"{head}/{device}.{txn}"
        ts = int(self.audit.clock.now().timestamp() * 1000)
        path += "?" + urlencode({"user_id": user, "ts": ts})
        return path, {**headers, "authorization": f"Bearer {self.synapse.as_token}"}

    def _forward(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        timed = self._at_world_time(method, path, query, headers)
        if timed is not None:
            path, headers = timed
        elif query:
            path = f"{path}?{query}"
        conn = http.client.HTTPConnection("127.0.0.1", self.synapse.port, timeout=60)
        try:
            keep = {
                k: v
                for k, v in headers.items()
                if k not in ("host", "content-length", "connection")
            }
            conn.request(method, path, body=body or None, headers=keep)
            resp = conn.getresponse()
            data = resp.read()
            out = [
                (k, v)
                for k, v in resp.getheaders()
                if k.lower() not in ("transfer-encoding", "connection", "content-length")
            ]
            out.append(("content-length", str(len(data))))
            return resp.status, out, data
        finally:
            conn.close()


def spawn_chat(
    state: Path, runtime: Path, accounts: list[dict[str, Any]], resume: bool = False
) -> Synapse:
    """Start Synapse early (it boots while the host starts the other servers); ``resume``:
    on the database a world checkpoint left in ``state``, not the template's empty one."""
    synapse = Synapse(state, runtime, accounts, template=None if resume else template_db())
    synapse.spawn(resume=resume)
    return synapse


def finish_chat(
    synapse: Synapse, runtime: Path, audit: AuditLog, closers: list, roles: list[str] = ()
) -> dict[str, Any]:
    """Wait for Synapse, make the persona's accounts, start the audit proxy."""
    from rig.services.web_app import WebServer

    synapse.wait_ready()
    server = WebServer(MatrixProxy(synapse, audit), "chat")
    closers.append(server.stop)
    port = server.start(audit=audit, roles=roles)
    token_file = runtime / "chat.as_token"
    token_file.touch(mode=0o600)
    token_file.write_text(synapse.as_token)
    assert synapse.process is not None
    return {
        "http": port,
        "clients": server.clients(),
        "synapse": synapse.port,
        "synapse_pid": synapse.process.pid,
    }
