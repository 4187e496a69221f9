"""`rig mcp serve --port P` takes a port that only a TIME-WAIT connection remembers
(SO_REUSEADDR, as uvicorn binds it), and still refuses one somebody listens on."""

from __future__ import annotations

import socket

import pytest

from rig.errors import RigError
from rig.mcp_server import _check_port


def _time_wait_port() -> int:
    """A port with a connection in TIME-WAIT on our side and no listener left."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = server.accept()
    conn.close()  # the server side closes first: its end goes to TIME-WAIT
    client.recv(1)
    client.close()
    server.close()
    return port


def _in_time_wait(port: int) -> bool:
    with open("/proc/net/tcp") as fh:
        rows = [line.split() for line in fh.readlines()[1:]]
    return any(int(r[1].split(":")[1], 16) == port and r[3] == "06" for r in rows)


def test_a_time_wait_socket_does_not_hold_the_port() -> None:
    port = _time_wait_port()
    assert _in_time_wait(port)  # the situation the fix is about, really set up
    _check_port(port)  # no error


def test_a_listening_socket_still_holds_the_port() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        with pytest.raises(RigError, match="Address already in use"):
            _check_port(other.getsockname()[1])
