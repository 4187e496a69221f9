"""The Linux backends behind ``rig.world``'s Backend contract: ``qemu`` and ``attach``.

Both take a typed :class:`~linux_vm.config.LinuxBackendConfig` (the ``[linux]``
section, the cache and the shell limits; this package never imports ``rig``).

``QemuBackend.acquire`` builds the image if it is missing, picks the
accelerator (probe, cached; ``accel`` overrides), makes the saved booted state
once, then restores every device from it onto a fresh overlay in ``workdir``.
A restore that fails falls back to a cold boot, and ``device.boot`` says so.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from linux_vm.accel import resolve_accel
from linux_vm.config import LinuxBackendConfig
from linux_vm.device import LinuxVM, SshLinuxDevice
from linux_vm.errors import LinuxInputError, VMError
from linux_vm.image import SETTIME, Image, build_image, find_image
from linux_vm.qemu import SERVICE_ADDR, create_overlay, reap_orphans
from linux_vm.snapshot import (
    BootRecord,
    boot_cold,
    ensure_snapshot,
    restore,
    restore_running,
    snapshot_key,
)
from linux_vm.ssh import SshSession

log = logging.getLogger(__name__)


def _typed(config: Any) -> LinuxBackendConfig:
    if not isinstance(config, LinuxBackendConfig):
        raise TypeError(
            f"a Linux backend takes a LinuxBackendConfig "
            f"(RigConfig.backend_config('linux')), not {type(config).__name__}"
        )
    return config


class QemuBackend:
    """Real QEMU VMs from the cached Debian image. ``forwards`` maps guest ports on
    ``service_address`` (10.0.2.100) to the world's services on host loopback ports."""

    kind = "linux"
    name = "qemu"

    def __init__(
        self,
        config: LinuxBackendConfig,
        *,
        accel: str | None = None,
        forwards: Mapping[int, int] | None = None,
        progress: Callable[[str], None] | None = None,
        use_snapshot: bool = True,
    ) -> None:
        qemu = _typed(config).linux.qemu
        self.cache = config.cache.expanduser()
        self.image_name = qemu.image
        self.memory_mb = qemu.memory_mb
        self.cpus = qemu.cpus
        self.requested_accel = accel or qemu.accel
        self.boot_timeout = qemu.boot_timeout_s
        self.shell_timeout = config.shell_timeout_s
        self.output_cap = config.shell_output_cap
        self.forwards: dict[int, int] = dict(forwards or {})
        self.use_snapshot = use_snapshot
        self.progress = progress or (lambda msg: log.info("%s", msg))
        self._image: Image | None = None
        self._accel: str | None = None

    @property
    def service_address(self) -> str:
        """Where the guest reaches the world's forwarded services."""
        return SERVICE_ADDR

    def image(self) -> Image:
        if self._image is None:
            self._image = find_image(self.cache, self.image_name) or build_image(
                self.cache, self.image_name, progress=self.progress
            )
        return self._image

    def accel(self) -> str:
        if self._accel is None:
            self._accel = resolve_accel(self.requested_accel, self.image(), self.cache)
        return self._accel

    def prepare(self) -> None:
        """Build/probe/save everything a fast ``acquire`` needs (idempotent, cached)."""
        reap_orphans()
        if self.use_snapshot:
            ensure_snapshot(
                self.image(),
                self.cache,
                accel=self.accel(),
                memory_mb=self.memory_mb,
                cpus=self.cpus,
                timeout=self.boot_timeout,
                progress=self.progress,
            )

    def snapshot_key(self) -> str:
        """The booted state a VM of this backend starts from (a world checkpoint's VM is
        saved over it, so the key names it)."""
        return snapshot_key(self.image(), self.accel(), self.memory_mb, self.cpus)

    def acquire(
        self,
        role: str,
        workdir: Path,
        *,
        forwards: Mapping[int, int] | None = None,
        snapshot: Path | None = None,
    ) -> LinuxVM:
        """A VM in the clean state: restored from the snapshot, else cold-booted. With
        ``snapshot`` (a folder :func:`~linux_vm.snapshot.save_running` wrote) it starts in
        that saved state instead; a failure there is an error, not a cold boot."""
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        image = self.image()
        accel = self.accel()
        fwd = {**self.forwards, **(forwards or {})}
        overlay = workdir / "disk.qcow2"
        shape = {"accel": accel, "memory_mb": self.memory_mb, "cpus": self.cpus}
        started = time.monotonic()
        fallback = None
        snap = None
        if snapshot is not None:
            booted = ensure_snapshot(image, self.cache, timeout=self.boot_timeout, **shape)  # type: ignore[arg-type]
            vm, session = restore_running(
                image,
                booted,
                Path(snapshot),
                overlay,
                workdir,
                timeout=self.boot_timeout,
                forwards=fwd,
                **shape,  # type: ignore[arg-type]
            )
            boot = BootRecord("checkpoint", time.monotonic() - started, accel, booted.key)
            return self._device(role, vm, session, boot, overlay)
        if self.use_snapshot:
            try:
                self.prepare()
                snap = ensure_snapshot(
                    image,
                    self.cache,
                    timeout=self.boot_timeout,
                    **shape,  # type: ignore[arg-type]
                )
                started = time.monotonic()  # the restore itself, not the one-off save
                vm, session = restore(
                    image, snap, overlay, workdir, timeout=self.boot_timeout, forwards=fwd, **shape
                )
                boot = BootRecord("restore", time.monotonic() - started, accel, snap.key)
                self.progress(f"{role}: restored from snapshot in {boot.seconds:.2f} s")
            except VMError as exc:
                fallback = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                self.progress(f"{role}: snapshot restore failed ({fallback}); cold boot instead")
                overlay.unlink(missing_ok=True)
                snap = None
        if snap is None:
            started = time.monotonic()
            create_overlay(image.base, overlay)
            vm, session = boot_cold(
                image, overlay, workdir, timeout=self.boot_timeout, forwards=fwd, **shape
            )
            boot = BootRecord("cold", time.monotonic() - started, accel, None, fallback)
            try:
                # Restores set the clock while verifying; a cold guest's RTC may lag.
                self._sync_clock(session)
            except VMError:
                vm.kill()
                raise
        return self._device(role, vm, session, boot, overlay)

    def _device(
        self, role: str, vm: Any, session: SshSession, boot: BootRecord, overlay: Path
    ) -> LinuxVM:
        image = self.image()
        return LinuxVM(
            role,
            session,
            vm,
            boot,
            console_password=image.console_password,
            helper_token=image.helper_token,
            overlay=overlay,
            shell_timeout=self.shell_timeout,
            output_cap=self.output_cap,
        )

    @staticmethod
    def _sync_clock(session: SshSession) -> None:
        """Bring the guest clock to the host's now (the task's clock is set later)."""
        stamp = f"-u -s @{time.time():.6f}"
        r = session.exec(
            f"{{ {SETTIME} {stamp} || sudo -n date {stamp}; }} >/dev/null",
            timeout=20,
            remote_timeout=False,
        )
        if r.exit_code != 0:
            raise VMError(f"setting the guest clock failed: {r.stderr.strip()}")

    def release(self, device: Any) -> None:
        """Stop the VM and delete its overlay; never raises for an already-dead VM."""
        with contextlib.suppress(Exception):
            device.close()
        vm = getattr(device, "vm", None)
        if vm is not None:
            with contextlib.suppress(Exception):
                vm.stop()
        overlay = getattr(device, "overlay", None)
        if overlay is not None:
            with contextlib.suppress(OSError):
                Path(overlay).unlink(missing_ok=True)


class AttachBackend:
    """An existing SSH host (``linux.attach``: host, port, user, key). Not reset."""

    kind = "linux"
    name = "attach"

    def __init__(self, config: LinuxBackendConfig) -> None:
        attach = _typed(config).linux.attach
        self.host = attach.host
        self.port = attach.port
        self.user = attach.user
        self.key = attach.key.expanduser() if attach.key else None
        self.shell_timeout = config.shell_timeout_s
        self.output_cap = config.shell_output_cap
        self.connect_timeout = 20.0

    def acquire(self, role: str, workdir: Path) -> SshLinuxDevice:
        if not self.host:
            raise LinuxInputError("linux.attach.host is not set (user@host:port of the machine)")
        if self.key is None or not self.key.is_file():
            raise LinuxInputError(f"linux.attach.key: {self.key} is not a readable private key")
        session = SshSession.wait_ready(
            str(self.host), self.port, self.user, self.key, timeout=self.connect_timeout
        )
        return SshLinuxDevice(
            role, session, shell_timeout=self.shell_timeout, output_cap=self.output_cap
        )

    def release(self, device: Any) -> None:
        with contextlib.suppress(Exception):
            device.close()


def remove_workdir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
