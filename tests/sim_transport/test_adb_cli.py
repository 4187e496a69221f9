"""The real adb CLIs (Debian's 29 and adbutils' 36) against the real phone."""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
import urllib.request

import pexpect
import pytest
from PIL import Image
from sim_transport_helpers import ADB36, AdbHost, free_port

pytestmark = pytest.mark.integration


def test_devices_lists_the_phone_online(adb, phone):
    out = adb("devices", "-l").stdout.decode()
    line = next(row for row in out.splitlines() if row.startswith(phone.serial))
    assert " device " in line
    assert "model:Clawrig_Virtual_Phone" in line


def test_shell_output_and_exit_codes(adb, phone):
    ok = adb("shell", "echo", "hello world", serial=phone.serial)
    assert (ok.returncode, ok.stdout) == (0, b"hello world\n")
    bad = adb("shell", "nosuchcmd", serial=phone.serial)
    assert bad.returncode == 127
    assert bad.stderr == b"/system/bin/sh: nosuchcmd: inaccessible or not found\n"
    assert bad.stdout == b""


def test_shell_reads_piped_stdin(adb, phone):
    out = adb("shell", "cat", serial=phone.serial, input="über\n✓ 中文\n".encode())
    assert out.returncode == 0
    assert out.stdout == "über\n✓ 中文\n".encode()


def test_push_pull_large_file_and_directory(adb, phone, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * 1024 * 1024))
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("alpha")
    (tree / "sub" / "b ü.txt").write_text("beta 🙂")
    tag = os.path.basename(adb.binary) + str(adb.port)
    pushed = adb("push", str(big), f"/sdcard/Download/{tag}.bin", serial=phone.serial)
    assert pushed.returncode == 0, pushed.stderr
    assert phone.ctx.vfs.read_bytes(f"/sdcard/Download/{tag}.bin") == big.read_bytes()
    assert adb("push", str(tree), f"/sdcard/{tag}", serial=phone.serial).returncode == 0
    assert phone.ctx.vfs.read_bytes(f"/sdcard/{tag}/sub/b ü.txt") == "beta 🙂".encode()
    back = tmp_path / "back.bin"
    pulled = adb("pull", f"/sdcard/Download/{tag}.bin", str(back), serial=phone.serial)
    assert pulled.returncode == 0, pulled.stderr
    assert back.read_bytes() == big.read_bytes()
    assert (
        adb("pull", f"/sdcard/{tag}", str(tmp_path / "tree2"), serial=phone.serial).returncode == 0
    )
    assert (tmp_path / "tree2" / "sub" / "b ü.txt").read_text() == "beta 🙂"


def test_pull_of_a_missing_file_reports_it(adb, phone, tmp_path):
    out = adb("pull", "/sdcard/nothing-here.txt", str(tmp_path / "x"), serial=phone.serial)
    assert out.returncode == 1
    # adb 29 prints this error on stdout, adb 36 on stderr
    assert b"'/sdcard/nothing-here.txt': No such file or directory" in out.stdout + out.stderr


def test_exec_out_screencap_is_a_png_of_the_display(adb, phone):
    out = adb("exec-out", "screencap", "-p", serial=phone.serial)
    assert out.returncode == 0
    img = Image.open(io.BytesIO(out.stdout))
    assert img.format == "PNG"
    assert img.size == (phone.ctx.display.width, phone.ctx.display.height)


def test_forward_reaches_the_u2_agent(adb, phone):
    local = free_port()
    assert adb("forward", f"tcp:{local}", "tcp:9008", serial=phone.serial).returncode == 0
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{local}/ping", timeout=10) as resp:
            assert resp.status == 200
            assert resp.read() == b"pong"
    finally:
        adb("forward", "--remove", f"tcp:{local}", serial=phone.serial)


def test_reverse_lets_the_phone_reach_a_host_server(adb, phone):
    srv = socket.create_server(("127.0.0.1", 0))
    host_port = srv.getsockname()[1]
    got: list[bytes] = []

    def serve():
        conn, _ = srv.accept()
        with conn:
            got.append(conn.recv(100))
            conn.sendall(b"host says hi")

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    device_port = 18000 + host_port % 1000
    spec = (f"tcp:{device_port}", f"tcp:{host_port}")
    try:
        assert adb("reverse", *spec, serial=phone.serial).returncode == 0
        listing = adb("reverse", "--list", serial=phone.serial).stdout.decode()
        assert f"tcp:{device_port} tcp:{host_port}" in listing
        sock = phone.ctx.reverse_connect(device_port)
        sock.sendall(b"phone says hi")
        assert sock.recv(100) == b"host says hi"
        sock.close()
        t.join(10)
        assert got == [b"phone says hi"]
    finally:
        adb("reverse", "--remove", spec[0], serial=phone.serial)
        srv.close()


def test_interactive_shell_in_a_terminal(adb, phone):
    term = pexpect.spawn(adb.binary, ["-P", str(adb.port), "-s", phone.serial, "shell"], timeout=15)
    try:
        term.expect_exact("clawrig_sim:/ $ ")
        term.sendline("echo inter; nosuchcmd")
        term.expect_exact("clawrig_sim:/ $ ")
        assert term.before.decode().split("\r\n")[1:3] == [
            "inter",
            "/system/bin/sh: nosuchcmd: inaccessible or not found",
        ]
        term.sendline("cd /sdcard/Download; X=kept")
        term.expect_exact("clawrig_sim:/ $ ")
        term.sendline("pwd; echo $X")  # state carries from line to line
        term.expect_exact("clawrig_sim:/ $ ")
        assert term.before.decode().split("\r\n")[1:3] == ["/sdcard/Download", "kept"]
        term.sendline("true && exit 3")
        term.expect(pexpect.EOF)
    finally:
        term.close()
    assert term.exitstatus == 3


def test_command_from_a_terminal_does_not_wait_for_stdin(adb, phone):
    term = pexpect.spawn(
        adb.binary, ["-P", str(adb.port), "-s", phone.serial, "shell", "echo", "hi"], timeout=15
    )
    term.expect(pexpect.EOF)
    term.close()
    assert term.before == b"hi\r\n"
    assert term.exitstatus == 0


def test_adb36_burst_mode_uses_delayed_ack(phone, tmp_path, caplog):
    host = AdbHost(ADB36, env={"ADB_BURST_MODE": "1"})
    try:
        with caplog.at_level(logging.INFO, "emulator.sim.adb"):
            host.connect(phone.serial)
        assert "delayed_ack=True" in caplog.text
        blob = tmp_path / "burst.bin"
        blob.write_bytes(os.urandom(12 * 1024 * 1024))
        assert host("push", str(blob), "/sdcard/burst.bin", serial=phone.serial).returncode == 0
        back = tmp_path / "back.bin"
        assert host("pull", "/sdcard/burst.bin", str(back), serial=phone.serial).returncode == 0
        assert back.read_bytes() == blob.read_bytes()
        out = host("shell", "cat", serial=phone.serial, input=b"x" * 300_000)
        assert (out.returncode, len(out.stdout)) == (0, 300_000)
        # a stream the phone opens must carry a window too, or adb refuses it
        with socket.create_server(("127.0.0.1", 0)) as srv:
            host("reverse", "tcp:18999", f"tcp:{srv.getsockname()[1]}", serial=phone.serial)
            sock = phone.ctx.reverse_connect(18999)
            conn, _ = srv.accept()
            sock.sendall(b"windowed")
            assert conn.recv(100) == b"windowed"
            conn.close()
            sock.close()
        assert "refused" not in caplog.text  # the host opened every stream with a window
    finally:
        host("reverse", "--remove-all", serial=phone.serial)
        host.stop()


def test_script_piped_into_an_interactive_shell(adb, phone):
    script = b"echo one\nnosuchcmd\necho status=$?\ncd /sdcard\nX=5\necho $X; pwd\n"
    out = adb("shell", serial=phone.serial, input=script)
    assert out.stdout == b"one\nstatus=127\n5\n/sdcard\n"  # state carries between lines
    assert out.stderr == b"/system/bin/sh: nosuchcmd: inaccessible or not found\n"
    assert out.returncode == 0
