"""Booting, waiting for, diagnosing and stopping emulators; every failure one
:class:`~emulator.errors.BootError` subclass with the emulator's log tail.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from emulator.adb import AdbServer
from emulator.avd.instances import EmulatorInstance, Registry
from emulator.avd.ports import RUN_ID_ENV, PortAllocator
from emulator.avd.sdk import Sdk, avd_dir
from emulator.console import Console
from emulator.errors import (
    AdbOffline,
    AndroidError,
    BootError,
    BootTimeout,
    ConsoleError,
    EmulatorExited,
    NoKvm,
    PortBusy,
    SdkNotFound,
    SnapshotIncompatible,
)
from hostproc.labels import ENV as LABEL_ENV
from hostproc.labels import PREFIXES, owner_label

# What the emulator prints for each failure class (lower-cased log is searched).
_NO_KVM = re.compile(
    r"requires hardware acceleration|/dev/kvm is not found|/dev/kvm.*permission denied"
    r"|kvm is required|kvm requires a cpu|accel.*(not (available|supported|usable))"
    r"|hax is not (installed|working)"
)
_PORT_BUSY = re.compile(
    r"port \d+ is (already )?(in use|used|busy)|address already in use|could not bind"
    r"|cannot bind|failed to bind|ports? .*already (in use|used)"
)
_SNAPSHOT = re.compile(
    r"(failed to|could not|cannot) load snapshot|snapshot .*(incompatible|not found|does not exist)"
)
_NO_AVD = re.compile(r"unknown avd name|no avd named|cannot find avd")


# -- launching ------------------------------------------------------------------------------
def classify_log(
    text: str, *, snapshot: str | None = None, exited: bool = True
) -> type[BootError] | None:
    """Which failure the emulator log shows, or None when it names none."""
    low = text.lower()
    if _NO_AVD.search(low):
        return SdkNotFound
    if _NO_KVM.search(low):
        return NoKvm
    if _PORT_BUSY.search(low):
        return PortBusy
    if snapshot and _SNAPSHOT.search(low):
        return SnapshotIncompatible
    return EmulatorExited if exited else None


def _kvm_usable() -> bool:
    return os.path.exists("/dev/kvm") and os.access("/dev/kvm", os.R_OK | os.W_OK)


class Launcher:
    """Launch, wait for, reset and stop emulators of one SDK, on leased ports."""

    def __init__(
        self,
        sdk: Sdk,
        server: AdbServer,
        state_dir: Path,
        *,
        run_id: str = "",
        accel: str = "auto",
        ports: PortAllocator | None = None,
        console_token: Path | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.sdk = sdk
        self.server = server
        self.state_dir = Path(state_dir)
        self.run_id = run_id or f"run{os.getpid()}"
        self.accel = accel
        self.ports = ports or PortAllocator(self.state_dir)
        self.registry = Registry(self.state_dir)
        self.console_token = console_token
        self.extra_args = list(extra_args)

    def console(self, inst: EmulatorInstance, timeout: float = 15.0) -> Console:
        return Console(inst.console_port, token_path=self.console_token, timeout=timeout)

    def launch(
        self,
        avd: str,
        workdir: Path,
        *,
        read_only: bool = False,
        snapshot: str | None = None,
        ports: tuple[int, int] | None = None,
    ) -> EmulatorInstance:
        """Start the emulator process (not waiting for boot)."""
        avd_dir(self.sdk, avd)  # SdkNotFound early, naming the known AVDs
        if self.accel == "on" and not _kvm_usable():
            raise NoKvm("android.avd.accel = 'on' but /dev/kvm is missing or not accessible")
        console, adb = ports or self.ports.allocate(owner=f"{self.run_id}:{avd}")
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        log_path = workdir / f"emulator-{console}.log"
        cmd = [str(self.sdk.emulator), "-avd", avd, "-ports", f"{console},{adb}"]
        cmd += ["-no-window", "-no-audio", "-no-boot-anim", "-accel", self.accel]
        cmd += ["-no-snapshot-save"]
        if read_only:
            cmd.append("-read-only")
        if snapshot:
            cmd += ["-snapshot", snapshot]
        else:
            cmd.append("-no-snapshot-load")
        cmd += self.extra_args
        env = self.sdk.env()
        env[RUN_ID_ENV] = self.run_id
        env[LABEL_ENV] = owner_label(PREFIXES["avd"], self.run_id)  # for the reaper
        with open(log_path, "ab") as log:
            log.write(f"$ {' '.join(cmd)}\n".encode())
            log.flush()
            try:
                proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            except OSError as exc:
                if ports is None:
                    self.ports.release(console)
                raise EmulatorExited(f"cannot run {self.sdk.emulator}: {exc}") from exc
        inst = EmulatorInstance(
            avd=avd,
            console_port=console,
            adb_port=adb,
            pid=proc.pid,
            run_id=self.run_id,
            log_path=log_path,
            read_only=read_only,
            snapshot=snapshot,
            process=proc,
        )
        self.registry.add(inst)
        return inst

    def _fail(self, inst: EmulatorInstance, kind: type[BootError], message: str) -> BootError:
        tail = inst.log_tail()
        self.stop(inst)
        return kind(
            f"{inst.avd} on ports {inst.console_port},{inst.adb_port}: {message}",
            serial=inst.serial,
            log_tail=tail,
        )

    def _check_process(self, inst: EmulatorInstance) -> None:
        code = inst.exit_code()
        if code is not None:
            tail = inst.log_tail()
            kind = classify_log(tail, snapshot=inst.snapshot) or EmulatorExited
            what = {
                SdkNotFound: "the AVD is not known to the emulator",
                NoKvm: "no usable hardware acceleration (KVM)",
                PortBusy: "its console/adb port is already in use",
                SnapshotIncompatible: f"snapshot {inst.snapshot!r} cannot be loaded",
                EmulatorExited: f"the emulator exited with status {code} before boot completed",
            }[kind]
            raise self._fail(inst, kind, what)
        if inst.snapshot and _SNAPSHOT.search(inst.log_tail().lower()):
            raise self._fail(
                inst, SnapshotIncompatible, f"snapshot {inst.snapshot!r} cannot be loaded"
            )

    def wait_boot(
        self, inst: EmulatorInstance, timeout: float, adb_timeout: float | None = None
    ) -> None:
        """Wait for adb, ``sys.boot_completed``, the package manager and a settled screen."""
        from emulator.device import AdbAndroidDevice

        start = time.monotonic()
        deadline = start + timeout
        adb_deadline = start + (adb_timeout if adb_timeout is not None else timeout)
        last_state: str | None = None
        while True:  # 1. adb sees the device online
            self._check_process(inst)
            try:
                self.server.client.connect(inst.serial, timeout=3)
            except Exception:
                pass
            last_state = self.server.state(inst.serial)
            if last_state == "device":
                break
            if time.monotonic() > min(deadline, adb_deadline):
                raise self._fail(
                    inst, AdbOffline, f"adb never saw it online (state: {last_state or 'absent'})"
                )
            time.sleep(0.25)
        dev = AdbAndroidDevice(self.server, inst.serial)
        stage = "sys.boot_completed"
        while True:  # 2. boot completed, 3. package manager answers
            self._check_process(inst)
            try:
                if stage == "sys.boot_completed":
                    if dev.shell("getprop sys.boot_completed", timeout=10).stdout.strip() == "1":
                        stage = "pm path android"
                        continue
                elif dev.shell("pm path android", timeout=10).stdout.startswith("package:"):
                    break
            except AndroidError:
                if self.server.state(inst.serial) != "device":
                    try:
                        self.server.client.connect(inst.serial, timeout=3)
                    except Exception:
                        pass
            if time.monotonic() > deadline:
                raise self._fail(
                    inst,
                    BootTimeout,
                    f"boot did not complete within {timeout:g}s (waiting for {stage})",
                )
            time.sleep(0.25)
        dev.settle(timeout=max(1.0, min(10.0, deadline - time.monotonic())))

    def boot(
        self,
        avd: str,
        workdir: Path,
        *,
        timeout: float = 300.0,
        read_only: bool = False,
        snapshot: str | None = None,
        ports: tuple[int, int] | None = None,
    ) -> EmulatorInstance:
        """Launch and wait until ready; on failure nothing is left running."""
        inst = self.launch(avd, workdir, read_only=read_only, snapshot=snapshot, ports=ports)
        try:
            self.wait_boot(inst, timeout)
        except BaseException:
            self.stop(inst)
            raise
        return inst

    def save_snapshot(self, inst: EmulatorInstance, name: str) -> None:
        with self.console(inst, timeout=120) as con:
            con.snapshot_save(name)

    def stop(self, inst: EmulatorInstance, release_ports: bool = True, grace: float = 15.0) -> None:
        """Console ``kill``, then SIGTERM, then SIGKILL, for the whole process group."""
        if inst.exit_code() is None:
            try:
                with self.console(inst, timeout=5) as con:
                    con.kill()
            except (ConsoleError, OSError):
                pass
            if not _wait_exit(inst, grace):
                _signal_group(inst.pid, signal.SIGTERM)
                if not _wait_exit(inst, 10):
                    _signal_group(inst.pid, signal.SIGKILL)
                    _wait_exit(inst, 5)
        self.server.disconnect(inst.serial)
        self.registry.remove(inst)
        if release_ports:
            self.ports.release(inst.console_port)


def _wait_exit(inst: EmulatorInstance, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while inst.exit_code() is None:
        if time.monotonic() > deadline:
            return False
        if inst.process is not None:
            try:
                inst.process.wait(timeout=min(0.5, max(0.01, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                pass
        else:
            time.sleep(0.1)
    return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
