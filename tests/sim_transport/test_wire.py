"""Wire-level tests: a raw socket plays the adb server against the real phone."""

from __future__ import annotations

import logging
import re
import socket
import struct
import threading
import time

import pytest
from sim_transport_helpers import Wire, parse_v2, v2

from emulator.sim.adb.packets import A_CLSE, A_OKAY, A_OPEN, A_WRTE, HEADER

pytestmark = pytest.mark.integration


@pytest.fixture
def wire(phone):
    w = Wire(phone.adb_port)
    w.handshake()
    yield w
    w.close()


def wait_for_log(caplog, message: str, timeout: float = 5) -> None:
    """Service threads log on their own schedule; give them a moment."""
    deadline = time.monotonic() + timeout
    while message not in caplog.text:
        assert time.monotonic() < deadline, f"no log line with {message!r}: {caplog.text!r}"
        time.sleep(0.02)


def run(wire: Wire, service: str) -> bytes:
    ids = wire.open(service)
    assert ids is not None, service
    return wire.read_all(ids)


def test_banner_names_the_device_and_its_features(phone):
    w = Wire(phone.adb_port)
    reply = w.handshake()
    w.close()
    banner = reply.payload.rstrip(b"\0").decode()
    assert banner.startswith("device::")
    assert f"ro.product.model={phone.ctx.props['ro.product.model']}" in banner
    features = banner.split("features=")[1].split(",")
    for feature in ("shell_v2", "stat_v2", "ls_v2", "fixed_push_mkdir", "sendrecv_v2"):
        assert feature in features
    assert reply.arg0 == 0x01000001


def test_unknown_service_is_closed_and_the_connection_lives_on(wire, caplog):
    with caplog.at_level(logging.WARNING, "emulator.sim.adb"):
        assert wire.open("framebuffer-of-doom:") is None
    assert "unknown service 'framebuffer-of-doom:'" in caplog.text
    assert run(wire, "shell:echo still here") == b"still here\n"


def test_shell_v1_merges_output_in_execution_order(wire):
    out = run(wire, "shell:echo first; nosuchcmd; echo last")
    assert out == (b"first\n/system/bin/sh: nosuchcmd: inaccessible or not found\nlast\n")


def test_shell_v2_separates_streams_and_reports_exit_code(wire):
    ids = wire.open("shell,v2,raw:echo out; nosuchcmd")
    wire.write(ids, v2(4))
    packets = parse_v2(wire.read_all(ids))
    stdout = b"".join(d for k, d in packets if k == 1)
    stderr = b"".join(d for k, d in packets if k == 2)
    assert stdout == b"out\n"
    assert stderr == b"/system/bin/sh: nosuchcmd: inaccessible or not found\n"
    assert packets[-1] == (3, bytes([127]))


def test_shell_v2_feeds_stdin_until_close_stdin(wire):
    ids = wire.open("shell,v2,raw:cat")
    wire.write(ids, v2(0, b"line one\n"))
    wire.write(ids, v2(0, "ünïcödé ✓\n".encode()) + v2(4))
    packets = parse_v2(wire.read_all(ids))
    assert b"".join(d for k, d in packets if k == 1) == "line one\nünïcödé ✓\n".encode()
    assert packets[-1] == (3, b"\0")


def test_shell_v2_interactive_without_pty_runs_stdin_as_a_script(wire):
    ids = wire.open("shell,v2,raw:")
    wire.write(ids, v2(0, b"echo one\nX=two\n"))
    wire.write(ids, v2(0, b"echo $X\nexit 5\necho never\n") + v2(4))
    packets = parse_v2(wire.read_all(ids))
    assert b"".join(d for k, d in packets if k == 1) == b"one\ntwo\n"
    assert packets[-1] == (3, bytes([5]))


def test_exec_is_raw(wire):
    assert run(wire, "exec:echo raw bytes") == b"raw bytes\n"


def test_host_close_is_answered_with_close(wire):
    ids = wire.open("shell:")  # interactive: waits for input
    local, remote = ids
    wire.send(A_CLSE, local, remote)
    while True:
        p = wire.recv()
        if p.command == A_CLSE:
            assert p.arg1 == local
            break


def _big_file(phone, size=300_000) -> str:
    phone.ctx.vfs.write_bytes("/data/local/tmp/big.bin", bytes(range(256)) * (size // 256))
    return "/data/local/tmp/big.bin"


def test_one_outstanding_write_and_maxdata(phone):
    w = Wire(phone.adb_port)
    w.handshake(maxdata=4096)
    path = _big_file(phone)
    local, remote = w.open(f"exec:cat {path}")
    first = w.recv()
    assert first.command == A_WRTE and len(first.payload) <= 4096
    with pytest.raises(TimeoutError):
        w.recv(timeout=0.3)  # nothing more until we OKAY
    w.send(A_OKAY, local, remote)
    second = w.recv()
    assert second.command == A_WRTE and len(second.payload) <= 4096
    w.send(A_OKAY, local, remote)
    rest = w.read_all((local, remote))
    assert first.payload + second.payload + rest == bytes(range(256)) * (300_000 // 256)
    w.close()


def test_delayed_ack_respects_the_window(phone):
    w = Wire(phone.adb_port, features="shell_v2,delayed_ack")
    w.handshake()
    path = _big_file(phone)
    local = 77
    w.send(A_OPEN, local, 10_000, f"exec:cat {path}\0".encode())
    okay = w.recv()
    assert okay.command == A_OKAY and len(okay.payload) == 4
    assert struct.unpack("<I", okay.payload)[0] > 0  # our window to send in
    remote = okay.arg0
    got = b""
    while True:
        try:
            p = w.recv(timeout=0.3)
        except TimeoutError:
            break
        assert p.command == A_WRTE
        got += p.payload
    assert len(got) == 10_000  # exactly the window, then it waits
    w.send(A_OKAY, local, remote, struct.pack("<I", 300_000))
    while True:
        p = w.recv()
        if p.command == A_CLSE:
            break
        got += p.payload
    assert got == bytes(range(256)) * (300_000 // 256)
    w.close()


@pytest.mark.parametrize(
    "garbage, message",
    [
        (HEADER.pack(A_WRTE, 1, 1, 0, 0, 0xDEADBEEF), "bad magic"),
        (HEADER.pack(A_WRTE, 1, 1, 64 * 1024 * 1024, 0, A_WRTE ^ 0xFFFFFFFF), "oversize payload"),
    ],
    ids=["bad-magic", "oversize"],
)
def test_malformed_packet_closes_the_connection_not_the_phone(phone, caplog, garbage, message):
    w = Wire(phone.adb_port)
    w.handshake()
    with caplog.at_level(logging.WARNING, "emulator.sim.adb"):
        w.send_raw(garbage)
        assert w.recv() is None  # the device hung up
    w.close()
    assert message in caplog.text
    fresh = Wire(phone.adb_port)
    fresh.handshake()
    assert run(fresh, "shell:echo alive") == b"alive\n"
    fresh.close()


# -- sync -----------------------------------------------------------------------------
def sync_req(ident: bytes, path: str | bytes) -> bytes:
    raw = path.encode() if isinstance(path, str) else path
    return ident + struct.pack("<I", len(raw)) + raw


def sync_exchange(wire: Wire, ids, data: bytes, want: int) -> bytes:
    """Send ``data`` on a sync stream and collect at least ``want`` reply bytes."""
    local, remote = ids
    wire.write(ids, data)
    got = b""
    while len(got) < want:
        p = wire.recv()
        if p.command == A_OKAY:
            continue
        if p.command == A_CLSE:
            break
        assert p.command == A_WRTE
        got += p.payload
        wire.send(A_OKAY, local, remote)
    return got


def fail_text(reply: bytes) -> str:
    assert reply[:4] == b"FAIL", reply
    n = struct.unpack_from("<I", reply, 4)[0]
    return reply[8 : 8 + n].decode()


@pytest.fixture
def sync(wire):
    ids = wire.open("sync:")
    assert ids is not None
    return wire, ids


def test_sync_stat_v1_and_v2(sync, phone):
    wire, ids = sync
    phone.ctx.vfs.write_bytes("/sdcard/Download/s.txt", b"12345")
    reply = sync_exchange(wire, ids, sync_req(b"STAT", "/sdcard/Download/s.txt"), 16)
    ident, mode, size, mtime = struct.unpack("<4sIII", reply)
    assert ident == b"STAT" and size == 5 and mode & 0o170000 == 0o100000 and mtime > 0
    reply = sync_exchange(wire, ids, sync_req(b"STAT", "/sdcard/nope"), 16)
    assert reply == b"STAT" + bytes(12)
    reply = sync_exchange(wire, ids, sync_req(b"STA2", "/sdcard/nope"), 72)
    assert reply[:4] == b"STA2" and struct.unpack_from("<I", reply, 4)[0] == 2  # ENOENT
    reply = sync_exchange(wire, ids, sync_req(b"LST2", "/sdcard/Download/s.txt"), 72)
    assert reply[:4] == b"LST2" and struct.unpack_from("<Q", reply, 40)[0] == 5


def test_sync_list_v1_and_v2(sync, phone):
    wire, ids = sync
    phone.ctx.vfs.mkdir("/sdcard/listme")
    phone.ctx.vfs.write_bytes("/sdcard/listme/a.txt", b"aa")
    wire.write(ids, sync_req(b"LIST", "/sdcard/listme"))
    names, buf = [], b""
    while not buf.endswith(b"DONE" + bytes(16)):
        p = wire.recv()
        buf += p.payload
        wire.send(A_OKAY, *ids)
    i = 0
    while buf[i : i + 4] == b"DENT":
        n = struct.unpack_from("<4sIIII", buf, i)[4]
        names.append(buf[i + 20 : i + 20 + n].decode())
        i += 20 + n
    assert sorted(names) == [".", "..", "a.txt"]
    wire.write(ids, sync_req(b"LIS2", "/sdcard/listme"))
    buf = b""
    while not buf.endswith(b"DONE" + bytes(72)):
        p = wire.recv()
        buf += p.payload
        wire.send(A_OKAY, *ids)
    assert buf.count(b"DNT2") == 3


def test_sync_send_packed_in_one_write_and_split_across_writes(sync, phone):
    wire, ids = sync
    body = "héllo $`\"'%\n🙂 中文".encode()
    msg = (
        sync_req(b"SEND", "/sdcard/Download/packed.txt,33188")
        + b"DATA"
        + struct.pack("<I", len(body))
        + body
        + b"DONE"
        + struct.pack("<I", 1_700_000_000)
    )
    assert sync_exchange(wire, ids, msg, 8) == b"OKAY" + bytes(4)
    assert phone.ctx.vfs.read_bytes("/sdcard/Download/packed.txt") == body
    half = len(msg) // 2
    msg2 = msg.replace(b"packed.txt", b"splits.txt")
    wire.write(ids, msg2[:7])
    assert wire.recv().command == A_OKAY
    wire.write(ids, msg2[7:half])
    assert wire.recv().command == A_OKAY
    assert sync_exchange(wire, ids, msg2[half:], 8) == b"OKAY" + bytes(4)
    assert phone.ctx.vfs.read_bytes("/sdcard/Download/splits.txt") == body
    host = phone.ctx.vfs.host_path("/sdcard/Download/splits.txt")
    assert int(host.stat().st_mtime) == 1_700_000_000


def test_sync_recv_streams_data_then_done(sync, phone):
    wire, ids = sync
    data = bytes(range(256)) * 1000
    phone.ctx.vfs.write_bytes("/sdcard/Download/r.bin", data)
    reply = sync_exchange(wire, ids, sync_req(b"RECV", "/sdcard/Download/r.bin"), len(data) + 40)
    got, i = b"", 0
    while reply[i : i + 4] == b"DATA":
        n = struct.unpack_from("<I", reply, i + 4)[0]
        assert n <= 64 * 1024
        got += reply[i + 8 : i + 8 + n]
        i += 8 + n
    assert reply[i:] == b"DONE" + bytes(4)
    assert got == data


@pytest.mark.parametrize(
    "request_bytes, expected",
    [
        (sync_req(b"RECV", "/sdcard/missing.txt"), "open failed: No such file or directory"),
        (sync_req(b"RECV", "/sdcard/Download"), "read failed: Is a directory"),
        (sync_req(b"SEND", "/sdcard/Download/nocomma"), "missing , in ID_SEND_V1"),
        (sync_req(b"XYZW", "/sdcard"), "unknown command 575a5958"),
        (sync_req(b"STAT", "x" * 1025), "path too long"),
    ],
    ids=["recv-missing", "recv-dir", "send-no-comma", "unknown-command", "path-too-long"],
)
def test_sync_fail_messages_match_adbd(sync, request_bytes, expected):
    wire, ids = sync
    assert fail_text(sync_exchange(wire, ids, request_bytes, 8 + len(expected))) == expected


def test_sync_send_under_a_file_fails_like_adbd(sync, phone):
    wire, ids = sync
    phone.ctx.vfs.write_bytes("/sdcard/Download/plain.txt", b"x")
    msg = (
        sync_req(b"SEND", "/sdcard/Download/plain.txt/child,33188")
        + b"DATA"
        + struct.pack("<I", 2)
        + b"hi"
        + b"DONE"
        + bytes(4)
    )
    reply = sync_exchange(wire, ids, msg, 8)
    assert fail_text(reply + _rest(wire, ids)) == "couldn't create file: Not a directory"


def _rest(wire, ids) -> bytes:
    got = b""
    try:
        while True:
            p = wire.recv(timeout=0.5)
            if p.command == A_WRTE:
                got += p.payload
                wire.send(A_OKAY, *ids)
            elif p.command == A_CLSE:
                return got
    except TimeoutError:
        return got


@pytest.mark.parametrize(
    "partial, message",
    [
        (sync_req(b"STAT", "/sdcard/x")[:11], "truncated sync path"),
        (
            sync_req(b"SEND", "/sdcard/Download/t.bin,33188") + b"DATA" + struct.pack("<I", 100),
            "truncated sync message",
        ),
    ],
    ids=["path", "data"],
)
def test_truncated_sync_message_closes_the_stream(sync, caplog, partial, message, wire):
    w, ids = sync
    with caplog.at_level(logging.WARNING, "emulator.sim.adb"):
        w.write(ids, partial)
        assert w.recv().command == A_OKAY
        w.send(A_CLSE, *ids)  # the host gives up mid-message
        _rest(w, ids)
        wait_for_log(caplog, message)
    assert run(wire, "shell:echo fine") == b"fine\n"


# -- tcp: and reverse: ------------------------------------------------------------------
@pytest.fixture
def echo_server():
    srv = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data.upper())

    threading.Thread(target=serve, daemon=True).start()
    yield srv.getsockname()
    srv.close()


def test_tcp_stream_reaches_the_registered_port(wire, phone, echo_server):
    phone.ctx.tcp_ports[7701] = echo_server
    try:
        ids = wire.open("tcp:7701")
        assert ids is not None
        wire.write(ids, b"hello tcp")
        got = b""
        while got != b"HELLO TCP":
            p = wire.recv()
            if p.command == A_WRTE:
                got += p.payload
                wire.send(A_OKAY, *ids)
        assert wire.open("tcp:7702") is None  # nothing listens there
    finally:
        del phone.ctx.tcp_ports[7701]


def test_reverse_rules_and_device_initiated_open(wire, phone):
    def request(cmd: str) -> bytes:
        return run(wire, f"reverse:{cmd}")

    assert request("forward:tcp:6100;tcp:7100") == b"OKAY"
    assert request("forward:norebind:tcp:6100;tcp:7100").startswith(b"FAIL")
    listing = request("list-forward")
    assert listing[4:].decode() == "(reverse) tcp:6100 tcp:7100\n"
    assert int(listing[:4], 16) == len(listing) - 4

    result: dict = {}

    def device_side():
        sock = phone.ctx.reverse_connect(6100)
        sock.sendall(b"from device")
        result["reply"] = sock.recv(100)
        sock.close()

    t = threading.Thread(target=device_side)
    t.start()
    p = wire.recv()
    assert p.command == A_OPEN and p.payload == b"tcp:7100\0"
    dev_id, host_id = p.arg0, 555
    wire.send(A_OKAY, host_id, dev_id)
    p = wire.recv()
    while p.command != A_WRTE:
        p = wire.recv()
    assert p.payload == b"from device"
    wire.send(A_OKAY, host_id, dev_id)
    wire.send(A_WRTE, host_id, dev_id, b"from host")
    t.join(10)
    assert result["reply"] == b"from host"
    while True:  # the device side closed its socket: the stream ends with CLSE
        p = wire.recv()
        if p.command == A_CLSE and p.arg1 == host_id:
            wire.send(A_CLSE, host_id, dev_id)
            break

    assert request("killforward:tcp:6100") == b"OKAY"
    assert request("killforward:tcp:6100").endswith(b"listener 'tcp:6100' not found")
    with pytest.raises(ConnectionRefusedError):
        phone.ctx.reverse_connect(6100)
    assert request("forward:tcp:0;tcp:7200").startswith(b"OKAY")
    assert request("killforward-all") == b"OKAY"
    assert request("list-forward") == b"0000"


def test_host_close_ends_an_endless_command(wire):
    ids = wire.open("shell:while true; do echo y; done")
    local, remote = ids
    first = wire.recv()
    assert first.command == A_WRTE and first.payload.startswith(b"y\n")
    pattern = re.compile(rf"adb-\d+-{remote}")  # the stream's service thread
    service = [t for t in threading.enumerate() if pattern.fullmatch(t.name)]
    assert service
    wire.send(A_CLSE, local, remote)
    while not ((p := wire.recv()).command == A_CLSE and p.arg1 == local):
        pass  # WRTEs already in flight, then the device's answering CLSE
    deadline = time.monotonic() + 10
    while any(t.is_alive() for t in service):
        assert time.monotonic() < deadline, "the command kept running after the host closed"
        time.sleep(0.05)
    assert run(wire, "shell:echo next") == b"next\n"


def test_open_window_must_match_delayed_ack(phone, caplog):
    plain = Wire(phone.adb_port)
    plain.handshake()
    burst = Wire(phone.adb_port, features="shell_v2,delayed_ack")
    reply = burst.handshake()
    # no NUL after the last feature: adb would read it as part of the feature's name
    assert not reply.payload.endswith(b"\0")
    assert "delayed_ack" in reply.payload.decode().split("features=")[1].split(",")
    with caplog.at_level(logging.WARNING, "emulator.sim.adb"):
        assert plain.open("shell:echo x", window=4096) is None
        assert burst.open("shell:echo x", window=0) is None
    assert "with arg1=4096 but delayed_ack=False, refused" in caplog.text
    assert "with arg1=0 but delayed_ack=True, refused" in caplog.text
    plain.close()
    burst.close()


def test_terminal_stdin_does_not_hold_up_a_command(wire):
    """A window-size packet means stdin is a terminal: run now, do not wait for close-stdin."""
    ids = wire.open("shell,v2,raw:echo now")
    started = time.monotonic()
    wire.write(ids, v2(5, b"24x80,0x0\0"))
    packets = parse_v2(wire.read_all(ids))
    assert time.monotonic() - started < 0.6  # well under the 1 s grace for silent clients
    assert packets == [(1, b"now\n"), (3, b"\0")]


def test_silent_client_gets_its_command_run_after_the_grace(wire):
    ids = wire.open("shell,v2,raw:echo late")
    packets = parse_v2(wire.read_all(ids))
    assert packets == [(1, b"late\n"), (3, b"\0")]
