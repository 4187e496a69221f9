"""The VM's serial console, driven with pexpect: log in, run a command, read its output.

For debugging and for machines whose SSH is broken. QEMU serves ``ttyS0`` on
a Unix socket; the console log keeps everything the guest printed. The prompt
is set to ``S''ER#`` so the echo of the command that sets it cannot match the
prompt pattern; bracketed paste is turned off and pexpect's 50 ms send delay
removed, which otherwise dominates every round trip.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import socket
from pathlib import Path

import pexpect
import pexpect.fdpexpect

from linux_vm.errors import DeviceLost, VMError

PROMPT = "SER# "


class SerialConsole:
    """A logged-in root shell on the serial console."""

    def __init__(self, socket_path: Path, timeout: float = 30.0) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.connect(str(socket_path))
        except OSError as exc:
            raise DeviceLost(f"serial console {socket_path} unavailable: {exc}") from exc
        self.child = pexpect.fdpexpect.fdspawn(self._sock.fileno(), timeout=timeout)
        self.child.delaybeforesend = None
        self.logged_in = False

    def login(self, user: str, password: str, timeout: float = 30.0) -> None:
        """Answer ``login:`` and ``Password:``, then make the shell easy to drive."""
        c = self.child
        try:
            c.send(b"\r")
            for _ in range(3):
                i = c.expect([rb"login: ", rb"[#$] ", pexpect.TIMEOUT], timeout=timeout / 3)
                if i == 0:
                    break
                # Not at a login prompt (a previous session left a shell open): leave it.
                c.send(b"exit\r")
            else:
                raise VMError("serial console: no login prompt")
            c.send(user.encode() + b"\r")
            c.expect(rb"Password: ", timeout=timeout)
            c.send(password.encode() + b"\r")
            i = c.expect([rb"[#$] ", rb"Login incorrect"], timeout=timeout)
            if i == 1:
                raise VMError(f"serial console: login as {user!r} was refused")
            c.send(
                b"bind 'set enable-bracketed-paste off' 2>/dev/null; stty -echo; "
                b"PS1='S''ER# '; export TERM=dumb\r"
            )
            c.expect_exact(PROMPT.encode(), timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF, OSError) as exc:
            raise DeviceLost(f"serial console login failed: {type(exc).__name__}") from exc
        self.logged_in = True

    def run(self, command: str, timeout: float = 30.0) -> tuple[str, int]:
        """Run one command; returns its output (``\\r\\n`` made ``\\n``) and exit status."""
        if not self.logged_in:
            raise VMError("serial console: log in first")
        tag = "RC" + secrets.token_hex(4)
        c = self.child
        try:
            c.send(command.encode() + f"\rprintf '\\n%s=%s\\n' {tag} $?\r".encode())
            c.expect(re.compile(rb"\r?\n" + tag.encode() + rb"=(\d+)\r?\n"), timeout=timeout)
            output = c.before.decode("utf-8", errors="replace")
            code = int(c.match.group(1))
            c.expect_exact(PROMPT.encode(), timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF, OSError) as exc:
            raise DeviceLost(f"serial console: `{command}` got no answer") from exc
        output = output.replace("\r\n", "\n")
        # The prompt printed before our status line is part of what came back.
        output = output.replace(PROMPT, "")
        return output, code

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.logged_in:
                self.child.send(b"exit\r")
        with contextlib.suppress(OSError):
            self._sock.close()
