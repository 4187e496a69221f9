"""Typed failures of the Android layer.

Every class here is an infrastructure failure (the rig retries it and never
blames the agent), except :class:`AndroidInputError`, which reports bad input
from a caller (an unknown key name, coordinates off screen).
"""

from __future__ import annotations


class AndroidError(Exception):
    """An Android device or backend failed; ``log_tail`` carries the device's own log."""

    def __init__(self, message: str, *, serial: str | None = None, log_tail: str = "") -> None:
        super().__init__(message)
        self.serial = serial
        self.log_tail = log_tail

    def __str__(self) -> str:
        text = super().__str__()
        if self.log_tail:
            text += "\n--- device log (tail) ---\n" + self.log_tail.rstrip()
        return text


class BootError(AndroidError):
    """The device never became ready (no KVM, port busy, emulator exited, timeout)."""


class DeviceLost(AndroidError):
    """A device that was ready went away (adb offline, process died)."""


class SeedMismatch(AndroidError):
    """What was read back after seeding differs from the plan; names the first record."""


class AndroidInputError(ValueError):
    """A caller asked for something the device cannot do as given (bad key, off-screen tap)."""


class SdkNotFound(BootError):
    """The Android SDK (or one of its tools, or the named AVD/system image) is not installed."""


class NoKvm(BootError):
    """The emulator needs hardware acceleration and ``/dev/kvm`` is missing or not usable."""


class PortBusy(BootError):
    """The console or adb port the emulator was given is already taken."""


class AdbOffline(BootError):
    """The emulator runs but adb never saw it online (or it stayed ``offline``)."""


class SnapshotIncompatible(BootError):
    """The requested snapshot cannot be loaded (missing, or saved by another emulator/image)."""


class EmulatorExited(BootError):
    """The emulator process ended before the device was ready; the log tail says why."""


class BootTimeout(BootError):
    """The device did not finish booting before the deadline."""


class ConsoleError(AndroidError):
    """The emulator console refused a command (``KO: ...``), rejected auth, or went away."""


class DeviceUnfit(BootError):
    """The device came up but lacks what the rig needs on it (uiautomator2's agent or the
    ADB Keyboard, an APK that would not install); the message says what to install."""
