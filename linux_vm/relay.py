"""Relay one guest connection to a host loopback port (QEMU ``guestfwd=...-cmd:``).

QEMU runs this once per connection the guest opens to a forwarded service,
with that connection on stdin/stdout; it only ever dials 127.0.0.1.
``relay.py PORT`` dials a fixed port; ``relay.py --map FILE GUEST_PORT`` looks
the host port up in FILE (JSON, guest port -> host port) when the connection
opens, so a VM started before its world's services reaches them once the file
is written (and a guest port with no entry is closed at once).
Standalone on purpose: it runs under the venv's Python without the package.
"""

from __future__ import annotations

import json
import selectors
import socket
import sys


def host_port(argv: list[str]) -> int | None:
    """The loopback port to dial for this connection, or None when there is none (yet)."""
    if argv[0] != "--map":
        return int(argv[0])
    try:
        with open(argv[1], encoding="utf-8") as f:
            mapping = json.load(f)
    except (OSError, ValueError):
        return None
    port = mapping.get(argv[2])
    return int(port) if isinstance(port, int) else None


def main() -> int:
    port = host_port(sys.argv[1:])
    if port is None:
        return 1
    guest = socket.socket(fileno=0)
    try:
        host = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError:
        return 1
    host.settimeout(None)
    sel = selectors.DefaultSelector()
    sel.register(guest, selectors.EVENT_READ, host)
    sel.register(host, selectors.EVENT_READ, guest)
    open_ends = 2
    while open_ends:
        for key, _ in sel.select():
            src, dst = key.fileobj, key.data
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if data:
                dst.sendall(data)
                continue
            sel.unregister(src)
            open_ends -= 1
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                open_ends = 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
