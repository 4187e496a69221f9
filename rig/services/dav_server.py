"""CalDAV and CardDAV, host side: one Radicale application per service, audited.

Each persona account owns its collections (``/USER/calendar/`` for calendars,
``/USER/contacts/`` for address books); Radicale's ``owner_only`` rights refuse
anyone else. Radicale stores one ``.ics``/``.vcf`` per object under the
service's state folder, which is what scoring reads back over the protocol.
Every request is audited: method, path, user (from Basic auth, never the
password), status.
"""

from __future__ import annotations

import base64
import json
import socketserver
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from rig.services.audit import AuditLog

# service name -> (collection name, Radicale tag, display name)
COLLECTIONS = {
    "calendar": ("calendar", "VCALENDAR", "Calendar"),
    "contacts": ("contacts", "VADDRESSBOOK", "Contacts"),
}


def make_collections(root: Path, service: str, users: list[str]) -> None:
    """Create each user's collection on disk before Radicale starts (no MKCOL round trip)."""
    name, tag, display = COLLECTIONS[service]
    for user in users:
        folder = root / "collection-root" / user / name
        folder.mkdir(parents=True, exist_ok=True)
        props = folder / ".Radicale.props"
        if not props.exists():
            key = "D:displayname"
            props.write_text(json.dumps({"tag": tag, key: display}))


def radicale_app(state: Path, htpasswd: Path) -> Any:
    import radicale
    import radicale.config

    configuration = radicale.config.load()
    configuration.update(
        {
            "auth": {
                "type": "htpasswd",
                "htpasswd_filename": str(htpasswd),
                "htpasswd_encryption": "plain",
                "delay": "0",
            },
            "rights": {"type": "owner_only"},
            # A world's store lives for one episode: no fsync per item (seeding 500 events
            # in one PUT would otherwise wait on the disk 500 times).
            "storage": {"filesystem_folder": str(state), "_filesystem_fsync": "False"},
            "web": {"type": "none"},
            "logging": {"level": "warning", "mask_passwords": "True"},
        },
        "clawrig",
        privileged=True,
    )
    return radicale.Application(configuration)


class _Threaded(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["REMOTE_PORT"] = str(self.client_address[1])
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _user(environ: dict[str, Any]) -> str | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        return base64.b64decode(header[6:]).decode("utf-8", "replace").partition(":")[0]
    except ValueError:
        return None


def audited(app: Any, audit: AuditLog) -> Any:
    def wrapper(environ: dict[str, Any], start_response: Any) -> Any:
        status: list[str] = []

        def capture(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code)
            return (
                start_response(code, headers, exc_info)
                if exc_info
                else start_response(code, headers)
            )

        body = app(environ, capture)
        peer = (environ.get("REMOTE_ADDR", "?"), environ.get("REMOTE_PORT", "?"))
        client = audit.client(int(environ.get("SERVER_PORT", 0)), peer)
        path = unquote(environ.get("PATH_INFO", ""))
        audit.write(
            client,
            f"DAV {environ.get('REQUEST_METHOD', '?')}",
            path=path,
            user=_user(environ),
            status=int(status[0].split()[0]) if status else None,
        )
        return body

    return wrapper


class DavServer:
    """One Radicale on a free loopback port, served by threads of the host process."""

    def __init__(self, service: str, state: Path, runtime: Path, accounts: list[dict[str, Any]]):
        self.service, self.state, self.runtime, self.accounts = service, state, runtime, accounts
        self.servers: list[WSGIServer] = []

    def start(self, audit: AuditLog, roles: list[str] = ()) -> dict[str, Any]:
        """Serve on one port for the rig and one per device role (the audit names the role);
        returns ``{"http": PORT, "clients": {ROLE: {"http": PORT}}}``."""
        store = self.state / "dav"
        make_collections(store, self.service, [a["user"] for a in self.accounts])
        htpasswd = self.runtime / f"{self.service}.htpasswd"
        htpasswd.write_text("".join(f"{a['user']}:{a['password']}\n" for a in self.accounts))
        app = audited(radicale_app(store, htpasswd), audit)
        ports: dict[str | None, int] = {}
        for role in [None, *roles]:
            httpd = make_server(
                "127.0.0.1", 0, app, server_class=_Threaded, handler_class=_QuietHandler
            )
            name = f"dav-{self.service}-{role or 'rig'}"
            threading.Thread(target=httpd.serve_forever, name=name, daemon=True).start()
            self.servers.append(httpd)
            ports[role] = httpd.server_address[1]
            if role is not None:
                audit.roles[ports[role]] = role
        clients = {role: {"http": port} for role, port in ports.items() if role is not None}
        return {"http": ports[None], "clients": clients}

    def stop(self) -> None:
        for httpd in self.servers:
            httpd.shutdown()
            httpd.server_close()
