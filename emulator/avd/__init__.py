"""Real Android emulators from the SDK: find the SDK, create AVDs, boot, stop, reap.

An emulator is started headless on a console/adb port pair leased under a
file lock (so parallel workers never collide), reached with ``adb connect
127.0.0.1:ADB_PORT``, and declared ready when ``sys.boot_completed`` is 1,
``pm path android`` answers and the screen settles. Every failure is
classified into one :class:`~emulator.errors.BootError` subclass with the
emulator's log tail attached, instead of a bare timeout.

Each launched emulator carries ``CLAWRIG_RUN_ID`` and an owner label
(:mod:`hostproc.labels`) in its environment and is listed in a registry next
to the port leases, so :func:`reap` can have the one reaper stop emulators that
a crashed run left behind, and free what they held.

One module per concern: ``sdk`` (finding the SDK, AVDs), ``ports`` (leases),
``instances`` (a launched emulator, the registry), ``launcher`` (boot, wait,
diagnose, stop) and ``reaper``.
"""

from __future__ import annotations

from emulator.avd.instances import EmulatorInstance, Registry
from emulator.avd.launcher import Launcher, classify_log
from emulator.avd.ports import FIRST_CONSOLE_PORT, LAST_CONSOLE_PORT, RUN_ID_ENV, PortAllocator
from emulator.avd.reaper import reap
from emulator.avd.sdk import (
    Sdk,
    avd_config,
    avd_dir,
    avd_home,
    create_avd,
    find_sdk,
    has_snapshot,
    installed_images,
    list_avds,
)

__all__ = [
    "FIRST_CONSOLE_PORT",
    "LAST_CONSOLE_PORT",
    "RUN_ID_ENV",
    "EmulatorInstance",
    "Launcher",
    "PortAllocator",
    "Registry",
    "Sdk",
    "avd_config",
    "avd_dir",
    "avd_home",
    "classify_log",
    "create_avd",
    "find_sdk",
    "has_snapshot",
    "installed_images",
    "list_avds",
    "reap",
]
