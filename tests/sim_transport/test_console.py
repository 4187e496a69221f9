"""The emulator console, spoken over a real socket as telnet would."""

from __future__ import annotations

import socket
import time

import pytest

from emulator.sim.phone import Phone

pytestmark = pytest.mark.integration


class Console:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def read_reply(self) -> str:
        """Everything up to and including the next OK / KO line."""
        while True:
            text = self.buf.decode("utf-8", "replace")
            lines = text.split("\r\n")
            for i, line in enumerate(lines[:-1]):
                if line == "OK" or line.startswith("KO:") or line.startswith("OK:"):
                    consumed = "\r\n".join(lines[: i + 1]) + "\r\n"
                    self.buf = self.buf[len(consumed.encode()) :]
                    return consumed
            chunk = self.sock.recv(65536)
            if not chunk:
                rest, self.buf = self.buf.decode(), b""
                return rest
            self.buf += chunk

    def cmd(self, line: str) -> str:
        self.sock.sendall(line.encode() + b"\r\n")
        return self.read_reply()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def console(phone, token_file):
    c = Console(phone.console_port)
    banner = c.read_reply()
    assert "Authentication required" in banner
    assert f"'{token_file}'" in banner
    assert c.cmd("auth sekrit-token").endswith("OK\r\n")
    yield c
    c.close()


def test_auth_is_required_and_checked(phone, token_file):
    c = Console(phone.console_port)
    c.read_reply()
    assert c.cmd("ping") == "KO: unknown command, try 'help'\r\n"
    assert c.cmd("auth wrong") == f"KO: authentication token does not match {token_file}\r\n"
    assert c.cmd("auth sekrit-token") == (
        "Android Console: type 'help' for a list of commands\r\nOK\r\n"
    )
    assert c.cmd("ping") == "I am alive!\r\nOK\r\n"
    c.close()


def test_missing_token_file_is_created_and_empty_one_disables_auth(tmp_path):
    token = tmp_path / "tok"
    with Phone(tmp_path / "s", console_token_path=token) as p:
        assert len(token.read_text().strip()) >= 12
        token.write_text("")
        c = Console(p.console_port)
        assert c.read_reply() == "Android Console: type 'help' for a list of commands\r\nOK\r\n"
        assert c.cmd("avd name") == "s\r\nOK\r\n"
        c.close()


def test_help_avd_name_and_unknown_commands(console):
    text = console.cmd("help")
    for word in ("sms", "gsm", "geo", "avd", "kill"):
        assert f"\r\n    {word} " in text
    assert text.endswith("OK\r\n")
    assert console.cmd("avd name") == "transport_test\r\nOK\r\n"
    assert console.cmd("frobnicate") == "KO: unknown command, try 'help'\r\n"
    assert console.cmd("sms send notanumber hi") == (
        "KO: bad phone number format, must be [+](0-9)*\r\n"
    )
    assert console.cmd("geo fix abc 1").startswith("KO: argument 'abc' is not a number")


def test_sms_send_lands_in_the_inbox(console, phone):
    body = "Dinner at 8? $5 `tip` 'ok' 中文 🙂"
    assert console.cmd(f"sms send +15551234567 {body}") == "OK\r\n"
    rows = phone.ctx.providers.query("content://sms/inbox", where="address='+15551234567'")
    assert rows and rows[-1]["body"] == body
    assert int(rows[-1]["type"]) == 1


def test_gsm_call_then_cancel_logs_a_missed_call(console, phone):
    assert console.cmd("gsm call 5550001") == "OK\r\n"
    assert console.cmd("gsm list") == "inbound from 5550001 : incoming\r\nOK\r\n"
    assert console.cmd("gsm cancel 5550001") == "OK\r\n"
    rows = phone.ctx.providers.query("content://call_log/calls", where="number='5550001'")
    assert rows and int(rows[-1]["type"]) == 3


def test_geo_fix_is_kept(console, phone):
    assert console.cmd("geo fix -122.084 37.422 5") == "OK\r\n"
    assert phone.location == {"longitude": -122.084, "latitude": 37.422, "altitude": 5.0}


def test_snapshot_save_load_restores_files_clock_and_ui(console, phone):
    vfs, clock, ui = phone.ctx.vfs, phone.ctx.clock, phone.ctx.ui
    vfs.write_bytes("/sdcard/Download/snap.txt", b"before")
    phone.ctx.providers.insert("content://sms/inbox", {"address": "111", "body": "kept"})
    before_ms = clock.now_ms()
    ui_before = ui.state()
    assert console.cmd("avd snapshot save base") == "OK\r\n"

    vfs.write_bytes("/sdcard/Download/snap.txt", b"after")
    vfs.write_bytes("/sdcard/Download/extra.txt", b"new")
    phone.ctx.providers.insert("content://sms/inbox", {"address": "222", "body": "dropped"})
    phone.ctx.clock.set_ms(before_ms + 86_400_000)
    ui.start("com.android.settings")

    listing = console.cmd("avd snapshot list")
    assert "base" in listing and listing.endswith("OK\r\n")
    assert console.cmd("avd snapshot load base") == "OK\r\n"
    assert vfs.read_bytes("/sdcard/Download/snap.txt") == b"before"
    assert not vfs.exists("/sdcard/Download/extra.txt")
    bodies = [r["body"] for r in phone.ctx.providers.query("content://sms/inbox")]
    assert "kept" in bodies and "dropped" not in bodies
    assert phone.ctx.clock.now_ms() == before_ms
    assert phone.ctx.ui.state() == ui_before

    assert console.cmd("avd snapshot load nosuch") == "KO: snapshot 'nosuch' does not exist\r\n"
    assert console.cmd("avd snapshot delete base") == "OK\r\n"
    assert "base" not in console.cmd("avd snapshot list")


def test_kill_stops_the_phone(tmp_path):
    token = tmp_path / "tok"
    token.write_text("")
    p = Phone(tmp_path / "k", console_token_path=token).start()
    c = Console(p.console_port)
    c.read_reply()
    assert c.cmd("kill") == "OK: killing emulator, bye bye\r\n"
    assert p.stopped.wait(10)
    c.close()
    time.sleep(0.1)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", p.adb.port), timeout=2)


def test_endless_line_is_refused_and_the_console_lives_on(phone):
    c = Console(phone.console_port)
    c.read_reply()
    c.sock.sendall(b"x" * 70_000)
    assert c.read_reply() == "KO: line too long\r\n"
    c.close()
    again = Console(phone.console_port)
    assert "Authentication required" in again.read_reply()
    again.close()


def test_snapshot_without_ui_state_loads_the_home_screen(tmp_path):
    token = tmp_path / "tok"
    token.write_text("")
    p = Phone(tmp_path / "fresh", console_token_path=token).start()
    try:
        home = p.ctx.ui.focus()
        p.snapshot_save("clean")
        # A snapshot whose UI state is missing (e.g. saved by an older phone).
        (p.snapshots_dir / "clean" / "ui.json").unlink()
        p.ctx.ui.start("com.android.settings")
        assert p.ctx.ui.focus()[0] == "com.android.settings"
        p.snapshot_load("clean")
        assert p.ctx.ui.focus() == home
    finally:
        p.stop()


def test_a_snapshot_load_forgets_the_memory_of_what_came_after_the_save(tmp_path):
    """A phone loading a snapshot is the phone started from it: no log line, clipboard or
    location of the time since (a suite worker's next trial reads none of its last)."""
    token = tmp_path / "tok"
    token.write_text("")
    p = Phone(tmp_path / "fresh", console_token_path=token).start()
    try:
        p.snapshot_save("clean")
        p.ctx.log.i("Trial1", "the last trial's secret 4711")
        p.ctx.clipboard = "4711"
        p.location = {"latitude": 52.5, "longitude": 13.4}
        p.snapshot_load("clean")
        assert "4711" not in p.ctx.log.dump()
        assert p.ctx.clipboard == "" and p.location is None
    finally:
        p.stop()
