"""The world model: the device contracts every backend meets, and the world that holds them.

A task names devices by role and kind (``phone: android``, ``laptop: linux``);
configuration picks the backend for each kind. Every Android backend (virtual
phone, AVD, attached serial) is driven by the same adbutils code, so the two
contracts below are about *operations*, and a backend is only about
*lifecycle*: how a device comes to exist, is reset, and goes away.

The contracts are structural (:class:`typing.Protocol`) because device
packages must not import ``rig``; ``isinstance(dev, AndroidDevice)`` checks
that a backend's device offers every operation.

Coordinates are screen pixels of the current orientation, origin top-left;
durations are milliseconds; times are timezone-aware datetimes.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from rig.config import RigConfig
from rig.errors import ConfigInvalid, NotBuiltYet

DeviceKind = Literal["android", "linux"]


@runtime_checkable
class ShellOutput(Protocol):
    """What a shell command left: text decoded as UTF-8 (with replacement) and its status."""

    stdout: str
    stderr: str
    exit_code: int


@runtime_checkable
class Device(Protocol):
    """Operations every device has, whatever its kind."""

    role: str
    kind: DeviceKind

    def shell(self, command: str, timeout: float | None = None) -> ShellOutput:
        """Run ``command`` in the device's own shell (never the host's)."""
        ...

    def set_clock(self, now: datetime, timezone: str) -> None:
        """Freeze (or set) the device clock to the task's "now" in an IANA timezone."""
        ...

    def seed(self, plan: Any) -> Mapping[str, Any]:
        """Apply a compiled seed plan in as few round trips as possible, read it back,
        and return a digest of the seeded state; raise the layer's ``SeedMismatch``
        naming the first differing record when it does not read back."""
        ...

    def read_state(self, query: Any) -> Any:
        """Answer one state query (scoring and seed checks read devices only this way).

        A query is the device layer's typed query or a mapping naming its ``kind``.
        Every device answers these alike, paths starting ``~/`` in the user's home:

        * ``{"kind": "file", "path"}`` -> ``bytes``; ``FileNotFoundError`` when missing
        * ``{"kind": "sha256", "path"}`` -> hex digest of the file
        * ``{"kind": "tree_hashes", "root"}`` -> ``{path: sha256}`` of the regular files
          under ``root`` (``{}`` when it does not exist)
        * ``{"kind": "command", "command", "timeout"}`` -> ``{"stdout", "stderr",
          "exit_code"}``, run on its own, never in the agent's shell session

        and their own kinds besides (Android: ``provider``, ``contacts``, ``app_db``,
        ``file_hashes``, ``setting``, ``ui``; Linux: ``list_dir``, ``sqlite``,
        ``maildir``, ``crontab``). A bad query raises the layer's input error; a
        device that is gone raises its ``DeviceLost``. Services answer the same way.
        """
        ...

    def close(self) -> None:
        """Release host resources held for this device (connections, not the device)."""
        ...


@runtime_checkable
class AndroidDevice(Device, Protocol):
    """An Android device driven over adb (AVD, attached device or the virtual phone).

    Exactly what the controller's actions use; the rest of what a phone offers is
    the device layer's (``emulator.device.AdbAndroidDevice``) or a ``read_state`` query.
    """

    def screenshot(self) -> Any:
        """The current screen as a ``PIL.Image.Image`` in RGB, ``[height, width]`` pixels."""
        ...

    def ui_tree(self) -> str:
        """The ``uiautomator dump`` XML of the current screen."""
        ...

    def tap(self, x: int, y: int) -> None: ...

    def long_press(self, x: int, y: int, duration_ms: int = 800) -> None: ...

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None: ...

    def type_text(self, text: str) -> None:
        """Type into the focused field; any Unicode text."""
        ...

    def key(self, name: str) -> None:
        """Press a named key (``home``, ``back``, ``enter``, ``recents`` …)."""
        ...

    def launch(self, package: str) -> None: ...

    def window_size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels for the current rotation."""
        ...


@runtime_checkable
class LinuxDevice(Device, Protocol):
    """A Linux machine reached over SSH (a QEMU VM or an attached host)."""

    def exec(
        self, command: str, timeout: float | None = None, output_cap: int | None = None
    ) -> ShellOutput:
        """Run ``command`` alone on a new channel, sharing nothing with :meth:`shell`
        (``rig vm exec``); output past ``output_cap`` bytes is dropped."""
        ...

    def read_file(self, path: str) -> bytes: ...

    def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """The lifecycle of one kind of device: provide, reset and dispose of devices."""

    kind: DeviceKind
    name: str

    def acquire(self, role: str, workdir: Path) -> Device:
        """A ready device in its clean state (booted or reset); ``workdir`` is private to it."""
        ...

    def release(self, device: Device) -> None:
        """Stop or return the device; must not raise for an already-dead device."""
        ...


# Backend name -> "module:factory". A factory takes the typed config of its kind
# (RigConfig.backend_config(kind)) and returns a Backend.
# Imports are lazy so that a missing optional backend only fails when chosen.
BACKENDS: dict[tuple[DeviceKind, str], str] = {
    ("android", "sim"): "emulator.backends:SimBackend",
    ("android", "avd"): "emulator.backends:AvdBackend",
    ("android", "attach"): "emulator.backends:AttachBackend",
    ("linux", "qemu"): "linux_vm.backends:QemuBackend",
    ("linux", "attach"): "linux_vm.backends:AttachBackend",
}


def backend_names(kind: DeviceKind) -> list[str]:
    return sorted(name for (k, name) in BACKENDS if k == kind)


def make_backend(kind: DeviceKind, name: str, config: RigConfig) -> Backend:
    """Instantiate the backend registered for ``(kind, name)``."""
    target = BACKENDS.get((kind, name))
    if target is None:
        allowed = ", ".join(backend_names(kind)) or "none"
        raise ConfigInvalid(f"devices.{kind}: unknown backend {name!r}; expected one of {allowed}")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        factory = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise NotBuiltYet(f"the {kind} backend {name!r} is not available yet ({exc})") from exc
    return factory(config.backend_config(kind))


@dataclass
class World:
    """The devices (by role) and services of one episode, with the task's frozen clock.

    ``world["phone"]`` is the device playing the role ``phone``.
    """

    now: datetime | None = None
    timezone: str = "UTC"
    devices: dict[str, Device] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)
    _owners: dict[str, Backend] = field(default_factory=dict, repr=False)
    _service_stack: Any = field(default=None, repr=False)

    def __getitem__(self, role: str) -> Device:
        try:
            return self.devices[role]
        except KeyError:
            known = ", ".join(sorted(self.devices)) or "none"
            raise KeyError(f"no device with role {role!r} (roles: {known})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.devices)

    def __len__(self) -> int:
        return len(self.devices)

    def add(self, device: Device, owner: Backend | None = None) -> None:
        if device.role in self.devices:
            raise ValueError(f"role {device.role!r} is already in the world")
        self.devices[device.role] = device
        if owner is not None:
            self._owners[device.role] = owner

    def attach_services(self, stack: Any) -> None:
        """Hold a started :class:`rig.services.stack.ServiceStack`; ``close`` stops it."""
        self._service_stack = stack
        self.services = dict(stack.services)

    @property
    def service_stack(self) -> Any:
        """The :class:`rig.services.stack.ServiceStack` held (``None`` without services)."""
        return self._service_stack

    def check_services(self) -> None:
        """Raise the services' infra error if any of them stopped answering."""
        if self._service_stack is not None:
            self._service_stack.check_alive()

    def resume_all(self) -> None:
        """Run every device that can be paused (a VM a stepped clock, or anything else,
        stopped): what reads them next would wait on a stopped guest. Never raises: a device
        that went away is found by whoever uses it next."""
        for device in self.devices.values():
            if getattr(device, "can_pause", False):
                with contextlib.suppress(Exception):
                    device.resume()

    def freeze_clocks(self) -> None:
        """Set every device to the task's "now" before anything is seeded."""
        if self.now is None:
            return
        for device in self.devices.values():
            device.set_clock(self.now, self.timezone)

    def release(self, role: str) -> None:
        """Close and give back one device (a world kept warm keeps only its phones)."""
        device = self.devices.pop(role)
        owner = self._owners.pop(role, None)
        try:
            device.close()
        finally:
            if owner is not None:
                owner.release(device)

    def stop_services(self) -> None:
        """Stop the services held (never raises: one that will not stop is killed)."""
        if self._service_stack is not None:
            stack, self._service_stack = self._service_stack, None
            self.services = {}
            stack.stop()

    def owner(self, role: str) -> Backend | None:
        """The backend that handed out ``role``'s device."""
        return self._owners.get(role)

    def close(self) -> None:
        """Release every device; keeps going past failures and re-raises the first."""
        first: BaseException | None = None
        for role in list(self.devices):
            device = self.devices.pop(role)
            owner = self._owners.pop(role, None)
            try:
                device.close()
                if owner is not None:
                    owner.release(device)
            except Exception as exc:
                first = first or exc
        if self._service_stack is not None:
            stack, self._service_stack = self._service_stack, None
            self.services = {}
            stack.stop()  # never raises: a service that will not stop is killed
        if first is not None:
            raise first

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
