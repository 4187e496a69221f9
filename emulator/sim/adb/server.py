"""The phone's adb port: accepts transport connections from adb servers."""

from __future__ import annotations

import logging
import socket
import threading

from emulator.sim.adb.connection import Connection
from emulator.sim.adb.services import ServiceTable
from emulator.sim.contracts import PhoneContext

log = logging.getLogger("emulator.sim.adb")

# What we tell the host we can do (see ADB_PROTOCOL.md "Features worth advertising").
FEATURES = (
    "shell_v2",
    "cmd",
    "stat_v2",
    "ls_v2",
    "fixed_push_mkdir",
    "apex",
    "abb",
    "abb_exec",
    "fixed_push_symlink_timestamp",
    "sendrecv_v2",
    "delayed_ack",
)


class AdbServer:
    """Listens on 127.0.0.1:port; one :class:`Connection` (and reader thread) per adb server."""

    def __init__(self, ctx: PhoneContext, port: int = 0, host: str = "127.0.0.1") -> None:
        self.ctx = ctx
        self.services = ServiceTable(ctx)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(16)
        self.host, self.port = self._sock.getsockname()[:2]
        self._lock = threading.Lock()
        self._conns: set[Connection] = set()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        ctx.reverse_connect = self.services.reverse.connect

    def banner(self) -> str:
        props = self.ctx.props
        fields = [
            f"ro.product.name={props.get('ro.product.name', 'sdk_gphone64_x86_64')}",
            f"ro.product.model={props.get('ro.product.model', 'sdk_gphone64_x86_64')}",
            f"ro.product.device={props.get('ro.product.device', 'emu64x')}",
            "features=" + ",".join(FEATURES),
        ]
        return "device::" + ";".join(fields)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept_loop, name="adb-accept", daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._sock.accept()
            except OSError:
                break
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(sock, self)
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=conn.serve, name=f"adb-conn-{conn.id}", daemon=True).start()

    def connection_closed(self, conn: Connection) -> None:
        with self._lock:
            self._conns.discard(conn)
        self.services.reverse.drop_connection(conn)

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._conns)

    def stop(self) -> None:
        self._stopping.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
