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
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

from filelock import FileLock

from emulator.adb import AdbServer, port_is_free
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
from hostproc.reaper import reap_orphans

RUN_ID_ENV = "CLAWRIG_RUN_ID"
FIRST_CONSOLE_PORT = 5554
LAST_CONSOLE_PORT = 5682

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


# -- the SDK ----------------------------------------------------------------------------
@dataclass
class Sdk:
    root: Path
    emulator: Path
    adb: Path | None
    avdmanager: Path | None
    avd_home: Path

    def env(self) -> dict[str, str]:
        """Environment the SDK tools run with (so they and we agree on the AVD home)."""
        env = dict(os.environ)
        env["ANDROID_HOME"] = str(self.root)
        env["ANDROID_SDK_ROOT"] = str(self.root)
        env["ANDROID_AVD_HOME"] = str(self.avd_home)
        return env


def avd_home() -> Path:
    """Where AVDs live, resolved as the SDK tools do."""
    if os.environ.get("ANDROID_AVD_HOME"):
        return Path(os.environ["ANDROID_AVD_HOME"])
    if os.environ.get("ANDROID_EMULATOR_HOME"):
        return Path(os.environ["ANDROID_EMULATOR_HOME"]) / "avd"
    if os.environ.get("ANDROID_SDK_HOME"):
        return Path(os.environ["ANDROID_SDK_HOME"]) / ".android" / "avd"
    return Path.home() / ".android" / "avd"


def find_sdk(explicit: Path | None = None) -> Sdk:
    """The SDK from ``explicit`` (config ``android.avd.sdk``), ``$ANDROID_HOME`` or
    ``$ANDROID_SDK_ROOT``; :class:`SdkNotFound` says what is missing."""
    root: Path | None = Path(explicit).expanduser() if explicit else None
    if root is None:
        for var in ("ANDROID_HOME", "ANDROID_SDK_ROOT"):
            if os.environ.get(var):
                root = Path(os.environ[var])
                break
    if root is None:
        raise SdkNotFound(
            "no Android SDK: set ANDROID_HOME (or android.avd.sdk in rig.toml), "
            "or use the virtual phone (devices.android = 'sim')"
        )
    emulator = root / "emulator" / "emulator"
    if not (emulator.is_file() and os.access(emulator, os.X_OK)):
        raise SdkNotFound(
            f"{root}: no executable emulator/emulator (install the 'emulator' package)"
        )
    adb = root / "platform-tools" / "adb"
    managers = sorted(root.glob("cmdline-tools/*/bin/avdmanager"))
    latest = [m for m in managers if m.parent.parent.name == "latest"]
    return Sdk(
        root=root,
        emulator=emulator,
        adb=adb if adb.is_file() else None,
        avdmanager=(latest or managers or [None])[-1],
        avd_home=avd_home(),
    )


def _read_ini(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            out[key.strip()] = value.strip()
    return out


def list_avds(sdk: Sdk) -> list[str]:
    return sorted(p.stem for p in sdk.avd_home.glob("*.ini")) if sdk.avd_home.is_dir() else []


def avd_dir(sdk: Sdk, name: str) -> Path:
    """The ``NAME.avd`` folder of an AVD (from ``NAME.ini``'s ``path``)."""
    ini = sdk.avd_home / f"{name}.ini"
    if not ini.is_file():
        known = ", ".join(list_avds(sdk)) or "none"
        raise SdkNotFound(f"no AVD named {name!r} in {sdk.avd_home} (AVDs: {known})")
    info = _read_ini(ini)
    path = Path(info.get("path", "")) if info.get("path") else sdk.avd_home / f"{name}.avd"
    if not path.is_absolute():
        path = sdk.avd_home / path
    if not (path / "config.ini").is_file():
        raise SdkNotFound(f"AVD {name!r}: {path}/config.ini is missing")
    return path


def avd_config(sdk: Sdk, name: str) -> dict[str, str]:
    return _read_ini(avd_dir(sdk, name) / "config.ini")


def has_snapshot(sdk: Sdk, name: str, snapshot: str) -> bool:
    return (avd_dir(sdk, name) / "snapshots" / snapshot).is_dir()


def installed_images(sdk: Sdk) -> list[str]:
    """Installed system images as sdkmanager package ids (``system-images;android-34;…``)."""
    base = sdk.root / "system-images"
    if not base.is_dir():
        return []
    return sorted(
        "system-images;" + ";".join(p.parent.relative_to(base).parts)
        for p in base.glob("*/*/*/source.properties")
    )


def create_avd(
    sdk: Sdk, name: str, image: str, device: str | None = None, force: bool = False
) -> Path:
    """Create AVD ``name`` from an installed system image (``avdmanager create avd``)."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise AndroidError(f"AVD name {name!r}: use letters, digits, '.', '_' and '-'")
    if name in list_avds(sdk) and not force:
        return avd_dir(sdk, name)
    images = installed_images(sdk)
    if image not in images:
        raise SdkNotFound(
            f"system image {image!r} is not installed in {sdk.root} "
            f"(installed: {', '.join(images) or 'none'}); install it with sdkmanager"
        )
    if sdk.avdmanager is None:
        raise SdkNotFound(f"{sdk.root}: no cmdline-tools/*/bin/avdmanager")
    cmd = [str(sdk.avdmanager), "create", "avd", "-n", name, "-k", image]
    if device:
        cmd += ["-d", device]
    if force:
        cmd.append("--force")
    sdk.avd_home.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        cmd, input="no\n", capture_output=True, text=True, timeout=300, env=sdk.env(), check=False
    )
    if out.returncode != 0:
        raise AndroidError(f"avdmanager create avd {name} failed", log_tail=out.stdout + out.stderr)
    return avd_dir(sdk, name)


# -- port leases and the registry of running emulators ------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PortAllocator:
    """Console/adb port pairs (``c``, ``c+1``, ``c`` even) leased under a file lock.

    A lease names the process that took it; leases of dead processes are
    reclaimed, and a pair is only handed out if both ports are free right now.
    """

    def __init__(
        self, state_dir: Path, first: int = FIRST_CONSOLE_PORT, last: int = LAST_CONSOLE_PORT
    ) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.first = first + (first % 2)
        self.last = last
        self._lock = FileLock(str(self.state_dir / "ports.lock"))
        self._file = self.state_dir / "ports.json"

    def _load(self) -> dict[str, dict]:
        try:
            data = json.loads(self._file.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return {k: v for k, v in data.items() if _pid_alive(int(v.get("pid", 0)))}

    def _save(self, data: dict[str, dict]) -> None:
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, self._file)

    def allocate(self, owner: str = "", pid: int | None = None) -> tuple[int, int]:
        with self._lock:
            leases = self._load()
            for console in range(self.first, self.last, 2):
                if str(console) in leases:
                    continue
                if port_is_free(console) and port_is_free(console + 1):
                    leases[str(console)] = {"pid": pid or os.getpid(), "owner": owner}
                    self._save(leases)
                    return console, console + 1
        raise PortBusy(f"no free console/adb port pair in {self.first}..{self.last}")

    def release(self, console: int) -> None:
        with self._lock:
            leases = self._load()
            leases.pop(str(console), None)
            self._save(leases)

    def leases(self) -> dict[int, dict]:
        with self._lock:
            return {int(k): v for k, v in self._load().items()}


@dataclass
class EmulatorInstance:
    """One launched emulator."""

    avd: str
    console_port: int
    adb_port: int
    pid: int
    run_id: str
    log_path: Path
    read_only: bool = False
    snapshot: str | None = None
    owner_pid: int = field(default_factory=os.getpid)
    process: subprocess.Popen | None = field(default=None, repr=False, compare=False)

    @property
    def serial(self) -> str:
        return f"127.0.0.1:{self.adb_port}"

    def exit_code(self) -> int | None:
        """The process's exit status, or None while it runs."""
        if self.process is not None:
            return self.process.poll()
        return None if _pid_alive(self.pid) else -1

    def log_tail(self, size: int = 4000) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - size))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def to_json(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "process"}
        data["log_path"] = str(self.log_path)
        return data


class Registry:
    """Running emulators this host's rig launched, one JSON file each."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = Path(state_dir) / "instances"
        self.dir.mkdir(parents=True, exist_ok=True)

    def add(self, inst: EmulatorInstance) -> None:
        path = self.dir / f"{inst.console_port}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(inst.to_json()), encoding="utf-8")
        os.replace(tmp, path)

    def remove(self, inst: EmulatorInstance) -> None:
        (self.dir / f"{inst.console_port}.json").unlink(missing_ok=True)

    def all(self) -> list[EmulatorInstance]:
        out = []
        for path in sorted(self.dir.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                data["log_path"] = Path(data["log_path"])
                out.append(EmulatorInstance(**data))
            except (OSError, ValueError, TypeError):
                path.unlink(missing_ok=True)
        return out


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


def reap(launcher: Launcher, run_id: str | None = None) -> list[int]:
    """Stop emulators a crashed run left behind (through the one reaper,
    :mod:`hostproc.reaper`: those whose launching process is gone, of ``run_id`` when
    given), then forget every dead instance in the registry and free its ports.
    Returns the pids stopped."""
    stopped = reap_orphans(["avd"], run_id=run_id)
    for inst in launcher.registry.all():
        if (run_id is None or inst.run_id == run_id) and inst.exit_code() is not None:
            launcher.registry.remove(inst)
            launcher.ports.release(inst.console_port)
    return stopped
