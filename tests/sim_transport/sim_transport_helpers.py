"""Helpers for the transport tests: private adb servers and a raw host-side wire client.

Every adb server here is private (its own free port) and is killed by port
at the end; the default server on 5037 is never touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

import adbutils

from emulator.sim.adb.packets import (
    A_CLSE,
    A_CNXN,
    A_OKAY,
    A_OPEN,
    A_WRTE,
    Packet,
    read_packet,
)
from hostproc.ports import free_port

ADB29 = shutil.which("adb") or "/usr/bin/adb"
ADB36 = str(Path(adbutils.__file__).parent / "binaries" / "adb")
ADBS = {"adb29": ADB29, "adb36": ADB36}


class AdbHost:
    """A private adb server (one binary, one port) and a runner for its CLI."""

    def __init__(self, binary: str, env: dict[str, str] | None = None) -> None:
        self.binary = binary
        self.port = free_port()
        self.env = {**os.environ, **(env or {})}
        self("start-server", check=True)

    def __call__(
        self,
        *args: str,
        serial: str | None = None,
        input: bytes | None = None,
        timeout: float = 60,
        check: bool = False,
    ) -> subprocess.CompletedProcess:
        cmd = [self.binary, "-P", str(self.port)]
        if serial:
            cmd += ["-s", serial]
        return subprocess.run(
            [*cmd, *args],
            input=input if input is not None else b"",
            capture_output=True,
            timeout=timeout,
            env=self.env,
            check=check,
        )

    def connect(self, serial: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            out = self("connect", serial)
            state = self("-s", serial, "get-state").stdout.decode().strip()
            if state == "device":
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{serial} not online: {out.stdout!r} {state!r}")
            time.sleep(0.2)

    def wait_online(self, serial: str, timeout: float = 40) -> None:
        """Wait for the server to bring ``serial`` back by itself (no ``adb connect``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self("-s", serial, "get-state").stdout.decode().strip() == "device":
                return
            time.sleep(0.25)
        raise AssertionError(f"{serial} did not come back within {timeout}s")

    def client(self) -> adbutils.AdbClient:
        return adbutils.AdbClient(host="127.0.0.1", port=self.port)

    def stop(self) -> None:
        self("kill-server", timeout=20)


# -- a tiny host side of the transport, for wire-level tests -------------------------
class Wire:
    """Speaks the host side of the ADB transport over a raw socket, one packet at a time."""

    def __init__(self, port: int, features: str = "shell_v2,cmd,stat_v2,ls_v2") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.features = features
        self.ids = iter(range(100, 10_000))

    def close(self) -> None:
        self.sock.close()

    def send(self, command: int, arg0: int, arg1: int, payload: bytes = b"") -> None:
        self.sock.sendall(Packet(command, arg0, arg1, payload).encode())

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _recv_exactly(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                break
            buf += chunk
        return buf

    def recv(self, timeout: float = 10) -> Packet | None:
        self.sock.settimeout(timeout)
        return read_packet(self._recv_exactly)

    def handshake(self, maxdata: int = 1024 * 1024) -> Packet:
        banner = f"host::features={self.features}".encode()
        self.send(A_CNXN, 0x01000001, maxdata, banner)
        reply = self.recv()
        assert reply is not None and reply.command == A_CNXN
        return reply

    def open(self, service: str, window: int = 0) -> tuple[int, int] | None:
        """(local, remote) ids when accepted; None when the device closes it."""
        local = next(self.ids)
        self.send(A_OPEN, local, window, service.encode() + b"\0")
        reply = self.recv()
        assert reply is not None
        if reply.command == A_CLSE:
            assert reply.arg1 == local
            return None
        assert reply.command == A_OKAY, reply
        assert reply.arg1 == local
        return local, reply.arg0

    def read_all(self, ids: tuple[int, int], ack: bool = True, timeout: float = 10) -> bytes:
        """Collect WRTE payloads (OKAYing each) until the device's CLSE."""
        local, remote = ids
        data = b""
        while True:
            p = self.recv(timeout)
            assert p is not None, "connection closed"
            if p.command == A_WRTE and p.arg1 == local:
                data += p.payload
                if ack:
                    self.send(A_OKAY, local, remote)
            elif p.command == A_CLSE and p.arg1 == local:
                self.send(A_CLSE, local, remote)
                return data

    def write(self, ids: tuple[int, int], data: bytes) -> None:
        local, remote = ids
        self.send(A_WRTE, local, remote, data)


def v2(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<BI", kind, len(data)) + data


def parse_v2(data: bytes) -> list[tuple[int, bytes]]:
    out, i = [], 0
    while i < len(data):
        kind, n = struct.unpack_from("<BI", data, i)
        out.append((kind, data[i + 5 : i + 5 + n]))
        i += 5 + n
    return out
