"""``shell:``, ``shell,v2,…:``, ``exec:`` and ``abb``/``abb_exec``: commands on the phone's shell.

``shell:`` (v1) and ``exec:`` are raw byte streams, stdout and stderr merged,
no exit code. ``shell,v2`` frames everything as ``[id u8][len u32][data]``
packets (0 stdin, 1 stdout, 2 stderr, 3 exit, 4 close-stdin, 5 window size)
so the host learns the exit status. An empty command is an interactive shell
that reads command lines from stdin.
"""

from __future__ import annotations

import logging
import shlex
import struct
from collections.abc import Callable

from emulator.sim.adb.stream import Stream, StreamClosed, StreamReader
from emulator.sim.contracts import PhoneContext

log = logging.getLogger("emulator.sim.adb")

ID_STDIN, ID_STDOUT, ID_STDERR, ID_EXIT, ID_CLOSE_STDIN, ID_WINDOW = range(6)
PACKET_HEAD = struct.Struct("<BI")
# A v2 packet larger than this from the host is malformed (adbd's buffer is smaller).
MAX_V2_PACKET = 1024 * 1024
# `adb shell CMD` closes stdin (close-stdin packet) when its stdin is a pipe or a
# file and sends a window-size packet when it is a terminal, which is never
# closed: then the command runs at once with no stdin. A client that sends
# neither gets its command run after this long.
STDIN_GRACE_S = 1.0


def parse_shell_service(name: str) -> tuple[set[str], str]:
    """``shell,v2,raw:cmd`` -> ({"v2", "raw"}, "cmd"); ``shell:cmd`` -> (set(), "cmd")."""
    head, _, command = name.partition(":")
    args = set(head.split(",")[1:]) if "," in head else set()
    return args, command


def v2_packet(kind: int, data: bytes) -> bytes:
    return PACKET_HEAD.pack(kind, len(data)) + data


class _Output:
    """Turns ShellRunner writes into stream bytes (v1 raw, v2 framed, pty line endings)."""

    def __init__(self, stream: Stream, v2: bool, pty: bool) -> None:
        self.stream = stream
        self.v2 = v2
        self.pty = pty

    def __call__(self, fd: int, data: bytes) -> None:
        if not data:
            return
        if self.pty:
            fd = 1
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if self.v2:
            self.stream.write(v2_packet(ID_STDERR if fd == 2 else ID_STDOUT, data))
        else:
            self.stream.write(data)


class ShellService:
    """Runs shell-family services against ``ctx.shell``."""

    def __init__(self, ctx: PhoneContext) -> None:
        self.ctx = ctx

    def _run(self, command: str, stdin: bytes, write: Callable[[int, bytes], None]) -> int:
        shell = self.ctx.shell
        if shell is None:
            write(2, b"/system/bin/sh: no shell on this phone\n")
            return 127
        return shell.run(command, stdin, write)

    # -- shell: and shell,v2: -------------------------------------------------
    def shell(self, stream: Stream) -> None:
        args, command = parse_shell_service(stream.service)
        v2 = "v2" in args
        pty = "pty" in args or (not command and "raw" not in args)
        stream.accept()
        out = _Output(stream, v2, pty)
        try:
            if not command:
                status = _Interactive(self, stream, out, v2, pty).run()
            elif v2:
                stdin = self._collect_stdin_v2(stream) if not pty else b""
                status = self._run(command, stdin, out)
            else:
                status = self._run(command, b"", out)
            if v2:
                stream.write(v2_packet(ID_EXIT, bytes([status & 0xFF])))
        except StreamClosed:
            log.debug("%r: host closed the stream while the command ran", stream)

    def _collect_stdin_v2(self, stream: Stream) -> bytes:
        reader = StreamReader(stream)
        data = bytearray()
        buf = bytearray()
        seen_stdin = False
        while True:
            try:
                chunk = reader.read_some(timeout=None if seen_stdin else STDIN_GRACE_S)
            except TimeoutError:
                return bytes(data)
            if not chunk:
                return bytes(data)
            buf += chunk
            while len(buf) >= PACKET_HEAD.size:
                kind, length = PACKET_HEAD.unpack_from(buf)
                if length > MAX_V2_PACKET:
                    log.warning("%r: oversize shell v2 packet (%d bytes), closing", stream, length)
                    raise StreamClosed(stream.service)
                if len(buf) < PACKET_HEAD.size + length:
                    break
                body = bytes(buf[PACKET_HEAD.size : PACKET_HEAD.size + length])
                del buf[: PACKET_HEAD.size + length]
                if kind == ID_STDIN:
                    data += body
                    seen_stdin = True
                elif kind == ID_CLOSE_STDIN:
                    return bytes(data)
                elif kind == ID_WINDOW and not seen_stdin:
                    return bytes(data)  # stdin is a terminal: nothing will close it
                # other ids are ignored, as adbd does

    # -- exec: ----------------------------------------------------------------
    def exec(self, stream: Stream) -> None:
        command = stream.service.partition(":")[2]
        stream.accept()
        try:
            self._run(command, b"", _Output(stream, v2=False, pty=False))
        except StreamClosed:
            log.debug("%r: host closed the stream while the command ran", stream)

    # -- abb_exec: / abb: (``adb install`` and ``cmd`` via the binder bridge) -----------
    def abb(self, stream: Stream) -> None:
        kind, _, rest = stream.service.partition(":")
        args = [a for a in rest.split("\0") if a]
        command = "cmd " + shlex.join(args) if args else "cmd"
        v2 = kind == "abb"
        stream.accept()
        out = _Output(stream, v2=v2, pty=False)
        try:
            status = self._run(command, b"", out)
            if v2:
                stream.write(v2_packet(ID_EXIT, bytes([status & 0xFF])))
        except StreamClosed:
            pass


class _Interactive:
    """An interactive ``sh`` (``adb shell`` with no command).

    Without a pty (``adb shell < script``) stdin is a script: it is read to the
    end and run as one, so variables, ``cd`` and ``$?`` carry from line to
    line. With a pty each line runs as it is typed, with echo and a prompt as
    a terminal shows them; state carries between lines when the shell offers
    ``session()`` (a ShellRunner that keeps its variables), else each line
    starts fresh.
    """

    def __init__(
        self, svc: ShellService, stream: Stream, out: _Output, v2: bool, pty: bool
    ) -> None:
        self.svc = svc
        self.stream = stream
        self.out = out
        self.v2 = v2
        self.pty = pty
        self.status = 0
        device = svc.ctx.props.get("ro.product.device", "generic")
        self.prompt = f"{device}:/ $ ".encode()
        make_session = getattr(svc.ctx.shell, "session", None)
        self.session = make_session() if callable(make_session) else None

    def _chunks(self):
        """Stdin bytes as they arrive, unframed; ends at close-stdin or stream close."""
        reader = StreamReader(self.stream)
        if not self.v2:
            while chunk := reader.read_some():
                yield chunk
            return
        while True:
            head = reader.read_exactly(PACKET_HEAD.size)
            if len(head) < PACKET_HEAD.size:
                return
            kind, length = PACKET_HEAD.unpack(head)
            if length > MAX_V2_PACKET:
                log.warning("%r: oversize shell v2 packet (%d bytes), closing", self.stream, length)
                return
            body = reader.read_exactly(length)
            if kind == ID_STDIN:
                yield body
            elif kind == ID_CLOSE_STDIN:
                return

    def _echo(self, data: bytes) -> None:
        if self.pty and data:
            self.out(1, data)

    def run(self) -> int:
        if not self.pty:
            script = b"".join(self._chunks()).decode("utf-8", "surrogateescape")
            return self.svc._run(script, b"", self.out) if script.strip() else 0
        self.out(1, self.prompt)
        line = bytearray()
        for chunk in self._chunks():
            for byte in chunk:
                if self.pty and byte in (0x7F, 0x08):
                    if line:
                        line.pop()
                        self._echo(b"\b \b")
                    continue
                if byte in (0x0A, 0x0D):
                    self._echo(b"\n")
                    if self._execute(bytes(line)):
                        return self.status
                    line.clear()
                    if self.pty:
                        self.out(1, self.prompt)
                    continue
                if self.pty and byte == 0x04 and not line:  # ^D on an empty line
                    return self.status
                line.append(byte)
                self._echo(bytes([byte]))
        if line.strip():
            self._execute(bytes(line))
        return self.status

    def _execute(self, raw: bytes) -> bool:
        """Run one line; True when it was ``exit``."""
        text = raw.decode("utf-8", "surrogateescape").strip()
        if not text:
            return False
        words = text.split()
        if words[0] == "exit" and len(words) <= 2:
            if len(words) == 2 and words[1].lstrip("-").isdigit():
                self.status = int(words[1]) & 0xFF
            return True
        if self.session is not None:
            self.status = self.session.run(text, b"", self.out)
            return bool(getattr(self.session, "exited", False))  # `exit` inside a line
        else:
            self.status = self.svc._run(text, b"", self.out)
        return False
