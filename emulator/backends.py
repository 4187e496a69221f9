"""The three Android backends of rig.world: ``sim``, ``avd`` and ``attach``.

Each is built from a typed :class:`~emulator.config.AndroidBackendConfig`
(the ``[android]`` section, the cache and the shell limits; this package never
imports ``rig``) and hands out :class:`~emulator.device.AdbAndroidDevice` objects, so every
backend's devices are driven by the same code. Only the lifecycle differs:

* ``sim`` starts one virtual phone process per device on free ports;
* ``avd`` boots real emulators (read-only instances of one AVD, from a
  configured snapshot when there is one);
* ``attach`` lends existing serials.

Every episode gets fresh devices (``acquire``) and gives them back (``release``);
nothing is reset in place, so no backend offers it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock

from emulator.adb import AdbServer
from emulator.agent import start_agent, stop_agent
from emulator.apks import install_apks
from emulator.apps import apps_for
from emulator.attach import SerialLeases, attach
from emulator.avd import (
    EmulatorInstance,
    Launcher,
    PortAllocator,
    Sdk,
    avd_dir,
    find_sdk,
    has_snapshot,
    list_avds,
    reap,
)
from emulator.config import AndroidBackendConfig
from emulator.device import AdbAndroidDevice
from emulator.errors import AndroidError, SdkNotFound


def _typed(config: Any) -> AndroidBackendConfig:
    if not isinstance(config, AndroidBackendConfig):
        raise TypeError(
            f"an Android backend takes an AndroidBackendConfig "
            f"(RigConfig.backend_config('android')), not {type(config).__name__}"
        )
    return config


class _AndroidBackend:
    kind: Literal["android"] = "android"
    name = ""

    def __init__(self, config: AndroidBackendConfig, *, server: AdbServer | None = None) -> None:
        self.config = _typed(config)
        self._server = server
        self._server_lock = threading.Lock()
        self.output_cap = config.shell_output_cap
        self.shell_timeout = config.shell_timeout_s

    @property
    def server(self) -> AdbServer:
        """The adb server (``android.adb`` binary; started on first use if local)."""
        with self._server_lock:
            if self._server is None:
                self._server = AdbServer(adb=self.config.android.adb)
                self._server.start()
            return self._server

    def _prepare(self, device: AdbAndroidDevice) -> None:
        """What every device needs before a world uses it: the configured APKs, then a way
        to type any text (uiautomator2's agent, else the ADB Keyboard), or a
        :class:`~emulator.errors.DeviceUnfit` saying what to install."""
        android = self.config.android
        device.apks = install_apks(device, list(android.apks))
        device.text_input = start_agent(device)
        device.apps = apps_for(device, android.app_profile, android.app_profiles)

    def _device(self, serial: str, role: str) -> AdbAndroidDevice:
        return AdbAndroidDevice(
            self.server,
            serial,
            role=role,
            output_cap=self.output_cap,
            shell_timeout=self.shell_timeout,
        )


class SimBackend(_AndroidBackend):
    """Virtual phones, one subprocess each, state under the device's workdir."""

    name = "sim"

    def __init__(self, config: AndroidBackendConfig, *, server: AdbServer | None = None) -> None:
        super().__init__(config, server=server)
        self.size = config.android.sim.size
        self.density = config.android.sim.density
        self._phones: dict[str, tuple[Any, Path]] = {}

    def acquire(
        self, role: str, workdir: Path, *, snapshot: Path | None = None
    ) -> AdbAndroidDevice:
        """A new virtual phone; with ``snapshot`` (a folder the console's ``avd snapshot
        save`` wrote) it starts in that saved state, as ``emulator -snapshot NAME`` does."""
        from emulator.sim.console import write_token
        from emulator.sim.phone import spawn_phone

        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        token = workdir / "console_token"
        write_token(token, secrets.token_urlsafe(12))
        name = None
        if snapshot is not None:
            name = "clawrig-start"
            shutil.copytree(snapshot, workdir / "phone" / "snapshots" / name, symlinks=True)
        phone = spawn_phone(
            workdir / "phone",
            size=self.size,
            density=self.density,
            console_token_path=token,
            snapshot=name,
        )
        try:
            serial = self.server.connect(phone.serial)
            device = self._device(serial, role)
            device.console = (phone.console_port, token)
            device.host_logs = {"sim-stderr.txt": phone.log_path}
            # Where the console's ``avd snapshot save`` writes: world checkpoints copy from
            # and into it (an AVD keeps its snapshots in its own folder).
            device.snapshot_dir = workdir / "phone" / "snapshots"
            # Its ``avd snapshot load`` copies from the snapshot and never writes to it.
            device.snapshot_load_reads_only = True
            device.disable_animations()
            self._prepare(device)
        except BaseException:
            phone.stop()
            raise
        self._phones[serial] = (phone, token)
        return device

    def release(self, device: Any) -> None:
        entry = self._phones.pop(device.serial, None)
        self.server.disconnect(device.serial)
        if entry is not None:
            entry[0].stop()


class AvdBackend(_AndroidBackend):
    """Real emulators of the SDK's AVD ``android.avd.name``.

    Instances run ``-read-only`` so that any number of one AVD can run at
    once. With ``android.avd.snapshot`` set, the snapshot is created once (a
    writable cold boot, then console ``avd snapshot save``) and every instance
    boots from it.
    """

    name = "avd"

    def __init__(
        self,
        config: AndroidBackendConfig,
        *,
        server: AdbServer | None = None,
        state_dir: Path | None = None,
        run_id: str | None = None,
        console_token: Path | None = None,
        ports: PortAllocator | tuple[int, int] | None = None,
        sdk: Sdk | None = None,
    ) -> None:
        super().__init__(config, server=server)
        avd = config.android.avd
        self.sdk = sdk or find_sdk(avd.sdk)
        name = avd.name
        if not name:
            avds = list_avds(self.sdk)
            if len(avds) != 1:
                raise SdkNotFound(
                    "android.avd.name is not set; AVDs in "
                    f"{self.sdk.avd_home}: {', '.join(avds) or 'none'}"
                )
            name = avds[0]
        avd_dir(self.sdk, name)
        self.avd = str(name)
        self.snapshot: str | None = avd.snapshot
        self.boot_timeout = avd.boot_timeout_s
        self.state_dir = Path(state_dir) if state_dir else config.cache.expanduser() / "avd"
        self.run_id = run_id or os.environ.get("CLAWRIG_RUN_ID") or f"rig-{uuid.uuid4().hex[:10]}"
        self._ports = ports
        self._console_token = console_token
        self._launcher: Launcher | None = None
        self._instances: dict[str, tuple[EmulatorInstance, Path]] = {}
        self._started_from: dict[str, Path] = {}  # serial -> the snapshot it booted from

    @property
    def launcher(self) -> Launcher:
        if self._launcher is None:
            ports = self._ports
            if isinstance(ports, tuple):
                ports = PortAllocator(self.state_dir, *ports)
            self._launcher = Launcher(
                self.sdk,
                self.server,
                self.state_dir,
                run_id=self.run_id,
                accel=self.config.android.avd.accel,
                ports=ports,
                console_token=self._console_token,
            )
            # Emulators of crashed runs stop, and the registry forgets the dead ones.
            reap(self._launcher)
        return self._launcher

    def ensure_snapshot(self, workdir: Path) -> None:
        """Create the configured snapshot once, under a lock shared by every worker."""
        if not self.snapshot:
            return
        lock = FileLock(str(self.state_dir / f"snapshot-{self.avd}.lock"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with lock:
            if has_snapshot(self.sdk, self.avd, self.snapshot):
                return
            inst = self.launcher.boot(self.avd, Path(workdir), timeout=self.boot_timeout)
            try:
                dev = self._device(inst.serial, "snapshot")
                dev.ensure_root()
                dev.disable_animations()
                self.launcher.save_snapshot(inst, self.snapshot)
            finally:
                self.launcher.stop(inst)

    def acquire(
        self, role: str, workdir: Path, *, snapshot: Path | None = None
    ) -> AdbAndroidDevice:
        """A read-only instance of the AVD, booted from ``android.avd.snapshot`` when set.

        With ``snapshot`` (a folder the console's ``avd snapshot save`` wrote, a world
        checkpoint's copy) it is put into the AVD's snapshots folder under a name of its own
        and the instance boots from it (``-snapshot NAME``); the copy goes at release. A
        snapshot the emulator cannot load is its :class:`SnapshotIncompatible`, not a cold
        boot."""
        workdir = Path(workdir)
        start = None
        if snapshot is None:
            self.ensure_snapshot(workdir)
        else:
            start = self._install_snapshot(Path(snapshot))
        try:
            inst = self.launcher.boot(
                self.avd,
                workdir,
                timeout=self.boot_timeout,
                read_only=True,
                snapshot=start.name if start else self.snapshot,
            )
        except BaseException:
            if start is not None:
                shutil.rmtree(start, ignore_errors=True)
            raise
        device = self._device(inst.serial, role)
        device.console = (inst.console_port, self._console_token)
        device.can_pause = True  # the emulator's console stops and starts its guest
        device.host_logs = {"emulator-stderr.txt": inst.log_path}
        # The emulator keeps console-saved snapshots in the AVD's own folder.
        device.snapshot_dir = avd_dir(self.sdk, self.avd) / "snapshots"
        self._instances[inst.serial] = (inst, workdir)
        if start is not None:
            self._started_from[inst.serial] = start
        try:
            device.ensure_root()
            device.disable_animations()
            self._prepare(device)
        except AndroidError:
            self.release(device)
            raise
        return device

    def _install_snapshot(self, source: Path) -> Path:
        """Copy a saved snapshot into the AVD's snapshots folder under a fresh name."""
        folder = avd_dir(self.sdk, self.avd) / "snapshots"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"clawrig-start-{uuid.uuid4().hex[:10]}"
        staging = folder / f".{name}.tmp"
        try:
            shutil.copytree(source, staging, symlinks=True)
            os.replace(staging, folder / name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return folder / name

    def instance(self, device: Any) -> EmulatorInstance:
        return self._instances[device.serial][0]

    def release(self, device: Any) -> None:
        stop_agent(device)
        entry = self._instances.pop(device.serial, None)
        if entry is not None:
            self.launcher.stop(entry[0])
        start = self._started_from.pop(device.serial, None)
        if start is not None:  # the instance is gone: nothing reads its snapshot any more
            shutil.rmtree(start, ignore_errors=True)


class AttachBackend(_AndroidBackend):
    """Existing serials from ``android.attach.serials``; devices are lent, never wiped."""

    name = "attach"

    def __init__(
        self,
        config: AndroidBackendConfig,
        *,
        server: AdbServer | None = None,
        online_timeout: float = 30.0,
    ) -> None:
        super().__init__(config, server=server)
        self.online_timeout = online_timeout
        self.leases = SerialLeases(list(self.config.android.attach.serials))

    def acquire(self, role: str, workdir: Path) -> AdbAndroidDevice:
        serial = self.leases.take()
        try:
            serial = attach(self.server, serial, timeout=self.online_timeout)
        except BaseException:
            self.leases.give_back(serial)
            raise
        device = self._device(serial, role)
        try:
            self._prepare(device)
        except BaseException:
            self.leases.give_back(serial)
            raise
        return device

    def release(self, device: Any) -> None:
        stop_agent(device)
        self.leases.give_back(device.serial)
