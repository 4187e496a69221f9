"""The device side of the ADB transport: packets, streams, services, the listening port.

``AdbServer(ctx, port)`` is the entry point; see ``shared/reference/ADB_PROTOCOL.md``
for the wire facts it implements.
"""

from emulator.sim.adb.server import FEATURES, AdbServer

__all__ = ["FEATURES", "AdbServer"]
