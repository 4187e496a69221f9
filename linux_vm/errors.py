"""Typed failures of the Linux layer.

All are infrastructure failures except :class:`LinuxInputError` (bad input) and
:class:`GuestRefused` (the guest said no to a file operation on a machine that is fine).
"""

from __future__ import annotations


class VMError(Exception):
    """A Linux machine or its backend failed; ``log_tail`` carries the console/QEMU log."""

    def __init__(self, message: str, *, log_tail: str = "") -> None:
        super().__init__(message)
        self.log_tail = log_tail

    def __str__(self) -> str:
        text = super().__str__()
        if self.log_tail:
            text += "\n--- console log (tail) ---\n" + self.log_tail.rstrip()
        return text


class ImageBuildError(VMError):
    """Building the base image failed; nothing half-built is left in the cache."""


class BootError(VMError):
    """The VM did not reach a usable SSH shell in time."""


class DeviceLost(VMError):
    """A VM that was up stopped answering (killed, hung, SSH dropped)."""


class SeedMismatch(VMError):
    """What was read back after seeding differs from the plan; names the first record."""


class LinuxInputError(ValueError):
    """A caller asked for something invalid (path outside the allowed roots, bad mode)."""


class GuestShutDown(ValueError):
    """The machine powered off, rebooted or panicked from inside (``sudo poweroff``):
    whatever ran in it did that, so it is not infrastructure. The machine takes no
    more commands; QEMU holds it paused so the rig can tell this from a killed VM."""


class GuestRefused(OSError):
    """The guest refused a file operation and the machine is fine (a directory read as a
    file, a rename onto a directory, an SFTP server that closed its channel): the caller's
    problem, never the device's. Errors with an errno stay ``FileNotFoundError`` etc."""
