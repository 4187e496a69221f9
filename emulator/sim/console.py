"""The emulator console: the telnet port of an Android emulator, for the virtual phone.

It answers like the real one (``OK``/``KO: …`` after each command, CRLF line
ends, the auth-token banner) so tools written for AVDs — the rig's AVD
backend among them — drive the virtual phone unchanged. Auth follows the
real semantics: a missing token file is created with a random token, an
empty one turns auth off.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.sim.clock import update_json

if TYPE_CHECKING:
    from emulator.sim.phone import Phone

log = logging.getLogger("emulator.sim.console")

NUMBER = re.compile(r"^\+?[0-9]+$")
MAX_LINE = 64 * 1024

HELP = """Android console commands:

    help|h|?         print a list of commands
    ping             check if the emulator is alive
    kill             kill the emulator instance
    quit|exit        quit control session
    avd              control virtual device execution
    geo              Geo-location commands
    sms              SMS related commands
    gsm              GSM related commands

try 'help <command>' for command-specific help"""

SUB_HELP = {
    "avd": """allows you to control (e.g. start/stop) the execution of the virtual device

available sub-commands:
    avd stop             stop the virtual device
    avd start            start/restart the virtual device
    avd name             query virtual device name
    avd status           query virtual device status
    avd snapshot         state snapshot commands""",
    "avd snapshot": """allows you to save and restore the virtual device state in snapshots

available sub-commands:
    avd snapshot list             list available state snapshots
    avd snapshot save             save state snapshot
    avd snapshot load             load state snapshot
    avd snapshot delete           delete state snapshot""",
    "sms": """allows you to simulate an inbound SMS

available sub-commands:
    sms send             send inbound SMS text message""",
    "gsm": """allows you to change GSM-related settings, or to make a new inbound phone call

available sub-commands:
    gsm list             list current phone calls
    gsm call             create inbound phone call
    gsm busy             close waiting outbound call as busy
    gsm hold             change the state of an outbound call to 'held'
    gsm accept           change the state of an outbound call to 'active'
    gsm cancel           disconnect an inbound or outbound phone call""",
    "geo": """allows you to change Geo-related settings, or to send GPS NMEA sentences

available sub-commands:
    geo fix              send a simple GPS fix""",
}

CALL_INCOMING, CALL_MISSED = 1, 3


@dataclass
class Call:
    number: str
    state: str  # "incoming" (ringing), "active", "held"
    since: float


def write_token(path: Path, token: str) -> None:
    """Write a console token readable by its owner only (0600 from the first byte on)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token)


def read_or_create_token(path: Path) -> str:
    """The token in ``path`` ("" = auth off); creates the file with a random token if missing."""
    if not path.exists():
        write_token(path, secrets.token_urlsafe(12))
    return path.read_text().strip()


class ConsoleServer:
    """Listens on 127.0.0.1:port; one thread per telnet client."""

    def __init__(self, phone: Phone, port: int, token_path: Path) -> None:
        self.phone = phone
        self.token_path = Path(token_path)
        read_or_create_token(self.token_path)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        self.calls: dict[str, Call] = {}
        self.calls_lock = threading.Lock()
        self._clients: set[socket.socket] = set()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept, name="console-accept", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        for client in list(self._clients):
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            self._clients.add(client)
            threading.Thread(
                target=self._serve_client, args=(client,), name="console-client", daemon=True
            ).start()

    def _serve_client(self, client: socket.socket) -> None:
        try:
            ConsoleSession(self, client).run()
        except OSError:
            pass
        except Exception:
            log.exception("console session failed")
        finally:
            self._clients.discard(client)
            client.close()


class ConsoleSession:
    def __init__(self, server: ConsoleServer, sock: socket.socket) -> None:
        self.server = server
        self.phone = server.phone
        self.sock = sock
        self.token = read_or_create_token(server.token_path)
        self.authed = self.token == ""

    def send(self, text: str) -> None:
        self.sock.sendall(text.replace("\r\n", "\n").replace("\n", "\r\n").encode())

    def ok(self, text: str = "") -> None:
        self.send((text + "\n" if text else "") + "OK\n")

    def ko(self, text: str) -> None:
        self.send(f"KO: {text}\n")

    def run(self) -> None:
        if self.authed:
            self.send("Android Console: type 'help' for a list of commands\nOK\n")
        else:
            self.send(
                "Android Console: Authentication required\n"
                "Android Console: type 'auth <auth_token>' to authenticate\n"
                "Android Console: you can find your <auth_token> in \n"
                f"'{self.server.token_path}'\nOK\n"
            )
        buf = b""
        while True:
            data = self.sock.recv(4096)
            if not data:
                return
            buf += data
            if len(buf) > MAX_LINE and b"\n" not in buf:
                self.ko("line too long")
                return
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode("utf-8", "replace").strip("\r").strip()
                if not self.handle(line):
                    return

    # -- commands ---------------------------------------------------------------
    def handle(self, line: str) -> bool:
        """Answer one command line; False to end the session."""
        if not line:
            return True
        words = line.split()
        cmd = words[0].lower()
        if cmd in ("quit", "exit"):
            return False
        if cmd == "auth":
            return self.auth(words[1:])
        if cmd in ("help", "h", "?"):
            return self.help(words[1:])
        if not self.authed:
            self.ko("unknown command, try 'help'")
            return True
        handler = {
            "ping": self.ping,
            "kill": self.kill,
            "avd": self.avd,
            "sms": self.sms,
            "gsm": self.gsm,
            "geo": self.geo,
        }.get(cmd)
        if handler is None:
            self.ko("unknown command, try 'help'")
            return True
        return handler(line, words[1:]) is not False

    def auth(self, args: list[str]) -> bool:
        if not args:
            self.ko("missing authentication token")
        elif self.token and args[0] != self.token:
            self.ko(f"authentication token does not match {self.server.token_path}")
        else:
            self.authed = True
            self.send("Android Console: type 'help' for a list of commands\n")
            self.ok()
        return True

    def help(self, args: list[str]) -> bool:
        if not self.authed:
            self.send(
                "Android console commands:\n\n"
                "    help|h|?         print a list of commands\n"
                "    auth             user authentication for the emulator console\n"
                "    quit|exit        quit control session\n\n"
                "try 'help <command>' for command-specific help\n"
            )
            self.ok()
            return True
        topic = " ".join(args).lower()
        if not topic:
            self.send(HELP + "\n")
        elif topic in SUB_HELP:
            self.send(SUB_HELP[topic] + "\n")
        else:
            self.ko("unknown command, try 'help'")
            return True
        self.ok()
        return True

    def ping(self, line: str, args: list[str]) -> None:
        self.ok("I am alive!")

    def kill(self, line: str, args: list[str]) -> bool:
        self.send("OK: killing emulator, bye bye\n")
        threading.Thread(target=self.phone.stop, name="console-kill", daemon=True).start()
        return False

    # -- avd ----------------------------------------------------------------------
    def avd(self, line: str, args: list[str]) -> None:
        if not args:
            self.ko("missing sub-command, try 'help avd'")
            return
        sub = args[0].lower()
        if sub == "name":
            self.ok(self.phone.avd_name)
        elif sub in ("stop", "start"):
            # What the real console says. The virtual phone keeps answering adb while
            # "stopped" (its clock stands in a stepped world by itself); only the status
            # tells, so a rig that pauses an AVD can be checked against it.
            self.phone.execution = "stopped" if sub == "stop" else "running"
            self.ok()
        elif sub == "status":
            self.ok(f"virtual device is {self.phone.execution}")
        elif sub == "snapshot":
            self.snapshot(args[1:])
        else:
            self.ko("bad sub-command, try 'help avd'")

    def snapshot(self, args: list[str]) -> None:
        if not args:
            self.ko("missing sub-command, try 'help avd snapshot'")
            return
        sub = args[0].lower()
        if sub == "list":
            entries = self.phone.snapshot_list()
            if not entries:
                self.ok("There is no snapshot available.")
                return
            rows = ["List of snapshots present on all disks:"]
            rows.append(f"{'ID':<10}{'TAG':<20}{'VM SIZE':>7}{'DATE':>21}{'VM CLOCK':>15}")
            for name, size, saved_ms in entries:
                date = datetime.fromtimestamp(saved_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
                mb = f"{max(1, round(size / 1e6))}M"
                rows.append(f"{'--':<10}{name:<20}{mb:>7}{date:>21}{'00:00:00.000':>15}")
            self.ok("\n".join(rows))
            return
        if sub not in ("save", "load", "delete"):
            self.ko("bad sub-command, try 'help avd snapshot'")
            return
        if len(args) < 2:
            self.ko(f"missing argument, try 'avd snapshot {sub} <name>'")
            return
        name = args[1]
        try:
            if sub == "save":
                self.phone.snapshot_save(name)
            elif sub == "load":
                self.phone.snapshot_load(name)
            else:
                self.phone.snapshot_delete(name)
        except KeyError:
            self.ko(f"snapshot '{name}' does not exist")
            return
        except ValueError as exc:
            self.ko(str(exc))
            return
        except OSError as exc:
            log.exception("avd snapshot %s %s failed", sub, name)
            self.ko(f"snapshot {sub} failed: {exc}")
            return
        self.ok()

    # -- sms / gsm ------------------------------------------------------------------
    def sms(self, line: str, args: list[str]) -> None:
        if not args or args[0].lower() != "send":
            self.ko("bad sub-command, try 'help sms'" if args else "missing sub-command")
            return
        parts = line.split(None, 3)
        if len(parts) < 4:
            self.ko("missing argument, try 'sms send <phonenumber> <text message>'")
            return
        number, text = parts[2], parts[3]
        if not NUMBER.match(number):
            self.ko("bad phone number format, must be [+](0-9)*")
            return
        ctx = self.phone.ctx
        assert ctx is not None
        now = ctx.clock.now_ms()
        ctx.providers.insert(
            "content://sms/inbox",
            {"address": number, "body": text, "date": now, "date_sent": now, "read": 0, "seen": 0},
        )
        self.ok()

    def gsm(self, line: str, args: list[str]) -> None:
        if not args:
            self.ko("missing sub-command, try 'help gsm'")
            return
        sub = args[0].lower()
        calls, lock = self.server.calls, self.server.calls_lock
        if sub == "list":
            with lock:
                rows = [f"inbound from {c.number} : {c.state}" for c in calls.values()]
            self.ok("\n".join(rows))
            return
        if sub not in ("call", "accept", "cancel", "busy", "hold"):
            self.ko("bad sub-command, try 'help gsm'")
            return
        if len(args) < 2:
            self.ko(f"missing argument, try 'gsm {sub} <phonenumber>'")
            return
        number = args[1]
        if not NUMBER.match(number):
            self.ko("bad phone number format, must be [+](0-9)*")
            return
        with lock:
            call = calls.get(number)
            if sub == "call":
                if call is not None:
                    self.ko("a call to this number is already in progress")
                    return
                calls[number] = Call(number, "incoming", time.monotonic())
            elif call is None:
                self.ko("could not find this phone number")
                return
            elif sub in ("accept", "hold"):
                call.state = "active" if sub == "accept" else "held"
                call.since = time.monotonic() if sub == "accept" else call.since
            else:  # cancel / busy: the call ends and goes into the call log
                del calls[number]
                self._log_call(call)
        self.ok()

    def _log_call(self, call: Call) -> None:
        ctx = self.phone.ctx
        assert ctx is not None
        answered = call.state != "incoming"
        duration = int(time.monotonic() - call.since) if answered else 0
        ctx.providers.insert(
            "content://call_log/calls",
            {
                "number": call.number,
                "date": ctx.clock.now_ms(),
                "duration": duration,
                "type": CALL_INCOMING if answered else CALL_MISSED,
                "new": 1,
            },
        )

    # -- geo ----------------------------------------------------------------------
    def geo(self, line: str, args: list[str]) -> None:
        if not args or args[0].lower() != "fix":
            self.ko("bad sub-command, try 'help geo'" if args else "missing sub-command")
            return
        values = args[1:]
        if len(values) < 2:
            self.ko("missing argument, try 'geo fix <longitude> <latitude> [<altitude>]'")
            return
        numbers = []
        for value in values[:5]:
            try:
                numbers.append(float(value))
            except ValueError:
                self.ko(f"argument '{value}' is not a number")
                return
        lon, lat = numbers[0], numbers[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            self.ko("longitude or latitude out of range")
            return
        altitude = numbers[2] if len(numbers) > 2 else 0.0
        fix = {"longitude": lon, "latitude": lat, "altitude": altitude}
        self.phone.location = fix
        update_json(self.phone.system_json, "location", fix)
        self.ok()
