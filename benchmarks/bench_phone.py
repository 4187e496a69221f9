"""How fast the virtual phone answers, and how much of that is the phone itself.

Prints one table from one run: shell round trips straight to the transport
(no adb server) with a do-nothing shell and with the phone's real shell, then
through real adb servers (raw smart socket) and adbutils; ``screencap -p`` at
1080x2400; push/pull throughput. "phone adds" is the real-shell round trip
minus the do-nothing one on the same wire, i.e. the phone's own cost.

    .venv/bin/python benchmarks/bench_phone.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import adbutils
from _common import median_ms

from emulator.sim.adb import AdbServer
from emulator.sim.adb.packets import A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_WRTE, Packet, read_packet
from emulator.sim.contracts import Display, PhoneContext
from emulator.sim.phone import Phone
from emulator.sim.vfs import LocalFS
from hostproc.ports import free_port

ADB29 = shutil.which("adb") or "/usr/bin/adb"
ADB36 = str(Path(adbutils.__file__).parent / "binaries" / "adb")


class EchoOnly:
    """A shell that does nothing but answer: the transport's cost alone."""

    def run(self, command: str, stdin: bytes, write) -> int:
        write(1, b"hi\n")
        return 0


class WireClient:
    """The host side of the transport, no adb server in between."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(Packet(A_CNXN, 0x01000001, 1 << 20, b"host::features=shell_v2").encode())
        assert self._recv().command == A_CNXN
        self.next_id = 1

    def _exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                break
            buf += chunk
        return buf

    def _recv(self) -> Packet:
        return read_packet(self._exact)

    def shell(self, command: str) -> bytes:
        local = self.next_id
        self.next_id += 1
        self.sock.sendall(Packet(A_OPEN, local, 0, f"shell:{command}\0".encode()).encode())
        out = b""
        while True:
            p = self._recv()
            if p.command == A_WRTE:
                out += p.payload
                self.sock.sendall(Packet(A_OKAY, local, p.arg0).encode())
            elif p.command == A_CLSE:
                self.sock.sendall(Packet(A_CLSE, local, p.arg0).encode())
                return out


def smart_socket(port: int, serial: str, service: str) -> bytes:
    """``host:transport:SERIAL`` then ``service`` on an adb server; returns all output."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for req in (f"host:transport:{serial}", service):
            s.sendall(f"{len(req):04x}{req}".encode())
            status = s.recv(4)
            assert status == b"OKAY", status
        chunks = []
        while chunk := s.recv(1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)


def adb_server(binary: str) -> int:
    port = free_port()
    subprocess.run([binary, "-P", str(port), "start-server"], check=True, capture_output=True)
    return port


def adb_connect(binary: str, port: int, serial: str) -> None:
    for _ in range(50):
        subprocess.run([binary, "-P", str(port), "connect", serial], capture_output=True)
        state = subprocess.run(
            [binary, "-P", str(port), "-s", serial, "get-state"], capture_output=True, text=True
        ).stdout.strip()
        if state == "device":
            return
        time.sleep(0.1)
    raise RuntimeError(f"{serial} never came online on adb {binary}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--mb", type=int, default=32, help="push/pull file size")
    args = parser.parse_args()
    n = args.rounds
    rows: list[tuple[str, str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-phone-"))
    servers: list[tuple[str, int]] = []
    try:
        # 1. the transport alone, with a shell that does nothing
        ctx = PhoneContext(tmp / "bare", "", Display(), LocalFS(tmp / "bare" / "fs"), None, None)
        ctx.shell = EchoOnly()
        bare = AdbServer(ctx)
        bare.start()
        wire = WireClient(bare.port)
        t_bare = median_ms(lambda: wire.shell("echo hi"), n)
        bare.stop()

        phone = Phone(tmp / "phone", console_token_path=tmp / "tok").start()
        try:
            sink = []
            t_inproc = median_ms(
                lambda: phone.ctx.shell.run("echo hi", b"", lambda fd, d: sink.append(d)), n
            )
            wire = WireClient(phone.adb_port)
            assert wire.shell("echo hi") == b"hi\n"
            t_wire = median_ms(lambda: wire.shell("echo hi"), n)
            rows.append(("shell echo, in-process Shell.run (no transport)", f"{t_inproc:.3f} ms"))
            rows.append(("shell echo, raw wire, do-nothing shell", f"{t_bare:.3f} ms"))
            rows.append(("shell echo, raw wire, real phone", f"{t_wire:.3f} ms"))
            rows.append(("  => phone adds over the transport", f"{t_wire - t_bare:.3f} ms"))

            for label, binary in (("adb 29", ADB29), ("adb 36", ADB36)):
                port = adb_server(binary)
                servers.append((binary, port))
                adb_connect(binary, port, phone.serial)
                t = median_ms(lambda p=port: smart_socket(p, phone.serial, "shell:echo hi"), n)
                rows.append((f"shell echo, raw smart socket via {label}", f"{t:.3f} ms"))

            port29 = servers[0][1]
            client = adbutils.AdbClient(host="127.0.0.1", port=port29)
            dev = client.device(phone.serial)
            t = median_ms(lambda: dev.shell("echo hi"), max(20, n // 5))
            rows.append(("shell echo, adbutils d.shell via adb 29", f"{t:.3f} ms"))

            # screencap at the phone's 1080x2400
            ui = phone.ctx.ui
            png = smart_socket(port29, phone.serial, "exec:screencap -p")
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            t_warm = median_ms(lambda: smart_socket(port29, phone.serial, "exec:screencap -p"), 20)
            apps = ["com.android.settings", "com.google.android.apps.nexuslauncher"]
            state = {"i": 0}

            def cold() -> None:
                state["i"] += 1
                ui.start(apps[state["i"] % 2])
                smart_socket(port29, phone.serial, "exec:screencap -p")

            t_cold = median_ms(cold, 10, warmup=1)
            size = f"{phone.ctx.display.width}x{phone.ctx.display.height}"
            rows.append((f"screencap -p {size}, screen unchanged", f"{t_warm:.1f} ms"))
            rows.append((f"screencap -p {size}, after a screen change", f"{t_cold:.1f} ms"))
            t_shot = median_ms(dev.screenshot, 10, warmup=1)
            rows.append(("adbutils d.screenshot() (PNG decode included)", f"{t_shot:.1f} ms"))
            t_fb = median_ms(dev.framebuffer, 10, warmup=1)
            rows.append(("adbutils d.framebuffer() (raw RGBA, no PNG)", f"{t_fb:.1f} ms"))

            # push / pull
            blob = tmp / "blob.bin"
            blob.write_bytes(os.urandom(args.mb * 1024 * 1024))
            for label, binary, port in (("adb 29", *servers[0]), ("adb 36", *servers[1])):
                base = [binary, "-P", str(port), "-s", phone.serial]
                t0 = time.perf_counter()
                subprocess.run(
                    [*base, "push", str(blob), "/sdcard/blob.bin"], check=True, capture_output=True
                )
                push = args.mb / (time.perf_counter() - t0)
                t0 = time.perf_counter()
                subprocess.run(
                    [*base, "pull", "/sdcard/blob.bin", str(tmp / "back.bin")],
                    check=True,
                    capture_output=True,
                )
                pull = args.mb / (time.perf_counter() - t0)
                rows.append((f"push {args.mb} MB, {label} CLI", f"{push:.0f} MB/s"))
                rows.append((f"pull {args.mb} MB, {label} CLI", f"{pull:.0f} MB/s"))
            t0 = time.perf_counter()
            dev.sync.push(str(blob), "/sdcard/blob2.bin")
            rows.append(
                (
                    f"push {args.mb} MB, adbutils sync",
                    f"{args.mb / (time.perf_counter() - t0):.0f} MB/s",
                )
            )
            t0 = time.perf_counter()
            dev.sync.pull("/sdcard/blob2.bin", str(tmp / "back2.bin"))
            rows.append(
                (
                    f"pull {args.mb} MB, adbutils sync",
                    f"{args.mb / (time.perf_counter() - t0):.0f} MB/s",
                )
            )
        finally:
            phone.stop()
    finally:
        for binary, port in servers:
            subprocess.run([binary, "-P", str(port), "kill-server"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)

    width = max(len(r[0]) for r in rows)
    print(f"{'measure (median of ' + str(n) + ' shell rounds)':<{width}}  result")
    print("-" * (width + 14))
    for label, value in rows:
        print(f"{label:<{width}}  {value:>10}")


if __name__ == "__main__":
    main()
