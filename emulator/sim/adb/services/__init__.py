"""The device services a host can OPEN, resolved by name."""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import partial

from emulator.sim.adb.services.shell import ShellService
from emulator.sim.adb.services.sync import serve_sync
from emulator.sim.adb.services.tcp import ReverseTable, serve_tcp
from emulator.sim.adb.stream import Stream
from emulator.sim.contracts import PhoneContext

Handler = Callable[[Stream], None]


class ServiceTable:
    """Maps an OPEN's service string to the function that serves the stream."""

    def __init__(self, ctx: PhoneContext) -> None:
        self.ctx = ctx
        self.shell = ShellService(ctx)
        self.reverse = ReverseTable()

    def resolve(self, name: str) -> Handler | None:
        kind = name.split(":", 1)[0]
        if kind == "shell" or kind.startswith("shell,"):
            return self.shell.shell
        if kind == "exec":
            return self.shell.exec
        if kind in ("abb", "abb_exec"):
            return self.shell.abb
        if name == "sync:":
            return partial(serve_sync, self.ctx)
        if kind == "tcp":
            return partial(serve_tcp, self.ctx)
        if kind == "reverse":
            return self.reverse.serve
        if name in ("root:", "unroot:"):
            return _root
        if name == "framebuffer:":
            return partial(serve_framebuffer, self.ctx)
        return None


# ``framebuffer:`` header, version 1: version, bpp, size, width, height, then
# offset/length of red, blue, green, alpha; the raw RGBA pixels follow.
FB_HEADER = struct.Struct("<13I")


def serve_framebuffer(ctx: PhoneContext, stream: Stream) -> None:
    """The raw screen, for clients that skip PNG (adbutils ``framebuffer()``, DDMS)."""
    if ctx.ui is None:
        return
    stream.accept()
    pixels = ctx.ui.screenshot().convert("RGBA")
    width, height = pixels.size
    data = pixels.tobytes()
    stream.write(FB_HEADER.pack(1, 32, len(data), width, height, 0, 8, 16, 8, 8, 8, 24, 8))
    stream.write(data)


def _root(stream: Stream) -> None:
    """The phone is a production build whose shell is uid 2000, as adbd reports it."""
    stream.accept()
    if stream.service == "root:":
        stream.write(b"adbd cannot run as root in production builds\n")
    else:
        stream.write(b"adbd not running as root\n")
