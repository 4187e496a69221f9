"""``tcp:PORT`` streams and ``reverse:``: sockets piped through ADB streams.

A ``tcp:PORT`` stream from the host (``adb forward``, uiautomator2) is piped
to the loopback server registered at ``ctx.tcp_ports[PORT]``; an unknown port
is refused, as on a phone where nothing listens. ``reverse:`` keeps the
device-side listeners of ``adb reverse``; a device-side connection to one of
them (``ctx.reverse_connect(port)``) becomes an OPEN of ``tcp:Y`` towards the
host and is handed to the caller as one end of a socket pair.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from emulator.sim.adb.stream import Stream, StreamClosed
from emulator.sim.contracts import PhoneContext

if TYPE_CHECKING:
    from emulator.sim.adb.connection import Connection

log = logging.getLogger("emulator.sim.adb")


def pipe(stream: Stream, sock: socket.socket) -> None:
    """Copy both ways until either side ends; runs in the caller's thread plus one more."""

    def sock_to_stream() -> None:
        try:
            while True:
                data = sock.recv(256 * 1024)
                if not data:
                    break
                stream.write(data)
        except (OSError, StreamClosed):
            pass
        finally:
            stream.close()

    pump = threading.Thread(target=sock_to_stream, name=f"pipe-{stream.local_id}", daemon=True)
    pump.start()
    try:
        while True:
            data = stream.read()
            if not data:
                break
            sock.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        pump.join(timeout=10)
        sock.close()


def parse_port(spec: str) -> int | None:
    """``tcp:9008`` / ``tcp:localhost:9008`` -> 9008; None when malformed."""
    rest = spec.partition(":")[2]
    port = rest.rpartition(":")[2]
    if not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return int(port)


def serve_tcp(ctx: PhoneContext, stream: Stream) -> None:
    port = parse_port(stream.service)
    target = ctx.tcp_ports.get(port) if port is not None else None
    if target is None:
        log.info("%r: nothing listens on device port %s, refused", stream, port)
        return  # not accepted: the connection refuses it
    try:
        sock = socket.create_connection(target, timeout=5)
    except OSError as exc:
        log.warning("%r: device port %s -> %s:%s unreachable: %s", stream, port, *target, exc)
        return
    sock.settimeout(None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream.accept()
    pipe(stream, sock)


@dataclass
class ReverseRule:
    device: str  # "tcp:X" on the phone
    host: str  # "tcp:Y" on the host
    conn: Connection


def _ok() -> bytes:
    return b"OKAY"


def _fail(message: str) -> bytes:
    raw = message.encode()
    return b"FAIL" + f"{len(raw):04x}".encode() + raw


def _string(text: str) -> bytes:
    raw = text.encode()
    return f"{len(raw):04x}".encode() + raw


class ReverseTable:
    """Device-side listeners of ``adb reverse``, each bound to the connection that asked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: dict[str, ReverseRule] = {}
        self._ports = itertools.count(40001)

    def serve(self, stream: Stream) -> None:
        command = stream.service.partition(":")[2]
        stream.accept()
        stream.write(self.handle(command, stream.conn))

    def handle(self, command: str, conn: Connection) -> bytes:
        if command == "list-forward":
            with self._lock:
                lines = "".join(f"(reverse) {r.device} {r.host}\n" for r in self._rules.values())
            return _string(lines)
        if command == "killforward-all":
            with self._lock:
                self._rules.clear()
            return _ok()
        if command.startswith("killforward:"):
            device = command.partition(":")[2]
            with self._lock:
                if self._rules.pop(device, None) is None:
                    return _fail(f"listener '{device}' not found")
            return _ok()
        if command.startswith("forward:"):
            spec = command.partition(":")[2]
            norebind = spec.startswith("norebind:")
            if norebind:
                spec = spec.partition(":")[2]
            device, semi, host = spec.partition(";")
            if not semi or not device or not host:
                return _fail(f"malformed forward spec '{spec}'")
            if device != "tcp:0" and not (device.startswith("tcp:") and parse_port(device)):
                return _fail(f"cannot bind listener: unsupported socket spec '{device}'")
            if not host.startswith("tcp:") or parse_port(host) is None:
                return _fail(f"cannot bind listener: unsupported socket spec '{host}'")
            with self._lock:
                resolved = ""
                if device == "tcp:0":
                    port = next(self._ports)
                    while f"tcp:{port}" in self._rules:
                        port = next(self._ports)
                    device = f"tcp:{port}"
                    resolved = str(port)
                if device in self._rules and norebind:
                    return _fail("cannot rebind existing socket")
                self._rules[device] = ReverseRule(device, host, conn)
            return _ok() + (_string(resolved) if resolved else b"")
        return _fail(f"unknown reverse command '{command}'")

    def drop_connection(self, conn: Connection) -> None:
        with self._lock:
            for key in [k for k, r in self._rules.items() if r.conn is conn]:
                del self._rules[key]

    def connect(self, port: int) -> socket.socket:
        """A device-side connection to reversed ``tcp:port``: our end of a socket pair."""
        with self._lock:
            rule = self._rules.get(f"tcp:{port}")
        if rule is None:
            raise ConnectionRefusedError(f"no adb reverse rule for device port {port}")
        stream = rule.conn.open_to_host(rule.host)
        ours, theirs = socket.socketpair()
        threading.Thread(
            target=pipe, args=(stream, theirs), name=f"reverse-{port}", daemon=True
        ).start()
        return ours
