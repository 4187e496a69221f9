"""One ADB stream: a byte pipe multiplexed on a transport connection.

Flow control follows the wire rules. Without ``delayed_ack`` only one WRTE is
outstanding per direction: we send the next chunk when the host OKAYs the
last one, and OKAY the host's WRTE once a service has taken its data. With
``delayed_ack`` both sides count bytes against a window instead.

Writes are buffered and coalesced: a service calls :meth:`Stream.write` as
often as it likes and the bytes leave in order, as large WRTEs as the window
allows, the moment the host is ready. That keeps output in execution order
and keeps a command that prints many small lines from costing one round
trip per line.
"""

from __future__ import annotations

import collections
import struct
import threading
from typing import TYPE_CHECKING

from emulator.sim.adb.packets import A_CLSE, A_OKAY, A_WRTE, Packet

if TYPE_CHECKING:
    from emulator.sim.adb.connection import Connection

# A service that produces faster than the host reads blocks beyond this.
OUT_LIMIT = 8 * 1024 * 1024
# The window we grant the host when delayed_ack is active.
RECV_WINDOW = 8 * 1024 * 1024


class StreamClosed(BaseException):
    """The host closed the stream (or the connection went away).

    A BaseException on purpose: like SIGPIPE on a phone, it ends the command
    writing to the closed stream, instead of being caught and logged by every
    ``except Exception`` between the write and the service.
    """


class Stream:
    """Device end of one stream; ``read``/``write``/``close`` are for service threads."""

    def __init__(
        self,
        conn: Connection,
        local_id: int,
        remote_id: int,
        service: str,
        send_window: int | None = None,
    ) -> None:
        self.conn = conn
        self.local_id = local_id
        self.remote_id = remote_id
        self.service = service
        self.delayed = send_window is not None
        self._window = send_window or 0
        self._can_send = True  # the host's OPEN (or OKAY to our OPEN) counts as an ack
        self._cond = threading.Condition()
        self._inbox: collections.deque[bytes] = collections.deque()
        self._out = bytearray()
        self._peer_closed = False
        self._close_sent = False
        self.accepted = False

    # -- called by the connection's reader thread --------------------------
    def on_write(self, data: bytes) -> None:
        with self._cond:
            if self._peer_closed:
                return
            self._inbox.append(data)
            self._cond.notify_all()

    def on_okay(self, payload: bytes) -> None:
        with self._cond:
            if self.delayed:
                if len(payload) >= 4:
                    self._window += struct.unpack_from("<I", payload)[0]
            else:
                self._can_send = True
            self._pump()

    def on_host_accept(self, remote_id: int, payload: bytes) -> None:
        with self._cond:
            self.remote_id = remote_id
            self.accepted = True
            if self.delayed and len(payload) >= 4:
                self._window = struct.unpack_from("<I", payload)[0]
            self._can_send = True
            self._cond.notify_all()

    def wait_open(self, timeout: float) -> bool:
        """For a stream we OPENed: wait for the host's OKAY (True) or CLSE (False)."""
        with self._cond:
            self._cond.wait_for(lambda: self.accepted or self._peer_closed, timeout)
            return self.accepted and not self._peer_closed

    def on_close(self) -> None:
        with self._cond:
            if not self.accepted:  # the host refused a stream we opened
                self._peer_closed = True
                self._close_sent = True
                self._cond.notify_all()
                self.conn.forget(self)
                return
            self._peer_closed = True
            self._out.clear()
            answer = not self._close_sent
            self._close_sent = True
            self._cond.notify_all()
        if answer:
            self.conn.send(Packet(A_CLSE, self.local_id, self.remote_id))
        self.conn.forget(self)

    # -- opening ------------------------------------------------------------
    def accept(self) -> None:
        """Tell the host the service exists (OKAY; with delayed_ack it carries our window)."""
        payload = struct.pack("<I", RECV_WINDOW) if self.delayed else b""
        self.accepted = True
        self.conn.send(Packet(A_OKAY, self.local_id, self.remote_id, payload))

    def refuse(self) -> None:
        """Tell the host there is no such service: CLSE(0, remote), as adbd does."""
        with self._cond:
            self._close_sent = True
            self._peer_closed = True
        self.conn.send(Packet(A_CLSE, 0, self.remote_id))
        self.conn.forget(self)

    # -- used by service threads ---------------------------------------------
    @property
    def closed(self) -> bool:
        return self._peer_closed or self._close_sent

    def read(self, timeout: float | None = None) -> bytes:
        """The next chunk the host wrote; ``b""`` once the stream is closed.

        Raises ``TimeoutError`` when ``timeout`` passes with nothing to read.
        """
        with self._cond:
            waited = (
                self._inbox
                or self.closed
                or self._cond.wait_for(lambda: self._inbox or self.closed, timeout)
            )
            if not waited:
                raise TimeoutError
            if not self._inbox:
                return b""
            data = self._inbox.popleft()
            if self.closed:
                return data
        payload = struct.pack("<I", len(data)) if self.delayed else b""
        self.conn.send(Packet(A_OKAY, self.local_id, self.remote_id, payload))
        return data

    def write(self, data: bytes) -> None:
        """Queue bytes for the host; blocks only while too much is queued."""
        if not data:
            return
        with self._cond:
            self._cond.wait_for(lambda: len(self._out) < OUT_LIMIT or self.closed)
            if self.closed:
                raise StreamClosed(self.service)
            self._out += data
            self._pump()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything written has been handed to the host."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._out or self.closed, timeout)

    def close(self) -> None:
        """Send what is queued, then CLSE. Safe to call twice."""
        self.flush(timeout=60)
        with self._cond:
            if self._close_sent:
                return
            self._close_sent = True
            self._cond.notify_all()
        self.conn.send(Packet(A_CLSE, self.local_id, self.remote_id))
        self.conn.forget(self)

    def abort(self) -> None:
        """Close at once, dropping queued output (the connection is going away)."""
        with self._cond:
            self._peer_closed = True
            self._close_sent = True
            self._out.clear()
            self._cond.notify_all()

    def _pump(self) -> None:
        # Called with the condition held: send as much as flow control allows.
        while self._out and not self._close_sent and not self._peer_closed:
            if self.delayed:
                if self._window <= 0:
                    break
                n = min(len(self._out), self.conn.max_payload, self._window)
                self._window -= n
            else:
                if not self._can_send:
                    break
                n = min(len(self._out), self.conn.max_payload)
                self._can_send = False
            chunk = bytes(self._out[:n])
            del self._out[:n]
            self.conn.send(Packet(A_WRTE, self.local_id, self.remote_id, chunk))
        self._cond.notify_all()

    def __repr__(self) -> str:
        return f"<Stream {self.local_id}->{self.remote_id} {self.service!r}>"


class StreamReader:
    """Exact-size reads over a stream, for framed protocols (sync, shell v2)."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self._buf = bytearray()

    def read_exactly(self, n: int) -> bytes:
        """``n`` bytes, or fewer if the stream closed first."""
        while len(self._buf) < n:
            chunk = self.stream.read()
            if not chunk:
                break
            self._buf += chunk
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def read_some(self, timeout: float | None = None) -> bytes:
        """Whatever is buffered, else the next chunk (``b""`` at EOF)."""
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            return data
        return self.stream.read(timeout)
