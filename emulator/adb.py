"""The adb server the rig talks through.

Every Android backend goes through one real adb server: the default one on
5037 (or ``ADB_SERVER_SOCKET`` / ``ANDROID_ADB_SERVER_PORT``, as the adb CLI
reads them), or a private one on a port of our own so that parallel test runs
and farms never kill or confuse each other's servers.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import adbutils
from adbutils import AdbClient, AdbDevice, AdbError

from emulator.errors import AdbOffline, AndroidError, DeviceLost
from emulator.smartsocket import SmartSocket
from hostproc.ports import free_port

DEFAULT_PORT = 5037


def find_adb(explicit: str | None = None) -> str:
    """The adb binary: ``explicit`` (config ``android.adb``), else PATH, else adbutils' own."""
    if explicit:
        path = shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
        if path is None:
            raise AndroidError(f"android.adb: {explicit!r} is not an executable adb binary")
        return path
    found = shutil.which("adb")
    if found:
        return found
    try:
        return adbutils.adb_path()
    except Exception as exc:  # the wheel may lack a binary for this platform
        raise AndroidError("no adb binary: install 'adb' or set android.adb in rig.toml") from exc


def port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now (connections in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def server_from_env() -> tuple[str, int]:
    """``(host, port)`` of the adb server the environment names, as the adb CLI resolves it."""
    sock = os.environ.get("ADB_SERVER_SOCKET", "")
    if sock.startswith("tcp:"):
        rest = sock[4:]
        host, _, port = rest.rpartition(":")
        if not port.isdigit():
            raise AndroidError(f"ADB_SERVER_SOCKET={sock!r}: expected tcp:HOST:PORT or tcp:PORT")
        return (host or "127.0.0.1"), int(port)
    if sock:
        raise AndroidError(f"ADB_SERVER_SOCKET={sock!r}: only tcp:HOST:PORT is supported")
    port = os.environ.get("ANDROID_ADB_SERVER_PORT", "")
    return "127.0.0.1", int(port) if port.isdigit() else DEFAULT_PORT


class AdbServer:
    """One adb server: start it, connect network devices to it, hand out adbutils devices.

    ``owned`` servers (started by :meth:`private`) are killed by :meth:`kill`;
    a shared server is never killed by the rig.
    """

    def __init__(
        self,
        adb: str | None = None,
        port: int | None = None,
        host: str | None = None,
        owned: bool = False,
    ) -> None:
        env_host, env_port = server_from_env()
        self.host = host or env_host
        self.port = port or env_port
        self.adb = find_adb(adb)
        self.owned = owned
        self.client = AdbClient(host=self.host, port=self.port, socket_timeout=30)
        self.wire = SmartSocket(self.host, self.port)  # the hot path (emulator/smartsocket.py)
        self._version: int | None = None

    @classmethod
    def private(cls, adb: str | None = None) -> AdbServer:
        """Start a server of our own on a free loopback port."""
        server = cls(adb=adb, port=free_port(), host="127.0.0.1", owned=True)
        server.start()
        return server

    def _run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        cmd = [self.adb, "-P", str(self.port), *args]
        if self.host not in ("127.0.0.1", "localhost"):
            cmd[1:1] = ["-H", self.host]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> None:
        """Start the server if none answers on its port (a remote one must already run)."""
        if self.alive():
            return
        if self.host not in ("127.0.0.1", "localhost"):
            raise AndroidError(f"no adb server answers at {self.host}:{self.port}")
        out = self._run("start-server", timeout=60)
        if out.returncode != 0 or not self.alive():
            raise AndroidError(
                f"adb server on port {self.port} did not start: "
                f"{(out.stderr or out.stdout).strip()}"
            )

    def alive(self) -> bool:
        """Whether a server answers ``host:version`` (a raw probe: adbutils would start one)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=3) as s:
                s.sendall(b"000chost:version")
                return s.recv(4) == b"OKAY"
        except OSError:
            return False

    def version(self) -> int:
        """The server's protocol version, asked once per server (again after :meth:`revive`)."""
        if self._version is None:
            try:
                self._version = self.wire.version()
            except OSError as exc:
                raise AndroidError(f"adb server {self.host}:{self.port}: {exc}") from exc
        return self._version

    def revive(self, serial: str, timeout: float = 15.0) -> None:
        """After a request found no server, or a server that lacks ``serial`` (it was
        restarted): start a local server again and re-connect a network serial.

        A device the server still lists but not as ``device`` (offline, gone) is
        :class:`DeviceLost` at once: waiting for it is the caller's decision.
        """
        self._version = None
        try:
            self.start()
        except AndroidError as exc:
            raise DeviceLost(f"{serial}: {exc}", serial=serial) from exc
        state = self.state(serial)
        if state == "device":
            return
        if state is None and ":" in serial:
            try:
                self.connect(serial, timeout=timeout)
                return
            except AdbOffline as exc:
                raise DeviceLost(str(exc), serial=serial) from exc
        raise DeviceLost(f"{serial}: adb reports {state or 'no such device'}", serial=serial)

    def kill(self) -> None:
        """Stop the server, only if the rig started it."""
        if self.owned and self.alive():
            try:
                self.client.server_kill()
            except (OSError, AdbError):
                self._run("kill-server")

    def serials(self) -> dict[str, str]:
        """``{serial: state}`` of every transport the server knows."""
        try:
            return {d.serial: d.state for d in self.client.list()}
        except (OSError, AdbError) as exc:
            raise AndroidError(f"adb server {self.host}:{self.port}: {exc}") from exc

    def state(self, serial: str) -> str | None:
        """``device``, ``offline``, ``unauthorized`` …; None when the server lacks the serial."""
        return self.serials().get(serial)

    def connect(self, addr: str, timeout: float = 30.0) -> str:
        """``adb connect`` a host:port device, wait until it is ``device``; returns its serial."""
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            try:
                last = self.client.connect(addr, timeout=min(10.0, timeout))
            except (OSError, AdbError) as exc:
                last = str(exc)
            state = self.state(addr)
            if state == "device":
                return addr
            if time.monotonic() > deadline:
                raise AdbOffline(f"adb connect {addr}: {last.strip() or state or 'no answer'}")
            time.sleep(0.2)

    def disconnect(self, addr: str) -> None:
        try:
            self.client.disconnect(addr)
        except (OSError, AdbError):
            pass

    def wait_online(self, serial: str, timeout: float = 30.0) -> None:
        """Wait until ``serial`` is in state ``device``; reconnect host:port serials meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state(serial)
            if state == "device":
                return
            if time.monotonic() > deadline:
                raise AdbOffline(
                    f"{serial}: adb reports {state or 'no such device'}", serial=serial
                )
            if ":" in serial and state in (None, "offline"):
                try:
                    self.client.connect(serial, timeout=5)
                except (OSError, AdbError):
                    pass
            time.sleep(0.2)

    def reconnect(self, serial: str, timeout: float = 30.0) -> None:
        """Drop and re-establish a network device's transport (after ``offline``)."""
        if ":" not in serial:
            self.wait_online(serial, timeout)
            return
        self.disconnect(serial)
        try:
            self.connect(serial, timeout=timeout)
        except AdbOffline as exc:
            raise DeviceLost(str(exc), serial=serial) from exc

    def device(self, serial: str) -> AdbDevice:
        return self.client.device(serial)
