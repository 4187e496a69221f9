"""A virtual phone with a token-protected emulator console, on a private adb server: for
tests where a service texts the phone (the bank's codes) or a VM test needs one beside it."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

from emulator.adb import AdbServer
from emulator.device import AdbAndroidDevice


@contextlib.contextmanager
def console_phone(root: Path) -> Iterator[AdbAndroidDevice]:
    """The phone (role ``phone``, 720x1280) under ``root``; stopped with its server after."""
    from emulator.sim.console import write_token
    from emulator.sim.phone import spawn_phone

    token = root / "console_token"
    write_token(token, secrets.token_urlsafe(12))
    proc = spawn_phone(root / "phone", size="720x1280", density=320, console_token_path=token)
    server = AdbServer.private()
    try:
        device = AdbAndroidDevice(server, server.connect(proc.serial), role="phone")
        device.console = (proc.console_port, token)
        yield device
    finally:
        server.kill()
        proc.stop()
