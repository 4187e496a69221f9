"""``sync:``: the file-transfer protocol behind ``adb push/pull/ls`` and adbutils' sync.

The session is a byte stream of requests ``id[4] + u32 len + path``; replies
and FAIL messages follow adbd's ``file_sync_service`` so host tools print the
same errors they would against a phone. Files live in the phone's own
filesystem (``ctx.vfs``), so a pushed file is what the shell and apps see.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import struct

from emulator.sim.adb.stream import Stream, StreamClosed, StreamReader
from emulator.sim.contracts import PhoneContext

log = logging.getLogger("emulator.sim.adb")

SYNC_DATA_MAX = 64 * 1024
MAX_PATH = 1024

REQ = struct.Struct("<4sI")
STAT_V1 = struct.Struct("<4sIII")
STAT_V2 = struct.Struct("<4sIQQIIIIQqqq")
DENT_V1 = struct.Struct("<4sIIII")
DENT_V2 = struct.Struct("<4sIQQIIIIQqqqI")
SEND_V2_SETUP = struct.Struct("<4sII")
RECV_V2_SETUP = struct.Struct("<4sI")


def _stat_v2_fields(st: os.stat_result) -> tuple[int, ...]:
    """What ``STA2``/``LST2`` and ``DNT2`` both carry after the error code, in wire order."""
    return (
        st.st_dev,
        st.st_ino,
        st.st_mode,
        st.st_nlink,
        st.st_uid,
        st.st_gid,
        st.st_size,
        int(st.st_atime),
        int(st.st_mtime),
        int(st.st_ctime),
    )


class _Abort(Exception):
    """End the sync session (adbd returns false from its handler)."""


def strtoul0(text: str) -> tuple[int, bool]:
    """C ``strtoul(text, NULL, 0)``: (value, overflowed). Parses the longest valid prefix."""
    s = text.strip()
    sign = 1
    if s[:1] in "+-" and s:
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s[:2].lower() == "0x":
        base, digits = 16, s[2:]
        valid = "0123456789abcdefABCDEF"
    elif s.startswith("0"):
        base, digits, valid = 8, s[1:], "01234567"
    else:
        base, digits, valid = 10, s, "0123456789"
    n = 0
    for ch in digits:
        if ch not in valid:
            break
        n = n * base + int(ch, 16)
    if n > 0xFFFFFFFFFFFFFFFF:
        return 0xFFFFFFFFFFFFFFFF, True
    return (n * sign) & 0xFFFFFFFFFFFFFFFF, False


class SyncSession:
    def __init__(self, ctx: PhoneContext, stream: Stream) -> None:
        self.ctx = ctx
        self.stream = stream
        self.reader = StreamReader(stream)

    # -- plumbing ---------------------------------------------------------
    def host(self, path: str) -> str:
        """Host path for a device path; a path the vfs refuses behaves as unreadable."""
        try:
            return str(self.ctx.vfs.host_path(path))
        except OSError as exc:
            code = exc.errno or errno.EACCES
            raise OSError(code, os.strerror(code)) from exc

    def send(self, data: bytes) -> None:
        self.stream.write(data)

    def fail(self, reason: str) -> None:
        msg = reason.encode("utf-8", "surrogateescape")
        self.send(REQ.pack(b"FAIL", len(msg)) + msg)

    def fail_errno(self, reason: str, err: int) -> None:
        self.fail(f"{reason}: {os.strerror(err)}")

    def read_exactly(self, n: int, what: str) -> bytes:
        data = self.reader.read_exactly(n)
        if len(data) != n:
            raise _Truncated(what, len(data), n)
        return data

    # -- the loop ----------------------------------------------------------
    def serve(self) -> None:
        try:
            while self.handle_one():
                pass
        except _Truncated as exc:
            log.warning("%r: truncated sync message (%s), closing", self.stream, exc)
        except _Abort:
            pass
        except StreamClosed:
            pass

    def handle_one(self) -> bool:
        head = self.reader.read_exactly(REQ.size)
        if not head:
            return False
        if len(head) < REQ.size:
            log.warning("%r: truncated sync request (%d bytes), closing", self.stream, len(head))
            self.fail("command read failure")
            return False
        ident, length = REQ.unpack(head)
        if length > MAX_PATH:
            log.warning("%r: sync path of %d bytes, closing", self.stream, length)
            self.fail("path too long")
            return False
        raw = self.reader.read_exactly(length)
        if len(raw) < length:
            log.warning("%r: truncated sync path, closing", self.stream)
            self.fail("filename read failure")
            return False
        name = raw.decode("utf-8", "surrogateescape")
        handler = {
            b"STAT": self.do_stat_v1,
            b"STA2": self.do_stat_v2,
            b"LST2": self.do_stat_v2,
            b"LIST": self.do_list_v1,
            b"LIS2": self.do_list_v2,
            b"SEND": self.do_send_v1,
            b"SND2": self.do_send_v2,
            b"RECV": self.do_recv_v1,
            b"RCV2": self.do_recv_v2,
        }.get(ident)
        if ident == b"QUIT":
            return False
        if handler is None:
            value = struct.unpack("<I", ident)[0]
            log.warning("%r: unknown sync command %r, closing", self.stream, ident)
            self.fail(f"unknown command {value:08x}")
            return False
        if ident in (b"STA2", b"LST2"):
            return self.do_stat_v2(name, follow=ident == b"STA2")
        return handler(name)

    # -- stat and list --------------------------------------------------------
    def _stat(self, name: str, follow: bool) -> os.stat_result:
        path = self.host(name)
        return os.stat(path) if follow else os.lstat(path)

    def do_stat_v1(self, name: str) -> bool:
        try:
            st = self._stat(name, follow=False)
            mode, size, mtime = st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime)
        except OSError:
            mode = size = mtime = 0
        self.send(STAT_V1.pack(b"STAT", mode, size, mtime & 0xFFFFFFFF))
        return True

    def do_stat_v2(self, name: str, follow: bool = True) -> bool:
        ident = b"STA2" if follow else b"LST2"
        try:
            st = self._stat(name, follow)
        except OSError as exc:
            self.send(STAT_V2.pack(ident, exc.errno or errno.EIO, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            return True
        self.send(STAT_V2.pack(ident, 0, *_stat_v2_fields(st)))
        return True

    def _entries(self, name: str) -> list[tuple[str, os.stat_result | OSError]]:
        try:
            path = self.host(name)
            names = [".", "..", *sorted(os.listdir(path))]
        except OSError:
            return []
        out: list[tuple[str, os.stat_result | OSError]] = []
        for entry in names:
            try:
                out.append((entry, os.lstat(os.path.join(path, entry))))
            except OSError as exc:
                out.append((entry, exc))
        return out

    def do_list_v1(self, name: str) -> bool:
        buf = bytearray()
        for entry, st in self._entries(name):
            if isinstance(st, OSError):
                continue
            raw = entry.encode("utf-8", "surrogateescape")
            buf += DENT_V1.pack(
                b"DENT", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime), len(raw)
            )
            buf += raw
        buf += DENT_V1.pack(b"DONE", 0, 0, 0, 0)
        self.send(bytes(buf))
        return True

    def do_list_v2(self, name: str) -> bool:
        buf = bytearray()
        for entry, st in self._entries(name):
            raw = entry.encode("utf-8", "surrogateescape")
            if isinstance(st, OSError):
                buf += DENT_V2.pack(b"DNT2", st.errno or 0, *([0] * 10), len(raw))
            else:
                buf += DENT_V2.pack(b"DNT2", 0, *_stat_v2_fields(st), len(raw))
            buf += raw
        buf += DENT_V2.pack(b"DONE", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        self.send(bytes(buf))
        return True

    # -- send (push) -----------------------------------------------------------
    def do_send_v1(self, spec: str) -> bool:
        path, comma, mode_text = spec.rpartition(",")
        if not comma:
            self.fail("missing , in ID_SEND_V1")
            return False
        mode, overflow = strtoul0(mode_text)
        if overflow:
            self.fail("bad mode")
            return False
        return self._send(path, mode & 0xFFFFFFFF)

    def do_send_v2(self, path: str) -> bool:
        _ident, mode, flags = SEND_V2_SETUP.unpack(self.read_exactly(SEND_V2_SETUP.size, "SND2"))
        if flags:
            self.fail(f"unknown flags: {flags}")
            return False
        return self._send(path, mode)

    def _send(self, path: str, mode: int) -> bool:
        if stat.S_ISLNK(mode):
            self._drain_after_fail("symlink failed: Operation not permitted")
            return False
        mode &= 0o777
        mode |= (mode >> 3) & 0o070
        mode |= (mode >> 3) & 0o007
        try:
            target = self.host(path)
        except OSError as exc:
            self._drain_after_fail(f"couldn't create file: {os.strerror(exc.errno)}")
            return False
        try:
            st = os.lstat(target)
            unlink = stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)
        except OSError:
            unlink = True
        if unlink:
            try:
                os.unlink(target)
            except OSError:
                pass
        try:
            fd = self._create(target, mode)
        except _Failed as exc:
            self._drain_after_fail(str(exc))
            return False
        timestamp = 0
        ok = False
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    ident, size = REQ.unpack(self.read_exactly(REQ.size, "DATA header"))
                    if ident == b"DONE":
                        timestamp = size
                        break
                    if ident != b"DATA":
                        self.fail("invalid data message")
                        raise _Failed("invalid data message")
                    if size > SYNC_DATA_MAX:
                        self.fail("oversize data message")
                        raise _Failed("oversize data message")
                    out.write(self.read_exactly(size, "DATA payload"))
            ok = True
        except _Failed:
            log.warning("%r: push of %s aborted by a bad data message", self.stream, path)
        except OSError as exc:
            self.fail_errno("write failed", exc.errno or errno.EIO)
        finally:
            if not ok and unlink:
                try:
                    os.unlink(target)
                except OSError:
                    pass
        if not ok:
            return False
        try:
            os.utime(target, (timestamp, timestamp))
        except OSError:
            pass
        self.send(REQ.pack(b"OKAY", 0))
        return True

    def _create(self, target: str, mode: int) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        try:
            fd = os.open(target, flags, mode)
        except FileNotFoundError:
            try:
                os.makedirs(os.path.dirname(target), mode=0o775, exist_ok=True)
            except OSError as exc:
                raise _Failed(f"secure_mkdirs failed: {os.strerror(exc.errno)}") from exc
            try:
                fd = os.open(target, flags, mode)
            except OSError as exc:
                fd = self._create_existing(target, mode, exc)
        except OSError as exc:
            fd = self._create_existing(target, mode, exc)
        try:
            os.fchmod(fd, mode)
        except OSError:
            pass
        return fd

    @staticmethod
    def _create_existing(target: str, mode: int, exc: OSError) -> int:
        if exc.errno == errno.EEXIST:
            try:
                return os.open(target, os.O_WRONLY | os.O_CLOEXEC | os.O_TRUNC, mode)
            except OSError as again:
                exc = again
        raise _Failed(f"couldn't create file: {os.strerror(exc.errno)}") from exc

    def _drain_after_fail(self, reason: str) -> None:
        """adbd's habit: report FAIL, then swallow DATA until DONE so the host sees it."""
        self.fail(reason)
        while True:
            head = self.reader.read_exactly(REQ.size)
            if len(head) < REQ.size:
                return
            ident, size = REQ.unpack(head)
            if ident != b"DATA" or size > SYNC_DATA_MAX:
                return
            if len(self.reader.read_exactly(size)) < size:
                return

    # -- recv (pull) -----------------------------------------------------------
    def do_recv_v1(self, path: str) -> bool:
        return self._recv(path)

    def do_recv_v2(self, path: str) -> bool:
        _ident, flags = RECV_V2_SETUP.unpack(self.read_exactly(RECV_V2_SETUP.size, "RCV2"))
        if flags:
            self.fail(f"unknown flags: {flags}")
            return False
        return self._recv(path)

    def _recv(self, path: str) -> bool:
        try:
            source = self.host(path)
            if os.path.isdir(source):
                fh = None
                err = errno.EISDIR
            else:
                fh = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            self.fail_errno("open failed", exc.errno or errno.EIO)
            return False
        if fh is None:
            self.fail_errno("read failed", err)
            return False
        with fh:
            step = SYNC_DATA_MAX - REQ.size
            while True:
                try:
                    block = fh.read(step)
                except OSError as exc:
                    self.fail_errno("read failed", exc.errno or errno.EIO)
                    return False
                if not block:
                    break
                self.send(REQ.pack(b"DATA", len(block)) + block)
        self.send(REQ.pack(b"DONE", 0))
        return True


class _Failed(Exception):
    pass


class _Truncated(Exception):
    def __init__(self, what: str, got: int, want: int) -> None:
        super().__init__(f"{what}: {got} of {want} bytes")


def serve_sync(ctx: PhoneContext, stream: Stream) -> None:
    stream.accept()
    SyncSession(ctx, stream).serve()
