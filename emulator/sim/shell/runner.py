"""The phone's ``/system/bin/sh``: what the transport calls for ``shell:`` and ``exec:``."""

from __future__ import annotations

import logging
from typing import Any

from emulator.sim.contracts import OutputSink
from emulator.sim.shell.commands import all_commands
from emulator.sim.shell.interp import ExitShell, InStream, Interp, Io, _Break, _Return

log = logging.getLogger(__name__)

# The environment of an ``adb shell`` on a stock Android 14 phone.
BASE_ENV = {
    "PATH": "/product/bin:/apex/com.android.runtime/bin:/apex/com.android.art/bin:"
    "/system_ext/bin:/system/bin:/system/xbin:/odm/bin:/vendor/bin:/vendor/xbin",
    "HOME": "/",
    "USER": "shell",
    "LOGNAME": "shell",
    "SHELL": "/bin/sh",
    "HOSTNAME": "localhost",
    "TMPDIR": "/data/local/tmp",
    "EXTERNAL_STORAGE": "/sdcard",
    "ANDROID_DATA": "/data",
    "ANDROID_ROOT": "/system",
    "ANDROID_STORAGE": "/storage",
    "ASEC_MOUNTPOINT": "/mnt/asec",
    "BOOTCLASSPATH": "/apex/com.android.art/javalib/core-oj.jar",
    "TERM": "dumb",
    "IFS": " \t\n",
    "PWD": "/",
}


class Shell:
    """A :class:`~emulator.sim.contracts.ShellRunner` over one phone's context."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.commands = dict(all_commands())
        self._app_dirs()

    def _app_dirs(self) -> None:
        """Every installed package has its private ``/data/data/PKG``, as on a phone."""
        from emulator.sim.shell.commands.android_pm import installed

        interp = self._interp()
        for pkg, _path in installed(interp):
            try:
                self.ctx.vfs.mkdir(f"/data/data/{pkg}")
            except OSError:
                log.warning("could not create /data/data/%s", pkg)

    def _interp(self) -> Interp:
        env = dict(BASE_ENV)
        env["ANDROID_SERIAL"] = getattr(self.ctx, "serial", "")
        return Interp(self.ctx, self.commands, env)

    def run(self, command: str, stdin: bytes, write: OutputSink) -> int:
        """One ``adb shell CMD``: a fresh shell process for each command line."""
        return _run(self._interp(), command, stdin, write)

    def session(self) -> ShellSession:
        """An interactive shell: variables, ``cd`` and ``$?`` carry over between lines."""
        return ShellSession(self._interp())

    def capture(self, command: str, stdin: bytes = b"") -> tuple[int, bytes, bytes]:
        """Run and collect ``(status, stdout, stderr)``; for apps, tests and seeders."""
        out, err = bytearray(), bytearray()

        def write(fd: int, data: bytes) -> None:
            (out if fd == 1 else err).extend(data)

        status = self.run(command, stdin, write)
        return status, bytes(out), bytes(err)


class ShellSession:
    """A :class:`~emulator.sim.contracts.ShellRunner` that keeps one shell's state across lines.

    ``exited`` turns true when a line ran ``exit``; the caller ends the session then.
    """

    def __init__(self, interp: Interp) -> None:
        self.interp = interp
        self.exited = False

    def run(self, command: str, stdin: bytes, write: OutputSink) -> int:
        try:
            return _run(self.interp, command, stdin, write, catch_exit=False)
        except ExitShell as exc:
            self.exited = True
            self.interp.status = exc.code
            return exc.code


def _run(sh: Interp, command: str, stdin: bytes, write: OutputSink, catch_exit: bool = True) -> int:
    io = Io(InStream(stdin), lambda b: write(1, b), lambda b: write(2, b))
    try:
        return sh.run_text(command, io)
    except ExitShell as exc:
        if not catch_exit:
            raise
        return exc.code
    except _Break:
        return sh.status
    except _Return as r:  # `return` outside a function ends the script, as in mksh
        sh.status = r.code
        return r.code
    except RecursionError:
        io.err("/system/bin/sh: too deeply nested\n")
        sh.status = 2
        return 2
