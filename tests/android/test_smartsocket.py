"""The hot-path adb requests (emulator/smartsocket.py) against both adb servers the rig meets:
the Debian adb 29 and the adb 36 that ships in adbutils' wheel, each a private server
talking to a real virtual phone. Also: one connection per request, the server version
asked once, and a server restart survived."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import adbutils
import pytest

from emulator.adb import AdbServer, find_adb
from emulator.device import AdbAndroidDevice
from emulator.errors import AndroidInputError
from emulator.smartsocket import AdbRefused, AdbUnreachable, SmartSocket, SyncError, frame
from hostproc.ports import free_port

pytestmark = pytest.mark.integration

ADB36 = str(Path(adbutils.__file__).parent / "binaries" / "adb")
BINARIES = {"adb29": find_adb(), "adb36": ADB36}
HOSTILE = "héllo 世界 🎉 $`'\"\\\n%s\t".encode() + bytes(range(256))


@pytest.fixture(scope="module", params=sorted(BINARIES))
def server(request, phone_process) -> Iterator[AdbServer]:
    srv = AdbServer.private(adb=BINARIES[request.param])
    srv.connect(phone_process.serial)
    yield srv
    srv.kill()


@pytest.fixture
def device(server: AdbServer, phone_process) -> AdbAndroidDevice:
    return AdbAndroidDevice(server, phone_process.serial)


def test_one_connection_per_request_and_the_version_once(
    server: AdbServer, device: AdbAndroidDevice
) -> None:
    wire = server.wire
    assert server.version() == server.version() >= 39
    device.features()  # cached per device object
    before = wire.connections
    for _ in range(5):
        assert device.shell("echo hi").stdout == "hi\n"
    assert device.exec_out("echo bin") == b"bin\n"
    assert server.version() >= 39  # cached: no connection
    assert wire.connections - before == 6


def test_shell_exec_and_sync_are_byte_exact(server: AdbServer, device: AdbAndroidDevice) -> None:
    res = device.shell("printf 'a\\nb'; echo err >&2; exit 3")
    assert (res.stdout, res.stderr, res.exit_code) == ("a\nb", "err\n", 3)
    path = "/data/local/tmp/smartsocket.bin"
    device.push(HOSTILE, path, mode=0o600)
    assert device.read_bytes(path) == HOSTILE
    assert device.exec_out(f"cat {path}") == HOSTILE
    mode, size, _ = server.wire.stat(device.serial, path)
    assert size == len(HOSTILE) and mode & 0o100000  # a regular file
    big = bytes(range(256)) * 1200  # several sync DATA chunks
    server.wire.write_file(device.serial, path, big)
    assert server.wire.read_file(device.serial, path) == big
    assert server.wire.stat(device.serial, "/no/such/file") == (0, 0, 0)
    with pytest.raises(SyncError):
        server.wire.read_file(device.serial, "/no/such/file")
    with pytest.raises(AndroidInputError):
        device.read_bytes("/no/such/file")


def test_forward_and_device_http(server: AdbServer, device: AdbAndroidDevice) -> None:
    wire = server.wire
    assert wire.http(device.serial, 9008, "GET", "/ping") == (200, b"pong")
    local = f"tcp:{free_port()}"
    wire.forward(device.serial, local, "tcp:9008")
    try:
        assert (device.serial, local, "tcp:9008") in wire.forward_list()
        with socket.create_connection(("127.0.0.1", int(local[4:])), timeout=10) as s:
            s.sendall(b"GET /ping HTTP/1.0\r\n\r\n")
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
        assert reply.startswith(b"HTTP/1.0 200") and reply.endswith(b"pong")
    finally:
        wire.forward_remove(device.serial, local)
    assert (device.serial, local, "tcp:9008") not in wire.forward_list()
    assert "<hierarchy" in device.ui_tree()


def test_refusals_are_typed(server: AdbServer) -> None:
    with pytest.raises(AdbRefused) as info:
        server.wire.open("127.0.0.1:1", "shell:true")
    assert info.value.device_unknown
    with pytest.raises(AdbUnreachable):
        SmartSocket("127.0.0.1", free_port(), timeout=5).version()


def test_transport_switch_drops_pipelined_bytes(
    server: AdbServer, device: AdbAndroidDevice
) -> None:
    """Why a device request costs two exchanges: a service sent in the same write as
    ``host:transport`` is dropped by the server (so the module never pipelines)."""
    with socket.create_connection((server.host, server.port), timeout=1.5) as s:
        s.sendall(frame(f"host:transport:{device.serial}") + frame("shell:echo hi"))
        reply = b""
        try:
            while chunk := s.recv(4096):
                reply += chunk
        except TimeoutError:
            pass
    assert reply == b"OKAY"


def test_requests_survive_a_server_restart(server: AdbServer, device: AdbAndroidDevice) -> None:
    assert device.shell("echo before").stdout == "before\n"
    device.push(b"kept", "/data/local/tmp/restart.txt")
    version = server.version()
    # Killed and started again by someone else: the new server does not know the phone.
    subprocess.run([server.adb, "-P", str(server.port), "kill-server"], timeout=30, check=False)
    subprocess.run([server.adb, "-P", str(server.port), "start-server"], timeout=60, check=True)
    assert server.state(device.serial) is None
    assert device.shell("echo after").stdout == "after\n"
    # Killed and not restarted: the rig starts it again (a local server, as the adb CLI does).
    subprocess.run([server.adb, "-P", str(server.port), "kill-server"], timeout=30, check=False)
    assert device.read_bytes("/data/local/tmp/restart.txt") == b"kept"
    assert server.version() == version
    assert server.state(device.serial) == "device"
