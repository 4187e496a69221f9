"""The virtual phone's network: the emulator's host alias and nothing else.

A real emulator's guest reaches the host's loopback at ``10.0.2.2``; the
virtual phone does the same inside itself: a connection its apps open to
``10.0.2.2:PORT`` goes to ``127.0.0.1:PORT`` on the host, and every other
address is unreachable (no packet ever goes to a real 10.x address, nor
anywhere else). The apps use the standard library's clients (imaplib, smtplib,
http.client) through the subclasses here, which only change where they dial.
"""

from __future__ import annotations

import errno
import http.client
import imaplib
import smtplib
import socket
from typing import Any

HOST_ALIAS = "10.0.2.2"  # the emulator's name for the host's loopback


def connect(host: str, port: int, timeout: float | None = 10.0) -> socket.socket:
    """A TCP connection from the phone; only the host alias is routed."""
    if host != HOST_ALIAS:
        raise OSError(errno.ENETUNREACH, f"connect to {host}:{port}: Network is unreachable")
    return socket.create_connection(("127.0.0.1", int(port)), timeout=timeout)


class IMAP4(imaplib.IMAP4):
    """``imaplib.IMAP4`` dialling through the phone's network."""

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return connect(self.host, self.port, timeout)


class SMTP(smtplib.SMTP):
    """``smtplib.SMTP`` dialling through the phone's network."""

    def _get_socket(self, host: str, port: int, timeout: Any) -> socket.socket:
        return connect(host, port, timeout)


class HTTPConnection(http.client.HTTPConnection):
    """``http.client.HTTPConnection`` dialling through the phone's network."""

    def connect(self) -> None:
        self.sock = connect(self.host, self.port, self.timeout)
