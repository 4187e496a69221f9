"""A long-lived root Python in the guest that runs the rig's small programs.

Seeding and readers are short Python programs run as root. Starting
``sudo python3`` for each costs about a second under TCG; this keeps one
running and feeds it programs, so a read-back costs milliseconds. The rig's
image starts it at boot on the guest's loopback (reached through an SSH
``direct-tcpip`` channel, after a token only root can read), so a VM restored
from a snapshot has it running and warm; on other hosts it is started on an
SSH session with ``sudo``. Frames: 8-byte big-endian length + JSON.
"""

from __future__ import annotations

import base64
import contextlib
import json
import select
import shlex
import struct
import threading
import time

import paramiko

from linux_vm.errors import DeviceLost
from linux_vm.guest import source
from linux_vm.ssh import CommandResult, SshSession

# The guest side is linux_vm/guest/helper_server.py (written into the image).
SERVER_SOURCE = source("helper_server")
HELPER_PORT = 7171
HELPER_PATH = "/usr/local/lib/clawrig/helper.py"
TOKEN_PATH = "/etc/clawrig/helper.token"


class GuestPython:
    """Runs programs in one persistent root ``python3``: the resident one when ``token``
    is given and it answers, else one started with ``sudo -n`` on an SSH session."""

    def __init__(self, session: SshSession, token: str | None = None) -> None:
        self.session = session
        self.token = token
        self._lock = threading.Lock()
        self._chan = None
        self.resident: bool | None = None  # which one answered, once known

    def open_resident(self) -> bool:
        """Connect to the image's resident helper; False when none answers on this host."""
        if not self.token:
            return False
        try:
            chan = self.session.transport.open_channel(
                "direct-tcpip", ("127.0.0.1", HELPER_PORT), ("127.0.0.1", 0), timeout=10
            )
        except paramiko.ChannelException:
            return False  # nothing listens there (or forwarding is refused)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise self.session.lost("opening the guest helper", exc) from exc
        token = self.token.encode()
        with self.session._guard("opening the guest helper"):
            chan.sendall(struct.pack(">Q", len(token)) + token)
        self._chan = chan
        return True

    def _open(self) -> None:
        self.session.revive("opening the guest helper")
        if self.resident is not False:
            self.resident = self.open_resident()
            if self.resident:
                return
        boot = (
            "import base64;"
            f"exec(base64.b64decode('{base64.b64encode(SERVER_SOURCE.encode()).decode()}'))"
        )
        sudo = "" if self.session.user == "root" else "sudo -n "
        with self.session._guard("starting the guest helper"):
            chan = self.session.transport.open_session(timeout=10)
            chan.exec_command(f"{sudo}python3 -u -c {shlex.quote(boot)}")
        self._chan = chan

    def run(self, program: str, stdin: bytes = b"", timeout: float = 120.0) -> CommandResult:
        with self._lock:
            if self._chan is None or self._chan.closed:
                self._open()
            chan = self._chan
            assert chan is not None
            started = time.monotonic()
            req = json.dumps({"program": program, "input": base64.b64encode(stdin).decode()})
            blob = req.encode()
            try:
                with self.session._guard("a guest helper program"):
                    chan.sendall(struct.pack(">Q", len(blob)) + blob)
                    head = self._recv(chan, 8, started + timeout)
                    body = self._recv(chan, struct.unpack(">Q", head)[0], started + timeout)
            except BaseException:
                self.close()
                # A resident helper still busy with a stuck program would hold every later
                # one back: later programs get a helper of their own.
                if self.resident:
                    self.resident = False
                raise
            reply = json.loads(body)
            return CommandResult(
                reply["stdout"].encode(),
                reply["stderr"].encode(),
                int(reply["code"]),
                seconds=time.monotonic() - started,
            )

    def _recv(self, chan, n: int, deadline: float) -> bytes:
        buf = b""
        polled = [time.monotonic()]
        while len(buf) < n:
            if time.monotonic() > deadline:
                raise self.session.lost("a guest helper program (no answer before its deadline)")
            # A guest that shut itself down (held paused) never answers: say so at once,
            # as a command's wait does, instead of at the program's deadline.
            if self.session.ended_itself(polled):
                raise self.session.lost("a guest helper program")
            if chan.recv_ready():
                buf += chan.recv(n - len(buf))
                continue
            if chan.closed or chan.eof_received or chan.exit_status_ready():
                err = b""
                while chan.recv_stderr_ready():
                    err += chan.recv_stderr(65536)
                if not self.session.alive():
                    raise self.session.lost("a guest helper program")
                raise DeviceLost(f"the guest helper exited: {err.decode(errors='replace')[-500:]}")
            select.select([chan], [], [], 0.2)
        return buf

    def close(self) -> None:
        if self._chan is not None:
            with contextlib.suppress(Exception):
                self._chan.close()
            self._chan = None
