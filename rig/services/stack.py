"""A world's services: start them in one host process, health-check, stop, reap.

``ServiceStack(names, out, now, accounts).start()`` returns ``{name: service}``
once every service answered a real protocol round trip. Each service keeps its
state in ``OUT/services/NAME/`` (``audit.jsonl`` beside it); credentials and
sockets live in a short runtime folder under the temp dir that is removed at
stop (passwords never reach the episode folder). Nothing is shared between
worlds: every stack has its own host, ports, Dovecot and Radicale.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from hostproc.labels import PREFIXES, owner_alive, owner_label, start_time, write_owner
from hostproc.parent import die_with_parent
from hostproc.reaper import reap_orphans as reap
from rig.services.audit import audit_line, ending_at, read_audit
from rig.services.base import Account, ServiceDown, service_class

LABEL = PREFIXES["service"]
RUNTIME_PREFIX = "clawrig-svc-"
AUDIT = "audit.jsonl"  # beside each service's state, in its folder
_ROOT = Path(__file__).resolve().parents[2]  # the checkout that holds rig/


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


class ServiceStack:
    """The services of one world, started together in one host process."""

    def __init__(
        self,
        names: list[str],
        out: Path,
        now: datetime,
        accounts: list[Account],
        timeout: float = 20.0,
        options: dict[str, dict[str, Any]] | None = None,
        clients: list[str] | tuple[str, ...] = (),
        saved: Path | None = None,
    ) -> None:
        for name in names:
            service_class(name)  # unknown names fail before anything starts
        if not accounts:
            raise ValueError("a world's services need at least the persona's account")
        # Absolute: Dovecot and the servers do not run in our working directory.
        self.names, self.out, self.now = list(names), Path(out).resolve(), now
        # Synapse takes seconds to boot on a loaded machine (docs/services-web.md).
        self.accounts, self.timeout = accounts, max(timeout, 90.0) if "chat" in names else timeout
        self.clients = list(clients)  # device roles that get their own ports (audit names them)
        self.services: dict[str, Any] = {}
        self.process: subprocess.Popen[str] | None = None
        self.runtime: Path | None = None
        self.ports: dict[str, Any] = {}
        self.run_id = uuid.uuid4().hex
        self.ready_s = 0.0
        # Per-service settings for the host (the bank's SMS gateway); may hold secrets, so
        # they go only to the runtime folder, never to the episode folder.
        self.options = options or {}
        self.admin_token = secrets.token_urlsafe(24)  # the rig's own seeding/reading routes
        # A world checkpoint's state folders (one per service, :meth:`save_state`): the
        # services resume from them instead of starting empty.
        self.saved = Path(saved) if saved is not None else None
        self._launched = 0.0
        self.parked = False  # the host serves no world and waits for the next (park)

    def state_dir(self, name: str) -> Path:
        return self.out / name

    @property
    def clock_path(self) -> Path:
        """The world clock's anchor (:func:`rig.services.audit.write_clock`); the
        controller writes it, the host's servers read it."""
        assert self.runtime is not None, "the stack has not started"
        return self.runtime / "clock.json"

    def audit_path(self, name: str) -> Path:
        return self.out / name / AUDIT

    @property
    def log(self) -> Path:
        return self.out / "host.log"

    def start(self) -> dict[str, Any]:
        """Start every service and health-check it; on any failure nothing is left running."""
        self.launch()
        return self.wait_ready()

    def park(self, timeout: float = 30.0) -> bool:
        """Close this world's servers but keep their host, for :meth:`launch` with ``adopt``
        to serve the next world's in place; their folders are final once this returns.
        False (and nothing left running) when it cannot: chat (Synapse is a process of its
        own, started anew anyway) or a host that did not answer."""
        proc = self.process
        if "chat" in self.names or proc is None or proc.poll() is not None or not proc.stdin:
            self.stop()
            return False
        self._close_clients()
        try:
            proc.stdin.write(json.dumps({"park": True}) + "\n")
            proc.stdin.flush()
            self.parked = self._next_line(timeout).get("parked") is True
        except (OSError, ValueError, ServiceDown):
            self.parked = False
        if not self.parked:
            self.stop()
        self._drop_runtime()  # the closed servers' sockets and credentials: none in use now
        return self.parked

    def launch(self, adopt: ServiceStack | None = None) -> None:
        """Start the services' host and return at once (:meth:`wait_ready` waits for it), so
        the caller can start the devices meanwhile; on a failure nothing is left running.

        With ``adopt`` (the last world's stack with the same services, parked by
        :meth:`park`) its host is told to serve this world: these services from this
        world's state, without a new process (the imports are most of a start)."""
        if adopt is not None and not (adopt.parked and adopt.names == self.names):
            adopt.stop()
            adopt = None
        if not self.names:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        if self.saved is not None:
            for name in self.names:
                target = self.state_dir(name)
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(self.saved / name, target, symlinks=True)
        self.runtime = Path(tempfile.mkdtemp(prefix=RUNTIME_PREFIX))
        os.chmod(self.runtime, 0o711)  # an unprivileged Dovecot must reach its own folder
        write_owner(self.runtime)
        config = {
            "now": self.now.isoformat(),
            "clock": str(self.clock_path),
            "runtime": str(self.runtime),
            "log": str(self.log),
            "accounts": [a.to_host() for a in self.accounts],
            "clients": self.clients,
            "services": {
                n: {
                    "state": str(self.state_dir(n)),
                    "audit": str(self.audit_path(n)),
                    "admin": self.admin_token,
                    "options": self.options.get(n, {}),
                    "resume": self.saved is not None,
                }
                for n in self.names
            },
        }
        config_path = self.runtime / "host.json"
        config_path.touch(mode=0o600)
        config_path.write_text(json.dumps(config))
        if adopt is not None:
            self._take_over(adopt, config_path)
            return
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
        in_main = threading.current_thread() is threading.main_thread()
        cmd = [sys.executable, "-m", "rig.services.host", owner_label(LABEL, self.run_id)]
        try:
            with open(self.log, "ab") as err:
                self.process = subprocess.Popen(
                    [*cmd, str(config_path)],
                    stdin=subprocess.PIPE,  # a reset in place (the host stops at EOF)
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                    env=env,
                    preexec_fn=die_with_parent() if in_main else None,
                )
            self._launched = time.perf_counter()
        except BaseException:
            self.stop()
            raise

    def _take_over(self, old: ServiceStack, config_path: Path) -> None:
        """Become ``old``'s (parked) host's controller and send it this world's config."""
        process, old.process, old.parked = old.process, None, False
        assert process is not None and process.stdin is not None
        self.process, self.run_id = process, old.run_id
        self._launched = time.perf_counter()
        try:
            process.stdin.write(json.dumps({"reset": str(config_path)}) + "\n")
            process.stdin.flush()
        except OSError:  # the host is gone: wait_ready says so, with its log
            pass

    def wait_ready(self) -> dict[str, Any]:
        """Wait for the launched host's ports and health-check every service; on a failure
        nothing is left running."""
        if not self.names:
            return {}
        try:
            t0 = self._launched
            reply = self._next_line()
            self.ready_s = time.perf_counter() - t0  # host up to its ready line (benchmarks)
            if "error" in reply:
                name = reply.get("service") or ",".join(self.names)
                raise ServiceDown(name, f"did not start: {reply['error']}", self._log_tail(name))
            self.ports = reply["ready"]
            for name in self.names:
                cls = service_class(name)
                self.services[name] = cls(self, self.ports[name])
            self._health_all()
        except BaseException:
            self.stop()
            raise
        return self.services

    def save_state(self, dest: Path) -> None:
        """Copy every service's state folder to ``dest/NAME`` while the world is idle (after
        seeding, before the agent): SQLite databases through SQLite's online backup (a
        consistent copy while the server holds them open), other files as they are; Dovecot's
        indexes (rebuilt from the Maildir and its uidlist) and server logs are left out. The
        audit log is kept with its times moved back to end at the task's ``now``
        (:func:`rig.services.audit.ending_at`): a restored world's clock starts at ``now``
        again, so its seeding stays in its past, as in a fresh world's."""
        for name in self.names:
            src = self.state_dir(name)
            if src.is_symlink() or not src.is_dir():
                raise ServiceDown(name, f"its state folder {src} is not a folder")
            _copy_state(src.resolve(), Path(dest) / name)
            records = ending_at(read_audit(self.audit_path(name)), self.now)
            (Path(dest) / name / AUDIT).write_text("".join(audit_line(r) for r in records))

    def rewind_audit(self) -> dict[str, int]:
        """Each audit log of a world started from :attr:`saved` back to the checkpoint's,
        once the restore has read the world (its health checks, the clients' new ports and
        the digest read are the restore's requests, not the world's: a fresh world made its
        own before the checkpoint was saved, and they are in it). The records kept, per
        service: where the agent's begin."""
        assert self.saved is not None, "only a world started from a checkpoint rewinds"
        counts = {}
        for name in self.names:
            saved = (self.saved / name / AUDIT).read_bytes()
            live = self.audit_path(name)
            with open(live, "rb") as f:
                if f.read(len(saved)) != saved:
                    raise ServiceDown(name, "its audit log does not begin with the checkpoint's")
            # The host appends (O_APPEND): its next record follows the checkpoint's.
            os.truncate(live, len(saved))
            counts[name] = len(read_audit(live))
        return counts

    def _next_line(self, timeout: float | None = None) -> dict[str, Any]:
        """The host's next line on stdout (a ready line, an error, parked), as JSON."""
        assert self.process is not None and self.process.stdout is not None
        timeout = self.timeout if timeout is None else timeout
        lines: list[str] = []
        reader = threading.Thread(
            target=lambda: lines.append(self.process.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(timeout)
        if not lines or not lines[0].strip():
            code = self.process.poll()
            why = f"exited with {code}" if code is not None else f"no answer in {timeout}s"
            names = ",".join(self.names)
            raise ServiceDown(names, f"service host {why}", _tail(self.log))
        try:
            return json.loads(lines[0])
        except json.JSONDecodeError:
            raise ServiceDown(
                ",".join(self.names), f"service host said {lines[0]!r}", _tail(self.log)
            ) from None

    def _log_tail(self, name: str) -> str:
        parts = []
        if name == "mail":
            parts.append(_tail(self.state_dir("mail") / "dovecot.log"))
        parts.append(_tail(self.log))
        return "\n".join(p for p in parts if p.strip())

    def check_alive(self) -> None:
        """Raise :class:`ServiceDown` if the host or any service stopped answering."""
        if self.process is None or self.process.poll() is not None:
            raise ServiceDown(",".join(self.names), "service host is gone", _tail(self.log))
        self._health_all()

    def _health_all(self) -> None:
        """Every service's health round trip, side by side (threads: no process starts)."""
        with ThreadPoolExecutor(max_workers=len(self.services) or 1) as pool:
            futures = {name: pool.submit(s.health) for name, s in self.services.items()}
        for name, future in futures.items():
            exc = future.exception()
            if isinstance(exc, ServiceDown):
                raise ServiceDown(name, exc.reason, self._log_tail(name)) from exc
            if exc is not None:
                raise exc

    def stop(self) -> None:
        """Stop the host (and with it Dovecot and Radicale); idempotent, never raises."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for pipe in (proc.stdin, proc.stdout) if proc is not None else ():
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        dovecot = (self.ports.get("mail") or {}).get("dovecot_pid")
        if dovecot:
            _wait_gone(dovecot)
        self._close_clients()
        self._drop_runtime()

    def _close_clients(self) -> None:
        for service in self.services.values():
            with contextlib.suppress(Exception):
                service.close()
        self.services.clear()

    def _drop_runtime(self) -> None:
        if self.runtime is not None:
            shutil.rmtree(self.runtime, ignore_errors=True)
            self.runtime = None

    def __enter__(self) -> ServiceStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __getitem__(self, name: str) -> Any:
        try:
            return self.services[name]
        except KeyError:
            known = ", ".join(sorted(self.services)) or "none"
            raise KeyError(f"no service {name!r} in this world (services: {known})") from None


# Left out of a service checkpoint: logs of the servers, and Dovecot's index files (the
# audit log is saved on its own, :meth:`ServiceStack.save_state`).
STATE_SKIP = (
    AUDIT,
    "*.log",
    "dovecot.index*",
    "dovecot.list.index*",
    "*-wal",
    "*-shm",
    "*-journal",
)
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def _copy_state(src: Path, dest: Path) -> None:
    import fnmatch
    import sqlite3

    dest.mkdir(parents=True, exist_ok=True)
    for entry in sorted(src.iterdir()):
        target = dest / entry.name
        if any(fnmatch.fnmatch(entry.name, g) for g in STATE_SKIP):
            continue
        if entry.is_dir():  # the live Maildir may be a link into the runtime folder
            _copy_state(entry.resolve(), target)
        elif entry.suffix in SQLITE_SUFFIXES:
            source = sqlite3.connect(f"file:{entry}?mode=ro", uri=True, timeout=30)
            try:
                copy = sqlite3.connect(target)
                try:
                    source.backup(copy)
                finally:
                    copy.close()
            finally:
                source.close()
        elif entry.is_file():
            shutil.copy2(entry, target)


def persona_account(persona: Any) -> Account:
    """The persona's login: user from the first name (ASCII), address from the persona."""
    if persona is None:
        return Account("user", ("user@clawrig.example",))
    first = unicodedata.normalize("NFKD", persona.first_name).encode("ascii", "ignore").decode()
    user = re.sub(r"[^a-z0-9._-]", "", first.lower()) or "user"
    email = getattr(persona, "email", None)
    return Account(user, (email,) if email else (f"{user}@clawrig.example",))


def start_services(
    loaded: Any,
    out: Path,
    world: Any = None,
    saved: Path | None = None,
    accounts: list[Account] | None = None,
) -> ServiceStack:
    """Start the services ``loaded``'s task declares, for its persona, on its clock;
    the bank texts its one-time codes to ``world``'s first phone with a console. With
    ``saved`` (and the ``accounts`` they were saved with), they resume a checkpoint's state."""
    stack = services_for(loaded, out, world, saved, accounts)
    stack.start()
    return stack


def needs_devices(names: Any) -> bool:
    """Whether these services must know the world's devices before they start (the bank
    texts a phone through its console), so they cannot start beside them."""
    return "bank" in names


def services_for(
    loaded: Any,
    out: Path,
    world: Any = None,
    saved: Path | None = None,
    accounts: list[Account] | None = None,
) -> ServiceStack:
    """The stack :func:`start_services` starts, not started yet (``launch`` it, then
    ``wait_ready``, to start the devices in between)."""
    reap_orphans()
    task = loaded.task
    # The bank's standing orders fall due by the day in the task's zone (across DST).
    options: dict[str, dict[str, Any]] = {"bank": {"timezone": task.timezone}}
    phone = sms_gateway(world) if world is not None else None
    if phone is not None:
        options["bank"]["sms"] = phone
    accounts = accounts or [persona_account(loaded.persona)]
    stack = ServiceStack(
        list(task.services),
        out,
        task.now,
        accounts,
        options=options,
        clients=list(task.devices),
        saved=saved,
    )
    return stack


def sms_gateway(world: Any) -> dict[str, Any] | None:
    """How the bank reaches the world's phone: its console port and auth token."""
    from emulator.console import read_token

    for device in getattr(world, "devices", {}).values():
        console = getattr(device, "console", None)
        if getattr(device, "kind", "") == "android" and console is not None:
            port, token_path = console
            return {"console_port": port, "token": read_token(token_path) or ""}
    return None


def _wait_gone(pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if start_time(pid) is None:
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def reap_orphans(grace_s: float = 60.0) -> list[int]:
    """Stop service hosts whose controller is gone (:mod:`hostproc.reaper`; their Dovecot
    dies with them) and remove runtime folders of dead owners; returns the pids stopped."""
    killed = reap(["service"])
    now = time.time()
    for path in Path(tempfile.gettempdir()).glob(f"{RUNTIME_PREFIX}*"):
        owner = path / "owner"
        try:
            old = now - path.stat().st_mtime >= grace_s
        except OSError:
            continue
        if owner.is_file() and not owner_alive(owner) and (old or killed):
            shutil.rmtree(path, ignore_errors=True)
    return killed
