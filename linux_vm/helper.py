"""A long-lived root Python in the guest that runs the rig's small programs.

Seeding and readers are short Python programs run as root. Starting
``sudo python3`` for each costs about a second under TCG; this keeps one
running on its own SSH channel and feeds it programs, so a read-back costs
milliseconds. Frames on the channel: 8-byte big-endian length + JSON.
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

from linux_vm.errors import DeviceLost
from linux_vm.ssh import CommandResult, SshSession

_SERVER = r"""
import base64, io, json, os, struct, sys, traceback
src, dst = sys.stdin.buffer, sys.stdout.buffer
def read(n):
    buf = b""
    while len(buf) < n:
        chunk = src.read(n - len(buf))
        if not chunk: sys.exit(0)
        buf += chunk
    return buf
while True:
    req = json.loads(read(struct.unpack(">Q", read(8))[0]))
    out, err, code = io.StringIO(), "", 0
    saved = sys.stdin, sys.stdout
    sys.stdin = io.TextIOWrapper(io.BytesIO(base64.b64decode(req["input"])), encoding="utf-8")
    sys.stdout = out
    try:
        exec(compile(req["program"], "<clawrig>", "exec"), {"__name__": "__main__"})
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        err, code = traceback.format_exc(), 1
    finally:
        sys.stdin, sys.stdout = saved
    blob = json.dumps({"stdout": out.getvalue(), "stderr": err, "code": code}).encode()
    dst.write(struct.pack(">Q", len(blob)) + blob); dst.flush()
"""


class GuestPython:
    """Runs programs in one persistent ``python3`` (as root via ``sudo -n`` if needed)."""

    def __init__(self, session: SshSession) -> None:
        self.session = session
        self._lock = threading.Lock()
        self._chan = None

    def _open(self) -> None:
        boot = (
            f"import base64;exec(base64.b64decode('{base64.b64encode(_SERVER.encode()).decode()}'))"
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
        while len(buf) < n:
            if time.monotonic() > deadline:
                raise self.session.lost("a guest helper program (no answer before its deadline)")
            if chan.recv_ready():
                buf += chan.recv(n - len(buf))
                continue
            if chan.closed or chan.exit_status_ready():
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
