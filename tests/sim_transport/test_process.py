"""The phone as a process: spawn, crash, restart on the same state, ``rig phone serve``."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest
from sim_transport_helpers import ADB29, ADB36, AdbHost, free_port

from emulator.errors import BootError
from emulator.sim.phone import Phone, spawn_phone

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_crash_restart_keeps_data_and_adb_reconnects(tmp_path):
    state = tmp_path / "state"
    hosts = [AdbHost(ADB29), AdbHost(ADB36)]
    first = spawn_phone(state, console_token_path=tmp_path / "tok")
    try:
        serial = first.serial
        for host in hosts:
            host.connect(serial)
        src = tmp_path / "photo.bin"
        src.write_bytes(bytes(range(256)) * 4096)
        assert hosts[0]("push", str(src), "/sdcard/DCIM/photo.bin", serial=serial).returncode == 0
        insert = hosts[1](
            "shell",
            "content insert --uri content://sms/inbox --bind address:s:5551 "
            "--bind body:s:'survives a crash'",
            serial=serial,
        )
        assert insert.returncode == 0, insert.stderr
        setprop = hosts[0]("shell", "setprop persist.sys.rig_test 'kept ✓'", serial=serial)
        assert setprop.returncode == 0, setprop.stderr
        time.sleep(1.2)  # the phone writes changed props within half a second
        first.kill()  # SIGKILL: no chance to save anything
        second = spawn_phone(state, adb_port=first.adb_port, console_token_path=tmp_path / "tok")
        try:
            for host in hosts:
                host.wait_online(serial)  # the servers reconnect by themselves
            back = tmp_path / "back.bin"
            pulled = hosts[1]("pull", "/sdcard/DCIM/photo.bin", str(back), serial=serial)
            assert pulled.returncode == 0, pulled.stderr
            assert back.read_bytes() == src.read_bytes()
            rows = hosts[0](
                "shell", "content query --uri content://sms/inbox --projection body", serial=serial
            )
            assert b"body=survives a crash" in rows.stdout
            prop = hosts[1]("shell", "getprop persist.sys.rig_test", serial=serial)
            assert prop.stdout == "kept ✓\n".encode()
        finally:
            assert second.stop() == 0
    finally:
        first.kill()
        for host in hosts:
            host.stop()


def rig(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rig.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def test_rig_phone_serve_prints_serial_and_stops_on_sigterm(tmp_path):
    adb_port, console_port = free_port(), free_port()
    proc = rig(
        "phone",
        "serve",
        "--adb-port",
        str(adb_port),
        "--console-port",
        str(console_port),
        "--state-dir",
        str(tmp_path / "s"),
        "--console-token-file",
        str(tmp_path / "tok"),
        "--size",
        "720x1280",
        "--density",
        "320",
    )
    try:
        assert proc.stdout.readline().strip() == f"127.0.0.1:{adb_port}"
        host = AdbHost(ADB29)
        try:
            host.connect(f"127.0.0.1:{adb_port}")
            size = host("shell", "wm size", serial=f"127.0.0.1:{adb_port}").stdout
            assert size == b"Physical size: 720x1280\n"
        finally:
            host.stop()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert (tmp_path / "s" / "system.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--size", "huge"], "screen size 'huge' is not WIDTHxHEIGHT"),
        (["--density", "5"], "screen density 5 is out of range"),
    ],
)
def test_rig_phone_serve_rejects_bad_input_clearly(tmp_path, args, message):
    proc = rig("phone", "serve", "--adb-port", "0", "--state-dir", str(tmp_path / "s"), *args)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert message in err
    assert "Traceback" not in err


def test_busy_port_is_a_clear_infrastructure_error(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        proc = rig(
            "phone",
            "serve",
            "--adb-port",
            str(port),
            "--console-port",
            "0",
            "--state-dir",
            str(tmp_path / "s"),
            "--console-token-file",
            str(tmp_path / "tok"),
        )
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3
    assert f"adb port {port} is not free" in err
    assert "Traceback" not in err


def test_console_kill_ends_the_process_cleanly(tmp_path):
    token = tmp_path / "tok"
    token.write_text("")
    proc = spawn_phone(tmp_path / "s", console_token_path=token)
    try:
        with socket.create_connection(("127.0.0.1", proc.console_port), timeout=10) as c:
            c.recv(4096)
            c.sendall(b"kill\r\n")
            assert c.recv(4096) == b"OK: killing emulator, bye bye\r\n"
        assert proc.process.wait(20) == 0
    finally:
        proc.kill()


def test_damaged_system_json_is_a_clear_boot_error(tmp_path):
    state = tmp_path / "s"
    state.mkdir()
    (state / "system.json").write_text("{not json")
    with pytest.raises(BootError, match=r"system\.json: not valid JSON"):
        Phone(state, console_token_path=tmp_path / "tok").start()
