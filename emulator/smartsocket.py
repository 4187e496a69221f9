"""The adb server's smart-socket protocol, for the requests the rig makes on every step.

adbutils pays ~20 ms per device request on a loopback device (a second
connection for ``host:version`` per request and a 10 ms sleep in every
close), which its public API gives no way around. The few requests every
agent step makes — shell, ``exec:``, sync of small files, ``tcp:`` streams and
host-side ``forward`` — are framed here by hand instead: one connection per
request, ``TCP_NODELAY``, no sleeps, no version probe. adbutils keeps
everything else (device lists, ``connect``, ``root``, ``reverse``).

A device service needs two exchanges on its connection: ``host:transport:S``
then the service. They cannot be pipelined into one write: adb 29 and 36 both
drop bytes that arrive with the transport switch (tests/android/test_smartsocket.py).

Failures: :class:`AdbUnreachable` (no server: connection refused or reset
before an answer) and :class:`AdbRefused` (the server or device answered
``FAIL``); both are raised before the service ran, so a caller may retry.
:class:`SyncError` is a sync request the device refused (no such file).
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager

SYNC_CHUNK = 64 * 1024
_SYNC_HEADER = struct.Struct("<4sI")
_STAT_V1 = struct.Struct("<4sIII")


class AdbUnreachable(ConnectionError):
    """No adb server answered at the address (not started, killed, restarting)."""


class AdbRefused(ConnectionError):
    """The server answered ``FAIL``: an unknown or offline device, or a refused service."""

    @property
    def device_unknown(self) -> bool:
        text = str(self)
        return "not found" in text or "no devices" in text


class SyncError(OSError):
    """The device refused a sync request (``FAIL``): no such file, permission denied."""


def frame(request: str) -> bytes:
    """A smart-socket request: four hex digits of length, then the UTF-8 text."""
    data = request.encode("utf-8")
    return b"%04x" % len(data) + data


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionResetError(f"adb closed the connection after {len(buf)}/{n} bytes")
        buf += chunk
    return bytes(buf)


def recv_all(sock: socket.socket) -> bytes:
    """Everything until the other side closes (linear, unlike repeated ``bytes +=``)."""
    data = bytearray()
    while chunk := sock.recv(1 << 20):
        data += chunk
    return bytes(data)


def recv_until(sock: socket.socket, deadline: float) -> Iterator[bytes]:
    """Chunks until the peer closes; TimeoutError past ``deadline``: no read outlives a limit."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            return
        yield chunk


def _status(sock: socket.socket, request: str) -> None:
    try:
        status = recv_exactly(sock, 4)
    except ConnectionResetError as exc:
        raise AdbUnreachable(f"adb server hung up on {request!r}") from exc
    if status == b"OKAY":
        return
    if status == b"FAIL":
        n = int(recv_exactly(sock, 4), 16)
        raise AdbRefused(f"{request}: {recv_exactly(sock, n).decode('utf-8', 'replace')}")
    raise AdbRefused(f"{request}: unexpected reply {status!r}")


class SmartSocket:
    """Requests to one adb server at ``host:port``."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.connections = 0  # opened so far (benchmarks count round trips with it)

    def connect(self, timeout: float | None = None) -> socket.socket:
        try:
            sock = socket.create_connection(
                (self.host, self.port), timeout=self.timeout if timeout is None else timeout
            )
        except (ConnectionRefusedError, ConnectionResetError) as exc:
            raise AdbUnreachable(f"no adb server at {self.host}:{self.port}: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connections += 1
        return sock

    def host_request(self, request: str, timeout: float | None = None) -> bytes:
        """A ``host:``/``host-serial:`` request answered with OKAY and one length-prefixed block
        (``host:version``, ``host-serial:S:get-state``, ``host-serial:S:features``)."""
        with self.connect(timeout) as sock:
            sock.sendall(frame(request))
            _status(sock, request)
            n = int(recv_exactly(sock, 4), 16)
            return recv_exactly(sock, n)

    def host_command(self, request: str, timeout: float | None = None) -> None:
        """A host request answered by OKAY (or FAIL) alone, e.g. ``host-serial:S:forward:…``.

        ``forward`` answers OKAY twice: once for the request, once when the listener is up."""
        with self.connect(timeout) as sock:
            sock.sendall(frame(request))
            _status(sock, request)
            if ":forward:" in request:
                _status(sock, request)

    def version(self) -> int:
        """The server's protocol version (41 for adb 29 and 36)."""
        return int(self.host_request("host:version"), 16)

    def open(self, serial: str, service: str, timeout: float | None = None) -> socket.socket:
        """A connection to ``service`` on device ``serial``, accepted; the caller closes it."""
        sock = self.connect(timeout)
        try:
            for request in (f"host:transport:{serial}", service):
                sock.sendall(frame(request))
                _status(sock, request)
        except BaseException:
            sock.close()
            raise
        return sock

    @contextmanager
    def service(
        self, serial: str, service: str, timeout: float | None = None
    ) -> Iterator[socket.socket]:
        sock = self.open(serial, service, timeout)
        try:
            yield sock
        finally:
            sock.close()

    def exec_out(self, serial: str, command: str, timeout: float | None = None) -> bytes:
        """Raw bytes of ``exec:COMMAND`` until the device closes the stream."""
        with self.service(serial, "exec:" + command, timeout) as sock:
            return recv_all(sock)

    # -- sync (v1, which every adbd speaks) -------------------------------------------------
    def read_file(self, serial: str, path: str, timeout: float | None = None) -> bytes:
        """A device file's bytes (``RECV``)."""
        with self.service(serial, "sync:", timeout) as sock:
            sock.sendall(_sync_request(b"RECV", path))
            data = bytearray()
            while True:
                ident, n = _SYNC_HEADER.unpack(recv_exactly(sock, 8))
                if ident == b"DATA":
                    data += recv_exactly(sock, n)
                elif ident == b"DONE":
                    break
                elif ident == b"FAIL":
                    raise SyncError(f"{path}: {recv_exactly(sock, n).decode('utf-8', 'replace')}")
                else:
                    raise AdbRefused(f"sync RECV {path}: unexpected {ident!r}")
            sock.sendall(_SYNC_HEADER.pack(b"QUIT", 0))
            return bytes(data)

    def write_file(
        self,
        serial: str,
        path: str,
        data: bytes,
        mode: int = 0o644,
        mtime: int = 0,
        timeout: float | None = None,
    ) -> None:
        """Write ``data`` to ``path`` on the device (``SEND``), creating parent folders."""
        with self.service(serial, "sync:", timeout) as sock:
            out = bytearray(_sync_request(b"SEND", f"{path},{0o100000 | (mode & 0o7777)}"))
            view = memoryview(data)
            for i in range(0, len(data), SYNC_CHUNK):
                piece = view[i : i + SYNC_CHUNK]
                out += _SYNC_HEADER.pack(b"DATA", len(piece))
                out += piece
                if len(out) >= 1 << 20:
                    sock.sendall(out)
                    out.clear()
            out += _SYNC_HEADER.pack(b"DONE", mtime & 0xFFFFFFFF)
            sock.sendall(out)
            ident, n = _SYNC_HEADER.unpack(recv_exactly(sock, 8))
            if ident == b"FAIL":
                raise SyncError(f"{path}: {recv_exactly(sock, n).decode('utf-8', 'replace')}")
            if ident != b"OKAY":
                raise AdbRefused(f"sync SEND {path}: unexpected {ident!r}")
            sock.sendall(_SYNC_HEADER.pack(b"QUIT", 0))

    def stat(self, serial: str, path: str, timeout: float | None = None) -> tuple[int, int, int]:
        """``(mode, size, mtime)`` of a device path; all zero when it does not exist."""
        with self.service(serial, "sync:", timeout) as sock:
            sock.sendall(_sync_request(b"STAT", path))
            ident, mode, size, mtime = _STAT_V1.unpack(recv_exactly(sock, _STAT_V1.size))
            if ident != b"STAT":
                raise AdbRefused(f"sync STAT {path}: unexpected {ident!r}")
            sock.sendall(_SYNC_HEADER.pack(b"QUIT", 0))
            return mode, size, mtime

    # -- forwarding ---------------------------------------------------------------------------
    def forward(self, serial: str, local: str, remote: str) -> None:
        """``adb forward local remote`` (``tcp:N`` specs), kept by the server until removed."""
        self.host_command(f"host-serial:{serial}:forward:{local};{remote}")

    def forward_remove(self, serial: str, local: str) -> None:
        self.host_command(f"host-serial:{serial}:killforward:{local}")

    def forward_list(self) -> list[tuple[str, str, str]]:
        """``(serial, local, remote)`` of every forward the server holds."""
        text = self.host_request("host:list-forward").decode("utf-8", "replace")
        return [tuple(line.split()[:3]) for line in text.splitlines() if len(line.split()) >= 3]  # type: ignore[misc]

    def http(
        self,
        serial: str,
        port: int,
        method: str,
        path: str,
        body: bytes = b"",
        timeout: float | None = None,
    ) -> tuple[int, bytes]:
        """One HTTP request to ``tcp:PORT`` on the device; ``(status, body)``."""
        with self.service(serial, f"tcp:{int(port)}", timeout) as sock:
            return http_exchange(sock, port, method, path, body)


def http_exchange(
    sock: socket.socket, port: int, method: str, path: str, body: bytes = b""
) -> tuple[int, bytes]:
    """One HTTP/1.0 request on an open device stream (how uiautomator2's agent is reached:
    a new ``tcp:9008`` stream per request); the server closes the stream after answering."""
    head = (
        f"{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode("ascii") + body)
    raw = recv_all(sock)
    header, sep, payload = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ConnectionResetError(f"tcp:{port}{path}: no HTTP answer ({len(raw)} bytes)")
    try:
        status = int(header.split(b"\r\n", 1)[0].split()[1])
    except (IndexError, ValueError) as exc:
        raise ConnectionResetError(f"tcp:{port}{path}: bad status line {header[:80]!r}") from exc
    for line in header.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            payload = payload[: int(value)]
    return status, payload


def _sync_request(ident: bytes, path: str) -> bytes:
    data = path.encode("utf-8")
    return _SYNC_HEADER.pack(ident, len(data)) + data
