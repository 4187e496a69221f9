"""One adb server's TCP connection to the phone: handshake, stream table, dispatch.

A reader thread parses packets and routes them to streams; each opened
service runs in its own thread, so a long shell never holds up a push on the
same connection. Malformed input closes the connection (bad header) or the
stream (bad service data) with a log line; it never reaches the phone.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from emulator.sim.adb.packets import (
    A_AUTH,
    A_CLSE,
    A_CNXN,
    A_OKAY,
    A_OPEN,
    A_STLS,
    A_WRTE,
    MAX_PAYLOAD,
    VERSION,
    Packet,
    ProtocolError,
    read_packet,
)
from emulator.sim.adb.stream import RECV_WINDOW, Stream, StreamClosed

if TYPE_CHECKING:
    from emulator.sim.adb.server import AdbServer

log = logging.getLogger("emulator.sim.adb")

_conn_ids = itertools.count(1)


class Connection:
    """The device side of one transport connection."""

    def __init__(self, sock: socket.socket, server: AdbServer) -> None:
        self.sock = sock
        self.server = server
        self.id = next(_conn_ids)
        try:
            peer = sock.getpeername()
            self.peer = f"{peer[0]}:{peer[1]}"
        except OSError:
            self.peer = "?"
        self.max_payload = MAX_PAYLOAD
        self.host_features: set[str] = set()
        self.online = False
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._streams: dict[int, Stream] = {}
        self._ids = itertools.count(1)
        self._closed = threading.Event()

    @property
    def delayed_ack(self) -> bool:
        return "delayed_ack" in self.host_features

    # -- sending -----------------------------------------------------------
    def send(self, packet: Packet) -> None:
        data = packet.encode()
        with self._send_lock:
            if self._closed.is_set():
                return
            try:
                self.sock.sendall(data)
            except OSError as exc:
                log.info("adb connection %d (%s): send failed: %s", self.id, self.peer, exc)
                self._closed.set()

    def forget(self, stream: Stream) -> None:
        with self._lock:
            if self._streams.get(stream.local_id) is stream:
                del self._streams[stream.local_id]

    # -- reading -----------------------------------------------------------
    def _recv_exactly(self, n: int) -> bytes:
        chunks = []
        while n:
            chunk = self.sock.recv(min(n, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def serve(self) -> None:
        """Read packets until EOF or a protocol error; always tears the connection down."""
        log.debug("adb connection %d from %s", self.id, self.peer)
        try:
            while not self._closed.is_set():
                packet = read_packet(self._recv_exactly)
                if packet is None:
                    break
                self._handle(packet)
        except ProtocolError as exc:
            log.warning("adb connection %d (%s): closing: %s", self.id, self.peer, exc)
        except OSError as exc:
            if not self._closed.is_set():
                log.info("adb connection %d (%s): %s", self.id, self.peer, exc)
        except Exception:
            log.exception("adb connection %d (%s): internal error, closing", self.id, self.peer)
        finally:
            self.close()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            streams = list(self._streams.values())
            self._streams.clear()
        for stream in streams:
            stream.abort()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.server.connection_closed(self)

    def _handle(self, p: Packet) -> None:
        if p.command == A_CNXN:
            self._on_cnxn(p)
        elif not self.online:
            log.warning("adb connection %d: %s before CNXN, ignored", self.id, p.name)
        elif p.command == A_OPEN:
            self._on_open(p)
        elif p.command == A_OKAY:
            stream = self._stream(p.arg1)
            if stream is None:
                return
            if not stream.accepted:  # the host accepted a stream we opened
                stream.on_host_accept(p.arg0, p.payload)
            else:
                stream.on_okay(p.payload)
        elif p.command == A_WRTE:
            stream = self._stream(p.arg1)
            if stream is not None:
                stream.on_write(p.payload)
        elif p.command == A_CLSE:
            stream = self._stream(p.arg1)
            if stream is not None:
                stream.on_close()
        elif p.command in (A_AUTH, A_STLS):
            log.warning("adb connection %d: %s not supported, ignored", self.id, p.name)
        else:
            log.warning("adb connection %d: unknown packet %s, ignored", self.id, p.name)

    def _stream(self, local_id: int) -> Stream | None:
        with self._lock:
            return self._streams.get(local_id)

    def _on_cnxn(self, p: Packet) -> None:
        banner = p.payload.rstrip(b"\0").decode("utf-8", "replace")
        features = ""
        for part in banner.split("::", 1)[-1].split(";"):
            if part.startswith("features="):
                features = part[len("features=") :]
        if self.online:  # the host restarted the handshake: drop old streams
            with self._lock:
                old = list(self._streams.values())
                self._streams.clear()
            for stream in old:
                stream.abort()
        self.host_features = {f for f in features.split(",") if f}
        self.max_payload = max(4096, min(p.arg1 or MAX_PAYLOAD, MAX_PAYLOAD))
        self.online = True
        # No trailing NUL: adb splits the features on "," without trimming, so a NUL
        # would turn the last feature into "delayed_ack\0" and switch it off.
        reply = self.server.banner().encode()
        self.send(Packet(A_CNXN, VERSION, MAX_PAYLOAD, reply))
        log.info(
            "adb connection %d (%s) online: maxdata=%d delayed_ack=%s",
            self.id,
            self.peer,
            self.max_payload,
            self.delayed_ack,
        )

    def _on_open(self, p: Packet) -> None:
        name = p.payload.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        if self.delayed_ack != bool(p.arg1):
            # adbd's rule: with delayed_ack every OPEN carries a window, without it none.
            log.warning(
                "adb connection %d: OPEN %r with arg1=%d but delayed_ack=%s, refused",
                self.id,
                name,
                p.arg1,
                self.delayed_ack,
            )
            self.send(Packet(A_CLSE, 0, p.arg0))
            return
        window = p.arg1 if self.delayed_ack else None
        with self._lock:
            local_id = next(self._ids)
            stream = Stream(self, local_id, p.arg0, name, send_window=window)
            self._streams[local_id] = stream
        handler = self.server.services.resolve(name)
        if handler is None:
            log.warning("adb connection %d: unknown service %r, refused", self.id, name)
            stream.refuse()
            return
        threading.Thread(
            target=self._run_service,
            args=(handler, stream),
            name=f"adb-{self.id}-{local_id}",
            daemon=True,
        ).start()

    def _run_service(self, handler: Callable[[Stream], None], stream: Stream) -> None:
        try:
            handler(stream)
        except StreamClosed:
            log.debug("%r: closed by the host", stream)
        except Exception:
            log.exception("service %r failed", stream.service)
        finally:
            if not stream.accepted:
                stream.refuse()
            else:
                stream.close()

    # -- streams the device opens (adb reverse) ------------------------------
    def open_to_host(self, service: str, timeout: float = 10.0) -> Stream:
        """OPEN a stream towards the host (``tcp:Y`` for reverse); raises ConnectionRefusedError."""
        with self._lock:
            local_id = next(self._ids)
            stream = Stream(self, local_id, 0, service, send_window=0 if self.delayed_ack else None)
            stream.accepted = False
            self._streams[local_id] = stream
        arg1 = RECV_WINDOW if self.delayed_ack else 0
        self.send(Packet(A_OPEN, local_id, arg1, service.encode() + b"\0"))
        if not stream.wait_open(timeout):
            self.forget(stream)
            raise ConnectionRefusedError(f"host refused {service!r}")
        return stream
