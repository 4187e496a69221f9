"""Relay one guest connection to a host loopback port (QEMU ``guestfwd=...-cmd:``).

QEMU runs this once per connection the guest opens to a forwarded service,
with that connection on stdin/stdout; it only ever dials 127.0.0.1.
Standalone on purpose: it runs under the venv's Python without the package.
"""

from __future__ import annotations

import selectors
import socket
import sys


def main() -> int:
    port = int(sys.argv[1])
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
