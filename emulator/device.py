"""One Android device driven over adb: the operations of rig.world's ``AndroidDevice``.

The same code drives an AVD, an attached phone and the virtual phone: shell
commands and sync through adbutils, uiautomator2's on-device agent when it
already answers (faster hierarchy dumps, Unicode text), and the stock
``input``/``screencap``/``uiautomator`` commands otherwise.

Coordinates are pixels of the current orientation, origin top-left;
durations are milliseconds.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shlex
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from adbutils import AdbDevice, AdbError
from PIL import Image

from emulator.adb import AdbServer
from emulator.errors import AndroidError, AndroidInputError, DeviceLost
from emulator.keys import KEYCODES, key_names, keycode
from emulator.smartsocket import (
    AdbRefused,
    AdbUnreachable,
    SmartSocket,
    SyncError,
    http_exchange,
    recv_all,
    recv_until,
)

_T = TypeVar("_T")

U2_PORT = 9008
# The rig's own reads (seed read-back, dumps) are not capped like an agent's commands.
INTERNAL_OUTPUT_CAP = 1 << 28
ADB_KEYBOARD = "com.android.adbkeyboard/.AdbIME"
# settle(): the agent's frame to compare (scale of the screen, JPEG quality) and the
# quiet window of sampling without the agent (seconds).
THUMB_SCALE, THUMB_QUALITY = 0.25, 50
QUIET_MIN, QUIET_MAX = 0.1, 1.0


# Raw ``screencap`` pixel formats (android PixelFormat) -> (bytes per pixel, PIL raw mode).
_RAW_FORMATS: dict[int, tuple[int, str]] = {
    1: (4, "RGBA"),
    2: (4, "RGBX"),
    3: (3, "RGB"),
    4: (2, "BGR;16"),
    5: (4, "BGRA"),
}

_FOCUS_RE = re.compile(
    r"(?:mCurrentFocus|mFocusedApp|mResumedActivity|topResumedActivity|ResumedActivity)"
    r"[=:]\s*\w+\{[^}\n]*?\s(?P<pkg>[A-Za-z0-9_.]+)/(?P<act>[A-Za-z0-9_.$]+)"
)


@dataclass(frozen=True)
class Settled:
    """What :meth:`AdbAndroidDevice.settle` found; truthy when the screen stopped changing."""

    settled: bool
    waited_s: float
    method: Literal["waitForIdle", "sampling"]
    frames: int  # frames captured to decide

    def __bool__(self) -> bool:
        return self.settled


@dataclass
class ShellResult:
    """Output of one device shell command (``rig.world.ShellOutput``)."""

    stdout: str
    stderr: str
    exit_code: int
    truncated: bool = False
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


@contextmanager
def _adb_errors(serial: str) -> Iterator[None]:
    """Turn transport failures into :class:`DeviceLost` (infra), keeping bad input apart."""
    try:
        yield
    except (AndroidError, AndroidInputError):
        raise
    except (AdbError, OSError, EOFError) as exc:
        raise DeviceLost(
            f"{serial}: adb failed: {exc or type(exc).__name__}", serial=serial
        ) from exc


def _keep(into: bytearray, data: bytes, cap: int) -> bool:
    """Append what fits under ``cap`` bytes (output past it is dropped); True when some was."""
    room = cap - len(into)
    into += data[: max(room, 0)]
    return len(data) > room


def input_text_commands(text: str) -> list[str]:
    """Shell commands that type printable-ASCII ``text`` (``\\n``, ``\\t`` as keys) via ``input``.

    ``input text`` turns ``%s`` into a space, so spaces are sent as ``%s`` and a
    literal ``%`` directly followed by ``s`` is split across two calls.
    """
    if not is_input_text_safe(text):
        raise AndroidInputError("input text accepts printable ASCII, newline and tab only")
    cmds: list[str] = []
    chunk = ""

    def flush() -> None:
        nonlocal chunk
        if chunk:
            cmds.append("input text " + shlex.quote(chunk.replace(" ", "%s")))
            chunk = ""

    for i, ch in enumerate(text):
        if ch in "\n\t":
            flush()
            cmds.append(f"input keyevent {KEYCODES['enter' if ch == chr(10) else 'tab']}")
            continue
        chunk += ch
        if ch == "%" and i + 1 < len(text) and text[i + 1] == "s":
            flush()
    flush()
    return cmds


def is_input_text_safe(text: str) -> bool:
    return all(32 <= ord(c) < 127 or c in "\n\t" for c in text)


def decode_raw_screencap(data: bytes) -> Image.Image:
    """Decode ``screencap`` raw output: a 12- or 16-byte header (w, h, format[, colorspace])."""
    if len(data) < 12:
        raise AndroidError(f"screencap returned {len(data)} bytes, not a frame")
    width, height, fmt = (int.from_bytes(data[i : i + 4], "little") for i in (0, 4, 8))
    if fmt not in _RAW_FORMATS:
        raise AndroidError(f"screencap: unsupported pixel format {fmt}")
    bpp, mode = _RAW_FORMATS[fmt]
    body = width * height * bpp
    header = len(data) - body
    if header not in (12, 16):
        raise AndroidError(
            f"screencap: {len(data)} bytes do not hold a {width}x{height} frame of format {fmt}"
        )
    raw_mode = "RGB" if mode == "BGR;16" else ("RGBA" if bpp == 4 else "RGB")
    img = Image.frombuffer(raw_mode, (width, height), data[header:], "raw", mode, 0, 1)
    return img.convert("RGB")


def _tail_bytes(path: Path, cap: int) -> bytes:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, fh.seek(0, 2) - cap))
            return fh.read()
    except OSError as exc:
        return f"(cannot read {path}: {exc})\n".encode()


def png_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a PNG's IHDR chunk; None when ``data`` is not a PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def parse_wm_size(text: str) -> tuple[int, int]:
    """``wm size`` output -> natural ``(width, height)`` (the override wins when set)."""
    found = dict(re.findall(r"(Physical|Override) size:\s*(\d+x\d+)", text))
    value = found.get("Override") or found.get("Physical")
    if not value:
        raise AndroidError(f"cannot parse 'wm size' output: {text.strip()[:200]!r}")
    w, h = value.split("x")
    return int(w), int(h)


def parse_rotation(text: str) -> int:
    """Rotation 0-3 from ``dumpsys display`` (0 when not reported)."""
    m = re.search(r"mCurrentOrientation=(\d)", text) or re.search(r"\borientation=(\d)", text)
    return int(m.group(1)) if m else 0


def parse_focus(text: str) -> tuple[str, str] | None:
    """``(package, activity)`` from ``dumpsys window``/``activity`` output, or None."""
    for m in _FOCUS_RE.finditer(text):
        pkg, act = m.group("pkg"), m.group("act")
        if act.startswith("."):
            act = pkg + act
        return pkg, act
    return None


class AdbAndroidDevice:
    """An Android device reached through an adb server (see module docstring)."""

    kind: Literal["android"] = "android"

    def __init__(
        self,
        server: AdbServer,
        serial: str,
        role: str = "phone",
        output_cap: int = 64 * 1024,
        shell_timeout: float = 60.0,
    ) -> None:
        self.server = server
        self.serial = serial
        self.role = role
        self.output_cap = output_cap
        self.shell_timeout = shell_timeout
        self._adb: AdbDevice = server.device(serial)
        self._features: set[str] | None = None
        self._u2_ok: bool | None = None
        # uiautomator2's client when emulator.agent.start_agent started its agent here.
        self.u2_client: Any = None
        self._size: tuple[int, int] | None = None
        self.screenshot_path: Literal["raw", "png"] | None = None  # chosen by screenshot("auto")
        self.png_path: Literal["raw", "png"] | None = None  # chosen by screenshot_png()
        self.round_trips = 0  # adb requests made through this object (for benchmarks)
        # (console port, auth token file) when the backend knows them: the world's services
        # deliver SMS (a bank's one-time code) through the phone's console like a carrier.
        self.console: tuple[int, Path | None] | None = None
        # Set by the AVD backend: a real emulator's console stops the guest (``avd stop``),
        # its clock with it, so a stepped world pauses it between agent actions. The virtual
        # phone's clock stands by itself in a stepped world: it is never paused.
        self.can_pause = False
        self._paused = False
        # Host files the backend's own process writes (the virtual phone's or the
        # emulator's stderr), by the name a record keeps them under.
        self.host_logs: dict[str, Path] = {}
        # The host folder the console's ``avd snapshot save`` writes, when the backend has one.
        self.snapshot_dir: Path | None = None
        # True when the console's ``avd snapshot load`` only reads the snapshot folder (the
        # virtual phone's), so a checkpoint's may be linked there instead of copied.
        self.snapshot_load_reads_only = False
        # Set by the backend at allocate: the APKs it installed or found (emulator.apks),
        # and how Unicode is typed ("uiautomator2" or "adbkeyboard", emulator.agent).
        self.apks: list[Any] = []
        self.text_input: str | None = None
        # Which packages fill the app roles here (emulator.apps.Apps): the backend sets it
        # from rig.toml; a device made by hand gets the ``auto`` profile on first use.
        self._apps: Any = None

    def reloaded(self) -> None:
        """The phone's whole state was replaced under this object (a console snapshot
        load): forget what was read of it (its size, the transfer timings, the round trips
        counted) and empty its host logs, which a new record starts from."""
        self._size = None
        self._u2_ok = None
        self.screenshot_path = self.png_path = None
        self.round_trips = 0
        for path in self.host_logs.values():
            try:  # the phone's process appends (O_APPEND): writing on at the new end
                with open(path, "r+b") as fh:
                    fh.truncate(0)
            except OSError:
                pass

    def logs(self, cap: int = 2 * 1024 * 1024) -> dict[str, bytes]:
        """The device's logs for the record: ``logcat.txt`` and the backend's host logs.

        Never raises: a device that is gone still leaves its host logs, and a note
        saying why its logcat could not be read.
        """
        out: dict[str, bytes] = {}
        try:
            out["logcat.txt"] = self.exec_out("logcat -d -v threadtime", timeout=20.0)[-cap:]
        except Exception as exc:
            out["logcat.txt"] = f"(logcat unavailable: {type(exc).__name__}: {exc})\n".encode()
        for name, path in self.host_logs.items():
            out[name] = _tail_bytes(path, cap)
        return out

    def __repr__(self) -> str:
        return f"AdbAndroidDevice(role={self.role!r}, serial={self.serial!r})"

    # -- plumbing ---------------------------------------------------------------
    @property
    def adb(self) -> AdbDevice:
        """The adbutils device, for operations this class does not wrap."""
        return self._adb

    def features(self) -> set[str]:
        if self._features is None:
            with _adb_errors(self.serial):
                self.round_trips += 1
                raw = self._host(f"host-serial:{self.serial}:features").decode("utf-8", "replace")
                self._features = {
                    f.strip() for f in raw.replace("\x00", "").split(",") if f.strip()
                }
        return self._features

    def _host(self, request: str) -> bytes:
        try:
            return self.server.wire.host_request(request)
        except AdbUnreachable:
            self.server.revive(self.serial)
        except AdbRefused as exc:
            if not exc.device_unknown:
                raise
            self.server.revive(self.serial)
        return self.server.wire.host_request(request)

    def _open(self, service: str, timeout: float | None = None) -> socket.socket:
        """A connection to ``service`` on this device (emulator/smartsocket.py).

        When the server is gone or no longer knows the device (an adb server
        restart), the server is revived once and the request repeated: the
        service had not started, so nothing runs twice.
        """
        wire = self.server.wire
        try:
            return wire.open(self.serial, service, timeout)
        except AdbUnreachable:
            self.server.revive(self.serial)
        except AdbRefused as exc:
            if not exc.device_unknown:
                raise
            self.server.revive(self.serial)
        return wire.open(self.serial, service, timeout)

    def shell(
        self, command: str, timeout: float | None = None, output_cap: int | None = None
    ) -> ShellResult:
        """Run ``command`` in the device shell, bounded in time and captured output.

        Output past ``output_cap`` bytes per stream is dropped (``truncated``);
        the command still runs to its end. On timeout the stream is closed and
        ``exit_code`` is 124 with ``timed_out`` set, like coreutils ``timeout``.
        """
        limit = self.shell_timeout if timeout is None else timeout
        cap = self.output_cap if output_cap is None else output_cap
        with _adb_errors(self.serial):
            self.round_trips += 1
            if "shell_v2" in self.features():
                return self._shell_v2(command, limit, cap)
            return self._shell_v1(command, limit, cap)

    def _shell_v2(self, command: str, limit: float, cap: int) -> ShellResult:
        deadline = time.monotonic() + limit
        sock = self._open(f"shell,v2,raw:{command}", timeout=limit)
        out, err = bytearray(), bytearray()
        truncated = False
        code: int | None = None
        try:
            sock.sendall(b"\x04\x00\x00\x00\x00")  # close stdin: nothing to feed
            buf = b""
            for chunk in recv_until(sock, deadline):
                buf += chunk
                while len(buf) >= 5:
                    size = int.from_bytes(buf[1:5], "little")
                    if len(buf) < 5 + size:
                        break
                    kind, data, buf = buf[0], buf[5 : 5 + size], buf[5 + size :]
                    if kind in (1, 2):
                        truncated |= _keep(out if kind == 1 else err, data, cap)
                    elif kind == 3 and data:
                        code = data[0]
                if code is not None:
                    break
        except TimeoutError:
            return self._result(out, err, 124, truncated, True, limit, cap)
        finally:
            sock.close()
        if code is None:
            raise DeviceLost(f"{self.serial}: shell stream closed without an exit status")
        return self._result(out, err, code, truncated, cap=cap)

    def _shell_v1(self, command: str, limit: float, cap: int) -> ShellResult:
        marker = b"X4EXIT:"
        deadline = time.monotonic() + limit
        # The command runs in a shell of its own, so its ``exit N``, a syntax error or a
        # trailing ``#`` comment cannot take the marker with it: they are the command's status.
        wrapped = f"sh -c {shlex.quote(command)} ; echo X4EXIT:$?"
        sock = self._open(f"shell:{wrapped}", timeout=limit)
        data = bytearray()
        tail = b""
        truncated = False
        try:
            for chunk in recv_until(sock, deadline):
                tail = (tail + chunk)[-64:]
                truncated |= _keep(data, chunk, cap + 64)
        except TimeoutError:
            return self._result(data, b"", 124, truncated, True, limit, cap)
        finally:
            sock.close()
        idx = tail.rfind(marker)
        if idx < 0:
            raise DeviceLost(f"{self.serial}: shell output ended without an exit status")
        code = int(tail[idx + len(marker) :].strip() or b"255")
        body_end = data.rfind(marker)
        body = data[:body_end] if body_end >= 0 else data[:cap]
        return self._result(body[:cap], b"", code, truncated, cap=cap)

    def _result(
        self,
        out: bytes | bytearray,
        err: bytes | bytearray,
        code: int,
        truncated: bool,
        timed_out: bool = False,
        limit: float = 0.0,
        cap: int = 0,
    ) -> ShellResult:
        stderr = bytes(err).decode("utf-8", "replace")
        if truncated:
            stderr += f"\n[output truncated at {cap} bytes]"
        if timed_out:
            stderr += f"\n[timed out after {limit:g} s]"
        return ShellResult(
            stdout=bytes(out).decode("utf-8", "replace"),
            stderr=stderr,
            exit_code=code,
            truncated=truncated,
            timed_out=timed_out,
        )

    def check(self, command: str, timeout: float | None = None) -> str:
        """Run a command the rig relies on; its whole stdout, or :class:`AndroidError`."""
        res = self.shell(command, timeout, output_cap=INTERNAL_OUTPUT_CAP)
        if not res.ok or res.truncated:
            detail = (res.stderr or res.stdout).strip()[-500:]
            raise AndroidError(
                f"{self.serial}: {command[:120]!r} exited {res.exit_code}: {detail}",
                serial=self.serial,
            )
        return res.stdout

    def exec_out(self, command: str, timeout: float = 60.0) -> bytes:
        """Raw bytes of ``exec:COMMAND`` (no pty, no shell protocol): binary-safe output."""
        with _adb_errors(self.serial):
            self.round_trips += 1
            sock = self._open("exec:" + command, timeout=timeout)
            try:
                return recv_all(sock)
            finally:
                sock.close()

    # -- files ------------------------------------------------------------------
    def push(self, local: Path | bytes, remote: str, mode: int = 0o644) -> None:
        with _adb_errors(self.serial):
            self.round_trips += 1
            if isinstance(local, bytes):
                data = local
            else:
                src = Path(local)
                if not src.is_file():
                    raise AndroidInputError(f"push: {src} is not a file")
                data = src.read_bytes()
            self._sync(lambda w: w.write_file(self.serial, remote, data, mode, int(time.time())))

    def pull(self, remote: str, local: Path) -> None:
        with _adb_errors(self.serial):
            self.round_trips += 1
            if self._sync(lambda w: w.stat(self.serial, remote)) == (0, 0, 0):
                raise AndroidInputError(f"pull: {remote} does not exist on {self.serial}")
            Path(local).write_bytes(self._sync(lambda w: w.read_file(self.serial, remote)))

    def read_bytes(self, remote: str) -> bytes:
        with _adb_errors(self.serial):
            self.round_trips += 1
            return self._sync(lambda w: w.read_file(self.serial, remote))

    def _sync(self, request: Callable[[SmartSocket], _T]) -> _T:
        """A sync request, with the same one revival as :meth:`_open`; a refused path
        (no such file, permission) is bad input, not a lost device."""
        try:
            try:
                return request(self.server.wire)
            except AdbUnreachable:
                self.server.revive(self.serial)
            except AdbRefused as exc:
                if not exc.device_unknown:
                    raise
                self.server.revive(self.serial)
            return request(self.server.wire)
        except SyncError as exc:
            raise AndroidInputError(f"{self.serial}: {exc}") from exc

    # -- screen -----------------------------------------------------------------
    def screenshot(self, fmt: Literal["auto", "raw", "png"] = "auto") -> Image.Image:
        """The screen as RGB ``[height, width]``.

        ``raw`` pulls the uncompressed frame and decodes it on the host (no
        PNG encoding on the device); ``png`` is ``screencap -p``. ``auto``
        times both on the first call and keeps the faster for this device:
        on real devices on-device PNG encoding usually loses, on the virtual
        phone over loopback the 10 MB raw frame may (benchmarks/bench_screenshot.py).
        """
        if fmt == "auto":
            if self.screenshot_path is None:
                t0 = time.perf_counter()
                raw = self._shot_raw()
                t1 = time.perf_counter()
                self._shot_png()
                t2 = time.perf_counter()
                self.screenshot_path = "raw" if raw is not None and t1 - t0 <= t2 - t1 else "png"
                if raw is not None:
                    return raw
            fmt = self.screenshot_path
        if fmt == "raw":
            img = self._shot_raw()
            if img is not None:
                return img
        return self._shot_png()

    def screenshot_png(self) -> tuple[bytes, tuple[int, int]]:
        """The screen as PNG bytes and ``(width, height)``, for observations and records.

        Either the device's own ``screencap -p`` bytes, passed through (no decode and
        re-encode on the host), or the raw frame encoded here: the first call times
        both and keeps the faster for this device (``png_path``).
        """
        if self.png_path is None:
            t0 = time.perf_counter()
            raw = self._png_from_raw()
            t1 = time.perf_counter()
            own = self._png_of_device()
            t2 = time.perf_counter()
            if own is None and raw is None:
                self._shot_png()  # raises with the device's own words
            self.png_path = (
                "png" if own is not None and (raw is None or t2 - t1 < t1 - t0) else "raw"
            )
            return own if self.png_path == "png" else raw  # type: ignore[return-value]
        got = self._png_of_device() if self.png_path == "png" else self._png_from_raw()
        if got is None:
            self.png_path = None  # the device changed its mind (rotation, a new build): time again
            return self.screenshot_png()
        return got

    def _png_of_device(self) -> tuple[bytes, tuple[int, int]] | None:
        data = self.exec_out("screencap -p")
        size = png_size(data)
        return None if size is None else (data, size)

    def _png_from_raw(self) -> tuple[bytes, tuple[int, int]] | None:
        img = self._shot_raw()
        if img is None:
            return None
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=1)
        return buf.getvalue(), img.size

    def _shot_raw(self) -> Image.Image | None:
        try:
            return decode_raw_screencap(self.exec_out("screencap"))
        except DeviceLost:
            raise
        except AndroidError:
            return None

    def _shot_png(self) -> Image.Image:
        data = self.exec_out("screencap -p")
        try:
            img = Image.open(io.BytesIO(data))
            img.load()
        except Exception as exc:
            raise AndroidError(f"{self.serial}: screencap -p gave no image ({exc})") from exc
        return img.convert("RGB")

    def _u2(self, method: str, *params: Any, timeout: float = 20.0) -> Any:
        """One JSON-RPC call to uiautomator2's on-device agent over a ``tcp:9008`` stream."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        with _adb_errors(self.serial):
            self.round_trips += 1
            status, answer = self._http("POST", "/jsonrpc/0", body.encode("utf-8"), timeout)
        if status != 200:
            raise AndroidError(f"{self.serial}: uiautomator2 {method}: HTTP {status}")
        try:
            reply = json.loads(answer)
        except ValueError as exc:
            raise AndroidError(f"{self.serial}: uiautomator2 {method}: not JSON") from exc
        if reply.get("error"):
            err = reply["error"]
            raise AndroidError(f"{self.serial}: uiautomator2 {method}: {err.get('message', err)}")
        return reply.get("result")

    def _http(self, method: str, path: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        sock = self._open(f"tcp:{U2_PORT}", timeout=timeout)
        try:
            return http_exchange(sock, U2_PORT, method, path, body)
        finally:
            sock.close()

    @property
    def adb_device(self) -> AdbDevice:
        """The adbutils device (on this object's adb server), for tools that take one."""
        return self._adb

    def u2_available(self, recheck: bool = False) -> bool:
        """True when uiautomator2's agent already answers ``/ping`` (never installs it:
        :func:`emulator.agent.start_agent` does)."""
        if self._u2_ok is None or recheck:
            try:
                self.round_trips += 1
                status, body = self._http("GET", "/ping", b"", 3.0)
                self._u2_ok = status == 200 and body.strip() == b"pong"
            except (OSError, AndroidError):
                self._u2_ok = False
        return self._u2_ok

    def ui_tree(self) -> str:
        """The ``uiautomator dump`` XML of the current screen (via uiautomator2 when it runs)."""
        if self.u2_available():
            try:
                return str(self._u2("dumpWindowHierarchy", False, 50))
            except Exception:
                self._u2_ok = False
        path = "/data/local/tmp/clawrig_ui.xml"
        detail = ""
        for _ in range(3):  # real devices sometimes answer "could not get idle state"
            res = self.shell(
                f"uiautomator dump {path} >/dev/null && cat {path}",
                timeout=30,
                output_cap=INTERNAL_OUTPUT_CAP,
            )
            out = res.stdout
            start = out.find("<?xml")
            if start < 0:
                start = out.find("<hierarchy")
            if res.exit_code == 0 and start >= 0:
                return out[start:]
            detail = (res.stderr or out).strip()[:300]
        raise AndroidError(f"{self.serial}: uiautomator dump gave no XML: {detail!r}")

    def window_size(self) -> tuple[int, int]:
        """``(width, height)`` for the current rotation."""
        out = self.check("wm size; dumpsys display")
        w, h = parse_wm_size(out)
        if parse_rotation(out) % 2 == 1:
            w, h = h, w
        self._size = (w, h)
        return w, h

    def rotation(self) -> int:
        """0, 1, 2 or 3 (quarter turns from the natural orientation)."""
        return parse_rotation(self.check("dumpsys display"))

    def _check_xy(self, *points: tuple[int, int]) -> None:
        size = self._size or self.window_size()
        for x, y in points:
            if not (0 <= x < size[0] and 0 <= y < size[1]):
                size = self.window_size()  # the screen may have rotated since
                if not (0 <= x < size[0] and 0 <= y < size[1]):
                    raise AndroidInputError(f"({x}, {y}) is off the {size[0]}x{size[1]} screen")

    # -- input ------------------------------------------------------------------
    def tap(self, x: int, y: int) -> None:
        self._check_xy((x, y))
        self.check(f"input tap {int(x)} {int(y)}")

    def long_press(self, x: int, y: int, duration_ms: int = 800) -> None:
        self._check_xy((x, y))
        self.check(f"input swipe {int(x)} {int(y)} {int(x)} {int(y)} {int(duration_ms)}")

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None:
        self._check_xy((x1, y1), (x2, y2))
        self.check(f"input swipe {int(x1)} {int(y1)} {int(x2)} {int(y2)} {int(duration_ms)}")

    def type_text(self, text: str) -> None:
        """Type into the focused field: ``input text`` for ASCII; any Unicode through
        uiautomator2's clipboard paste, or the ADB Keyboard IME when installed."""
        if not text:
            return
        if is_input_text_safe(text):
            self.check(" && ".join(input_text_commands(text)))
            return
        if self.u2_available():
            try:
                self._u2("setClipboard", None, text)
                if self._u2("getClipboard") == text:
                    self._u2("pasteClipboard")
                    return
            except DeviceLost:
                raise
            except Exception:  # the agent died or refused: try the next way
                pass
            self._u2_ok = False
        if self.has_package("com.android.adbkeyboard"):
            previous = self.check("settings get secure default_input_method").strip()
            msg = base64.b64encode(text.encode("utf-8")).decode("ascii")
            self.check(
                f"ime enable {ADB_KEYBOARD} >/dev/null; ime set {ADB_KEYBOARD} >/dev/null; "
                f"am broadcast -a ADB_INPUT_B64 --es msg {msg}"
            )
            if previous and previous != "null" and previous != ADB_KEYBOARD:
                self.shell(f"ime set {shlex.quote(previous)}")
            return
        raise AndroidInputError(
            "non-ASCII text needs uiautomator2's agent or the ADB Keyboard "
            "(com.android.adbkeyboard); neither is available on " + self.serial
        )

    def key(self, name: str | int) -> None:
        """Press a key by name (``home``, ``back``, ``enter`` …), ``KEYCODE_*`` or number."""
        code = keycode(name)
        if code is None:
            known = ", ".join(key_names())
            raise AndroidInputError(f"unknown key {name!r}; known keys: {known}")
        self.check(f"input keyevent {code}")

    # -- apps -------------------------------------------------------------------
    def has_package(self, package: str) -> bool:
        return self.shell(f"pm path {shlex.quote(package)}").stdout.startswith("package:")

    @property
    def apps(self) -> Any:
        if self._apps is None:
            from emulator.apps import apps_for

            self._apps = apps_for(self, "auto", {})
        return self._apps

    @apps.setter
    def apps(self, value: Any) -> None:
        self._apps = value

    def launch(self, app: str) -> None:
        """Start the app that fills a role here (``messages``, ``clock`` …:
        :mod:`emulator.apps`), or ``package`` (its launcher activity) or
        ``package/activity``."""
        package = self.apps.resolve(app)
        try:
            self._launch(package)
        except AndroidInputError:
            # The packages seen earlier may be stale (an app removed or added since).
            again = self.apps.resolve(app, refresh=True)
            if again == package:
                raise
            self._launch(again)

    def _launch(self, package: str) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.]+(/[A-Za-z0-9_.$]+)?", package):
            raise AndroidInputError(f"not a package name: {package!r}")
        if "/" in package:
            res = self.shell(f"am start -n {package}")
        else:
            res = self.shell(f"monkey -p {package} -c android.intent.category.LAUNCHER 1")
        text = res.stdout + res.stderr
        if res.exit_code != 0 or "No activities found" in text or "Error" in text:
            raise AndroidInputError(f"cannot launch {package}: {text.strip()[:300]}")

    def stop_app(self, package: str) -> None:
        self.check(f"am force-stop {shlex.quote(package)}")

    def current_app(self) -> tuple[str, str]:
        """``(package, activity)`` of the focused window."""
        for cmd in ("dumpsys window windows", "dumpsys window", "dumpsys activity activities"):
            res = self.shell(cmd)
            found = parse_focus(res.stdout)
            if found:
                return found
        raise AndroidError(f"{self.serial}: no focused app in dumpsys output", serial=self.serial)

    # -- state of the system ----------------------------------------------------
    def settle(self, timeout: float = 5.0) -> Settled:
        """Wait until the screen stops changing, at most ``timeout`` seconds; never a fixed sleep.

        With uiautomator2's agent: its ``waitForIdle`` (returns when no frame is pending),
        confirmed by two small frames, one taken before it and one after, being equal;
        unequal frames mean another wait and another frame. Without the agent: raw frames
        sampled back to back until none changed for a quiet window that grows with the
        changes seen (:data:`QUIET_MIN` to :data:`QUIET_MAX`). The result is falsy when the
        screen was still changing at the timeout.
        """
        started = time.monotonic()
        if self.u2_available():
            try:
                return self._settle_idle(started + timeout)
            except DeviceLost:
                raise
            except AndroidError:
                self._u2_ok = False  # the agent died or refused: sample instead
        return self._settle_sampling(started + timeout)

    def _thumb(self) -> str:
        """A small JPEG of the screen from the agent (base64): the cheap frame to compare."""
        return str(self._u2("takeScreenshot", THUMB_SCALE, THUMB_QUALITY))

    def _settle_idle(self, deadline: float) -> Settled:
        started = time.monotonic()
        before = self._thumb()
        frames = 1
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Settled(False, time.monotonic() - started, "waitForIdle", frames)
            self._u2("waitForIdle", int(remaining * 1000), timeout=remaining + 10)
            after = self._thumb()
            frames += 1
            if after == before:
                return Settled(True, time.monotonic() - started, "waitForIdle", frames)
            before = after

    def _settle_sampling(self, deadline: float) -> Settled:
        started = time.monotonic()
        last = hashlib.sha1(self.exec_out("screencap")).digest()
        changed_at = started
        quiet = QUIET_MIN
        frames = 1
        while True:
            sample = hashlib.sha1(self.exec_out("screencap")).digest()
            frames += 1
            now = time.monotonic()
            if sample != last:
                # Twice the longest gap between changes seen so far, within bounds.
                quiet = min(QUIET_MAX, max(quiet, 2 * (now - changed_at)))
                last, changed_at = sample, now
            elif now - changed_at >= quiet:
                return Settled(True, now - started, "sampling", frames)
            if now >= deadline:
                return Settled(False, now - started, "sampling", frames)

    def disable_animations(self) -> None:
        self.check(
            "settings put global window_animation_scale 0; "
            "settings put global transition_animation_scale 0; "
            "settings put global animator_duration_scale 0"
        )

    def set_locale(self, tag: str) -> None:
        """Set the system locale (BCP 47, e.g. ``en-US``, ``ja-JP``); apps see it on restart."""
        if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", tag):
            raise AndroidInputError(f"not a locale tag: {tag!r}")
        self.check(f"setprop persist.sys.locale {tag}; settings put system system_locales {tag}")

    def set_timezone(self, timezone: str) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", timezone):
            raise AndroidInputError(f"not an IANA timezone: {timezone!r}")
        self.check(f"settings put global auto_time_zone 0; setprop persist.sys.timezone {timezone}")

    def set_clock(self, now: datetime, timezone: str) -> None:
        """Set the device clock to ``now`` (aware) and its timezone; automatic time off."""
        if now.tzinfo is None:
            raise AndroidInputError("set_clock needs a timezone-aware datetime")
        self.set_timezone(timezone)
        # ``@EPOCH`` is unambiguous whatever the device timezone (toybox date).
        self.check(f"settings put global auto_time 0; date @{int(now.timestamp())} >/dev/null")

    def getprop(self, name: str) -> str:
        return self.check(f"getprop {shlex.quote(name)}").strip()

    def reverse(self, device_port: int, host_port: int) -> None:
        """Make ``tcp:device_port`` on the device reach ``127.0.0.1:host_port`` on the host."""
        with _adb_errors(self.serial):
            self.round_trips += 1
            self._adb.reverse(f"tcp:{int(device_port)}", f"tcp:{int(host_port)}")

    def reverse_list(self) -> list[tuple[str, str]]:
        with _adb_errors(self.serial):
            self.round_trips += 1
            return [(r.remote, r.local) for r in self._adb.reverse_list()]

    def ensure_root(self, timeout: float = 30.0) -> bool:
        """Restart adbd as root where the build allows it (AVD ``google_apis`` images,
        userdebug builds); True when the shell is root afterwards. App databases and the
        clock need root on a real device."""
        if self.shell("id -u", timeout=10).stdout.strip() == "0":
            return True
        with _adb_errors(self.serial):
            self.round_trips += 1
            answer = str(self._adb.root())
        if "cannot run as root" in answer:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.server.wait_online(self.serial, timeout=max(1.0, deadline - time.monotonic()))
                if self.shell("id -u", timeout=10).stdout.strip() == "0":
                    return True
            except AndroidError:
                pass
            time.sleep(0.5)
        return False

    def is_alive(self) -> bool:
        """True when adb reports the device online and its shell answers."""
        try:
            return self.server.state(self.serial) == "device" and (
                self.shell("echo ok", timeout=10).stdout.strip() == "ok"
            )
        except AndroidError:
            return False

    # -- seeding and state (rig.world.Device) -----------------------------------
    def seed(self, plan: Any) -> Mapping[str, Any]:
        from emulator.seeding import apply_plan

        return apply_plan(self, plan)

    def read_state(self, query: Any) -> Any:
        from emulator.readers import read_state

        return read_state(self, query)

    def pause(self) -> None:
        """Stop the emulator's guest (console ``avd stop``): its clock stands until
        :meth:`resume`."""
        if not self._paused:
            self._console_command("avd stop")
            self._paused = True

    def resume(self) -> None:
        """Undo :meth:`pause` (console ``avd start``); nothing when not paused here."""
        if self._paused:
            self._console_command("avd start")
            self._paused = False

    def _console_command(self, line: str) -> list[str]:
        from emulator.console import Console

        if self.console is None:
            raise AndroidError(f"{self.role}: no emulator console known for {line!r}")
        port, token_path = self.console
        with Console(port, token_path=token_path, timeout=10) as con:
            return con.command(line)

    def close(self) -> None:
        """Nothing host-side outlives a call (a paused emulator is resumed first, so its
        release can talk to it)."""
        if self._paused:
            try:
                self.resume()
            except AndroidError:
                self._paused = False
        self._u2_ok = None
