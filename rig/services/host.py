"""The world's service host: one process per world running that world's servers.

``python -m rig.services.host LABEL CONFIG`` starts the services named in the
JSON config (mail: Dovecot as a child plus the IMAP relay and SMTP submission;
calendar and contacts: Radicale; bank, shop, parcels: FastAPI apps under uvicorn),
prints one JSON line with their ports, and serves until SIGTERM/SIGINT, until its
controller dies or closes its stdin; it can also close one world's servers and serve
the next world's (:func:`_serve`). ``LABEL`` is the owner label
:func:`hostproc.labels.labelled_processes` finds, so a reaper can kill a host whose
controller was SIGKILLed. Dovecot dies with the host
(PR_SET_PDEATHSIG); the host dies with its controller (PR_SET_PDEATHSIG when
started from the controller's main thread, and a parent watch otherwise).

A service that cannot start makes the host print ``{"error": …, "service": …}``
and exit 1; the controller turns that into an infra error with the log's tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from rig.services.audit import AuditLog, WorldClock


class _Failed(Exception):
    """A service that would not start (``service`` names it)."""

    def __init__(self, service: str | None, exc: BaseException) -> None:
        super().__init__(f"{type(exc).__name__}: {exc}")
        self.service = service


async def _serve(config: dict[str, Any]) -> int:
    """Serve ``config``'s world until told to stop. Lines on stdin: ``{"park": true}``
    closes every server (the world's folders are final; ``{"parked": true}`` answers), and
    ``{"reset": CONFIG}`` serves that config's world next, in this same process: the
    servers' imports, most of a start, are not paid again (a suite worker's next trial)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    commands: asyncio.Queue[str | None] = asyncio.Queue()

    def read_commands() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(commands.put_nowait, line)
        loop.call_soon_threadsafe(commands.put_nowait, None)  # the controller closed it

    threading.Thread(target=read_commands, name="commands", daemon=True).start()
    parent = os.getppid()
    world: dict[str, Any] | None = config
    while True:
        closers: list[Any] = []
        if world is not None:
            try:
                ready = await _start(world, closers)
            except _Failed as exc:
                print(json.dumps({"error": str(exc), "service": exc.service}), flush=True)
                await _close(closers)
                return 1
            print(json.dumps({"ready": ready, "pid": os.getpid()}), flush=True)
        command = await _next_command(commands, stop, parent)
        await _close(closers)
        if command is None:
            return 0
        world = None
        if "reset" in command:
            world = json.loads(Path(command["reset"]).read_text())
        _log_to(world.get("log") if world else os.devnull)
        if world is None:
            print(json.dumps({"parked": True}), flush=True)


async def _next_command(
    commands: asyncio.Queue[str | None], stop: asyncio.Event, parent: int
) -> dict[str, Any] | None:
    """The controller's next command, or None to stop: a signal, the controller gone, or
    its end of stdin closed."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set() and os.getppid() == parent:
            getting = asyncio.ensure_future(commands.get())
            done, _ = await asyncio.wait(
                {getting, stopping}, timeout=0.5, return_when=asyncio.FIRST_COMPLETED
            )
            if getting not in done:
                getting.cancel()
                continue
            line = getting.result()
            return None if line is None else json.loads(line)
        return None
    finally:
        stopping.cancel()


def _log_to(path: str | None) -> None:
    """The host's stderr into the new world's record (Dovecot logs to its own state)."""
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)


async def _close(closers: list[Any]) -> None:
    for close in reversed(closers):
        with contextlib.suppress(Exception):
            result = close()
            if asyncio.iscoroutine(result):
                await result


async def _start(config: dict[str, Any], closers: list[Any]) -> dict[str, Any]:
    """Start every service of ``config``; what started is in ``closers``."""
    state = config.get("clock")
    clock = WorldClock(datetime.fromisoformat(config["now"]), Path(state) if state else None)
    runtime = Path(config["runtime"])
    accounts = config["accounts"]
    roles: list[str] = config.get("clients", [])  # device roles: one port each per service
    ready: dict[str, Any] = {}
    current = None
    warm = None
    if web_services_in(config):
        # FastAPI and uvicorn take a second or more to import: do it while Dovecot and
        # Radicale start (the main thread mostly waits on their sockets then).
        warm = threading.Thread(target=_import_web, name="import-web", daemon=True)
        warm.start()
    try:
        dovecot = None
        if "mail" in config["services"]:
            # Dovecot starts first: it comes up while this process imports the Python servers.
            from rig.services.mail_server import Dovecot

            current = "mail"
            state = Path(config["services"]["mail"]["state"])
            state.mkdir(parents=True, exist_ok=True)
            dovecot = Dovecot(state, runtime, accounts)
            closers.append(dovecot.stop)
            dovecot.spawn()
        synapse = None
        if "chat" in config["services"]:
            from rig.services.chat_server import spawn_chat

            current = "chat"
            spec = config["services"]["chat"]
            synapse = spawn_chat(
                Path(spec["state"]), runtime, accounts, resume=bool(spec.get("resume"))
            )
            closers.append(synapse.stop)
        for name, spec in config["services"].items():
            current = name
            state = Path(spec["state"])
            state.mkdir(parents=True, exist_ok=True)
            audit = AuditLog(Path(spec["audit"]), clock, name)
            closers.append(audit.close)
            if name == "mail":
                assert dovecot is not None
                ready[name] = await _start_mail(dovecot, clock, audit, closers, roles)
            elif name in ("calendar", "contacts"):
                from rig.services.dav_server import DavServer

                dav = DavServer(name, state, runtime, accounts)
                ready[name] = dav.start(audit, roles)
                closers.append(dav.stop)
            elif name == "chat":
                from rig.services.chat_server import finish_chat

                assert synapse is not None
                ready[name] = finish_chat(synapse, runtime, audit, closers, roles)
            elif name in WEB_SERVICES:
                if warm is not None:
                    warm.join()
                ready[name] = _start_web(name, state, accounts, clock, audit, spec, closers, roles)
            else:
                raise RuntimeError(f"unknown service {name!r}")
    except Exception as exc:
        raise _Failed(current, exc) from exc
    return ready


async def _start_mail(
    dovecot: Any, clock: WorldClock, audit: AuditLog, closers: list[Any], roles: list[str]
) -> dict[str, Any]:
    from aiosmtpd.smtp import SMTP

    from rig.services.mail_server import (
        ImapRelay,
        InboundHandler,
        SubmissionHandler,
        smtp_authenticator,
    )

    state, accounts = dovecot.store.parent, dovecot.accounts
    await asyncio.to_thread(dovecot.wait_ready)
    relay = ImapRelay(dovecot.socket, audit)
    handler = SubmissionHandler(
        state, dovecot.store, accounts, clock, audit, (dovecot.uid, dovecot.gid)
    )
    authenticator = smtp_authenticator(accounts, audit)
    loop = asyncio.get_running_loop()
    ports: dict[str | None, dict[str, int]] = {}
    for role in [None, *roles]:  # one pair for the rig, one per device role
        imap = await asyncio.start_server(relay.handle, "127.0.0.1", 0)
        closers.append(imap.close)
        smtp = await loop.create_server(
            lambda: SMTP(
                handler,
                hostname="mail.clawrig.world",
                auth_required=True,
                auth_require_tls=False,
                authenticator=authenticator,
                enable_SMTPUTF8=True,
            ),
            "127.0.0.1",
            0,
        )
        closers.append(smtp.close)
        pair = {
            "imap": imap.sockets[0].getsockname()[1],
            "smtp": smtp.sockets[0].getsockname()[1],
        }
        ports[role] = pair
        if role is not None:
            audit.roles.update({pair["imap"]: role, pair["smtp"]: role})
    # Mail from outside the world (live events) arrives like MX traffic: no login, local
    # recipients only, not part of the outbox. Only the controller knows this port.
    inbound = InboundHandler(handler)
    mx = await loop.create_server(
        lambda: SMTP(inbound, hostname="mx.clawrig.world", enable_SMTPUTF8=True),
        "127.0.0.1",
        0,
    )
    closers.append(mx.close)
    return {
        **ports[None],
        "mx": mx.sockets[0].getsockname()[1],
        "clients": {role: pair for role, pair in ports.items() if role is not None},
        "dovecot_pid": dovecot.process.pid if dovecot.process else None,
        "uid": dovecot.uid,
        "gid": dovecot.gid,
    }


WEB_SERVICES = ("bank", "shop", "parcels")


def web_services_in(config: dict[str, Any]) -> bool:
    return any(n in WEB_SERVICES for n in config["services"])


def _import_web() -> None:
    with contextlib.suppress(Exception):  # a real import error shows when the service starts
        import uvicorn.server  # noqa: F401

        import rig.services.bank_app
        import rig.services.parcels_app
        import rig.services.shop_app  # noqa: F401


def _start_web(
    name: str,
    state: Path,
    accounts: list[dict[str, Any]],
    clock: WorldClock,
    audit: AuditLog,
    spec: dict[str, Any],
    closers: list[Any],
    roles: list[str],
) -> dict[str, Any]:
    import importlib

    from rig.services.web_app import Db, WebContext, WebServer

    module = importlib.import_module(f"rig.services.{name}_app")
    path = state / f"{name}.sqlite3"
    if not spec.get("resume"):  # a checkpoint's world resumes its database
        for old in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            old.unlink(missing_ok=True)  # every world starts empty, even in a reused out folder
    db = Db(path, module.SCHEMA)
    closers.append(db.close)
    ctx = WebContext(name, db, clock, accounts, spec["admin"], spec.get("options"))
    server = WebServer(module.build(ctx, audit), name)
    closers.append(server.stop)
    return {"http": server.start(audit=audit, roles=roles), "clients": server.clients()}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if len(argv) != 2:
        print("usage: python -m rig.services.host LABEL CONFIG", file=sys.stderr)
        return 2
    config = json.loads(Path(argv[1]).read_text())
    return asyncio.run(_serve(config))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
