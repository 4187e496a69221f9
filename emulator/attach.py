"""Existing Android devices: physical phones, redroid containers, remote adb servers.

Serials come from config ``android.attach.serials``. A ``host:port`` serial is
``adb connect``-ed first; a remote adb server is chosen the way the adb CLI
chooses it, with ``ADB_SERVER_SOCKET=tcp:HOST:PORT`` (see :mod:`emulator.adb`).
The rig cannot reset an attached device; it only hands it out and takes it back.
"""

from __future__ import annotations

import re
import threading

from emulator.adb import AdbServer
from emulator.errors import AdbOffline, AndroidError, DeviceLost

_HOST_PORT = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")


def is_network_serial(serial: str) -> bool:
    """True for ``host:port`` serials, which need ``adb connect`` before use."""
    return bool(_HOST_PORT.match(serial)) and not serial.startswith("emulator-")


def attach(server: AdbServer, serial: str, timeout: float = 30.0) -> str:
    """Make ``serial`` usable on ``server`` (connect if network) and wait until it is online."""
    if is_network_serial(serial):
        return server.connect(serial, timeout=timeout)
    try:
        server.wait_online(serial, timeout=timeout)
    except AdbOffline as exc:
        known = server.serials()
        listing = ", ".join(f"{s} ({st})" for s, st in known.items()) or "none"
        raise DeviceLost(f"attached device {serial!r} is not online (adb sees: {listing})") from exc
    return serial


class SerialLeases:
    """Which configured serials are handed out, so two roles never get the same device."""

    def __init__(self, serials: list[str]) -> None:
        if len(set(serials)) != len(serials):
            raise AndroidError(f"android.attach.serials lists a serial twice: {serials}")
        self.serials = list(serials)
        self._taken: set[str] = set()
        self._lock = threading.Lock()

    def take(self) -> str:
        with self._lock:
            for serial in self.serials:
                if serial not in self._taken:
                    self._taken.add(serial)
                    return serial
        if not self.serials:
            raise AndroidError("android.attach.serials is empty: list the devices to attach")
        raise AndroidError(f"all attached devices are in use ({', '.join(self.serials)})")

    def give_back(self, serial: str) -> None:
        with self._lock:
            self._taken.discard(serial)
