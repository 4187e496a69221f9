"""Booting a VM cold, saving a booted VM once, and restoring it for every later episode.

The saved state is shareable between parallel VMs. A VM is cold-booted on its
own overlay (``disk.qcow2``, over the base image) with its RAM in a shared file
(``ram.bin``), then stopped and migrated with ``x-ignore-shared``: the
migration stream (``state.bin``) holds only the devices, a few hundred KB, and
the RAM stays in ``ram.bin``; neither file nor the overlay is written again.
Each episode gets a fresh overlay backed by ``disk.qcow2`` and starts QEMU with
``ram.bin`` mapped copy-on-write and ``-incoming defer``, then loads
``state.bin`` over QMP with the same capability: there is no RAM to load,
parallel VMs share the pages they have not written, and SSH answers in well
under a second instead of several seconds of booting. A
restored VM is verified (its kernel ``boot_id`` and a marker file must be the
snapshot's); any failure falls back to a cold boot, and the boot record says
why.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from linux_vm.errors import BootError, VMError
from linux_vm.helper import GuestPython
from linux_vm.image import SETTIME, Image, images_root, recipe_key, remove_tree
from linux_vm.qemu import QemuProcess, VMSpec, create_overlay, qemu_version
from linux_vm.ssh import SshSession

SNAPSHOT_VERSION = 2  # 2: RAM in ram.bin, not in the migration stream
MARKER_PATH = "/etc/clawrig-snapshot"
Progress = Callable[[str], None]


@dataclass
class BootRecord:
    """How a VM came up, for the episode record."""

    mode: str  # "restore" | "cold"
    seconds: float
    accel: str
    snapshot: str | None = None
    fallback_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = {"mode": self.mode, "seconds": round(self.seconds, 3), "accel": self.accel}
        if self.snapshot:
            out["snapshot"] = self.snapshot
        if self.fallback_reason:
            out["fallback_reason"] = self.fallback_reason
        return out | self.extra


@dataclass(frozen=True)
class Snapshot:
    key: str
    path: Path

    @property
    def disk(self) -> Path:
        return self.path / "disk.qcow2"

    @property
    def state(self) -> Path:
        return self.path / "state.bin"

    @property
    def ram(self) -> Path:
        return self.path / "ram.bin"

    @property
    def meta(self) -> dict[str, Any]:
        return json.loads((self.path / "meta.json").read_text())


def snapshots_root(cache: Path) -> Path:
    return Path(cache).expanduser() / "linux" / "snapshots"


def snapshot_key(image: Image, accel: str, memory_mb: int, cpus: int) -> str:
    import hashlib

    ident = json.dumps(
        [SNAPSHOT_VERSION, image.key, image.build_id, accel, memory_mb, cpus, qemu_version()]
    )
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


def find_snapshot(
    image: Image, cache: Path, accel: str, memory_mb: int, cpus: int
) -> Snapshot | None:
    key = snapshot_key(image, accel, memory_mb, cpus)
    path = snapshots_root(cache) / key
    return Snapshot(key, path) if (path / "meta.json").is_file() else None


def _launch(
    image: Image,
    disk: Path,
    workdir: Path,
    *,
    accel: str,
    memory_mb: int,
    cpus: int,
    forwards: dict[int, int] | None,
    **extra: Any,
) -> QemuProcess:
    vm = QemuProcess(
        VMSpec(
            vmlinux=image.vmlinux,
            initrd=image.initrd,
            disk=disk,
            workdir=workdir,
            memory_mb=memory_mb,
            cpus=cpus,
            accel=accel,
            forwards=forwards or {},
            **extra,
        )
    )
    vm.start()
    return vm


def _login(vm: QemuProcess, image: Image, user: str | None, timeout: float) -> SshSession:
    """An SSH session on ``vm``'s forwarded port, waited for as long as the VM lives."""
    return SshSession.wait_ready(
        "127.0.0.1",
        vm.ssh_port,
        user or image.user,
        image.ssh_key,
        timeout=timeout,
        alive=vm.alive,
        on_lost=vm.exit_description,
    )


def _migrate_into(
    vm: QemuProcess, state: Path, timeout: float, poll: float
) -> dict[str, Any] | None:
    """Stream the stopped ``vm``'s state into the file ``state``: None when it completed, else
    QEMU's last ``query-migrate`` answer (it failed, or took longer than ``timeout``)."""
    vm.qmp.execute("migrate", uri=f"exec:cat > {shlex.quote(str(state))}")
    deadline = time.monotonic() + timeout
    while True:
        info = vm.qmp.execute("query-migrate")
        status = info.get("status")
        if status == "completed":
            return None
        if status in ("failed", "cancelled") or time.monotonic() > deadline:
            return info
        time.sleep(poll)


def boot_cold(
    image: Image,
    disk: Path,
    workdir: Path,
    *,
    accel: str,
    memory_mb: int,
    cpus: int,
    timeout: float,
    forwards: dict[int, int] | None = None,
    user: str | None = None,
    memory_file: Path | None = None,
) -> tuple[QemuProcess, SshSession]:
    """Boot the image's kernel on ``disk`` and wait for an SSH shell.

    With ``memory_file`` the guest's RAM lives in that file, written through: the
    VM a snapshot is saved from.
    """
    vm = _launch(
        image,
        disk,
        workdir,
        accel=accel,
        memory_mb=memory_mb,
        cpus=cpus,
        forwards=forwards,
        memory_file=memory_file,
        memory_shared=memory_file is not None,
    )
    try:
        session = _login(vm, image, user, timeout)
    except BootError as exc:
        tail = vm.log_tail()
        vm.kill()
        raise BootError(f"cold boot ({accel}) failed: {exc}", log_tail=tail) from exc
    return vm, session


def ensure_snapshot(
    image: Image,
    cache: Path,
    *,
    accel: str,
    memory_mb: int,
    cpus: int,
    timeout: float,
    progress: Progress | None = None,
) -> Snapshot:
    """The saved booted state for this image and machine shape; made once, under a lock."""
    say = progress or (lambda _m: None)
    root = snapshots_root(cache)
    root.mkdir(parents=True, exist_ok=True)
    key = snapshot_key(image, accel, memory_mb, cpus)
    final = root / key
    with FileLock(str(root / f"{key}.lock")):
        if (final / "meta.json").is_file():
            return Snapshot(key, final)
        for stale in root.glob(f".build-{key}-*"):
            remove_tree(stale)
        work = root / f".build-{key}-{os.getpid()}"
        work.mkdir()
        try:
            say(f"booting a clean VM ({accel}) to save its state")
            _save(image, work, key, accel, memory_mb, cpus, timeout)
            os.rename(work, final)
        except BaseException:
            remove_tree(work)
            raise
    say(f"snapshot saved: {final}")
    return Snapshot(key, final)


def _save(
    image: Image, work: Path, key: str, accel: str, memory_mb: int, cpus: int, timeout: float
) -> None:
    disk = work / "disk.qcow2"
    create_overlay(image.base, disk)
    started = time.monotonic()
    vm, session = boot_cold(
        image,
        disk,
        work / "boot",
        accel=accel,
        memory_mb=memory_mb,
        cpus=cpus,
        timeout=timeout,
        memory_file=work / "ram.bin",
    )
    boot_seconds = time.monotonic() - started
    try:
        # Warm the page cache with what every restored episode runs first (sshd, bash,
        # sudo, python3 for seeding and readers): restored, it is already in memory.
        prep = session.exec(
            f"echo {key} | sudo -n tee {MARKER_PATH} >/dev/null && sync && "
            f"sudo -n date >/dev/null && {SETTIME} >/dev/null && "
            "python3 -c 'import json, sqlite3, tarfile, email' && "
            "bash -lc true && cat /proc/sys/kernel/random/boot_id",
            timeout=120,
        )
        if prep.exit_code != 0:
            raise BootError(f"preparing the snapshot failed: {prep.stderr.strip()}")
        boot_id = prep.stdout.strip()
        _wait_for_resident_helper(session, image.helper_token)
        session.close()
        time.sleep(0.2)  # let sshd's session process exit before the freeze
        vm.qmp.execute("stop")
        vm.ignore_shared_memory()
        failed = _migrate_into(vm, work / "state.bin", timeout=120, poll=0.05)
        if failed is not None:
            raise BootError(f"saving the VM state failed: {failed}", log_tail=vm.log_tail())
        vm.stop()
    finally:
        vm.kill()
    remove_tree(work / "boot")
    os.chmod(disk, 0o444)
    os.chmod(work / "state.bin", 0o444)
    # QEMU 7.2 opens a RAM file read-write even to map it privately, so ram.bin keeps
    # its write bit; restored VMs never write it (their writes are copy-on-write).
    meta = {
        "key": key,
        "image": image.key,
        "image_build": image.build_id,
        "accel": accel,
        "memory_mb": memory_mb,
        "cpus": cpus,
        "boot_id": boot_id,
        "cold_boot_seconds": round(boot_seconds, 2),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (work / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def _wait_for_resident_helper(session: SshSession, token: str, timeout: float = 90) -> None:
    """The root helper the image starts at boot must be in the saved state, listening."""
    helper = GuestPython(session, token)
    deadline = time.monotonic() + timeout
    while not helper.open_resident():
        if time.monotonic() > deadline:
            raise BootError("the guest's resident helper never listened on its port")
        time.sleep(0.5)
    try:
        r = helper.run("print('ready')", timeout=60)
    finally:
        helper.close()
    if r.stdout != "ready\n":
        raise BootError(f"the guest's resident helper did not answer: {r.stderr.strip()}")


def _resume(
    image: Image,
    disk: Path,
    workdir: Path,
    incoming: Path,
    memory_file: Path,
    user: str | None,
    *,
    accel: str,
    memory_mb: int,
    cpus: int,
    forwards: dict[int, int] | None,
    load_s: float,
    poll: float,
    ssh_s: float,
) -> tuple[QemuProcess, SshSession]:
    """Start QEMU on ``disk`` with a saved state (``incoming``), run the guest (it comes up
    paused, as it was saved) and log in; the caller proves which state it is."""
    vm = _launch(
        image,
        disk,
        workdir,
        accel=accel,
        memory_mb=memory_mb,
        cpus=cpus,
        forwards=forwards,
        incoming=incoming,
        memory_file=memory_file,
    )
    try:
        status = vm.wait_status({"paused", "postmigrate", "running"}, timeout=load_s, poll=poll)
        if status != "running":
            vm.qmp.execute("cont")
        session = _login(vm, image, user, ssh_s)
    except VMError:
        vm.kill()
        raise
    return vm, session


def restore(
    image: Image,
    snap: Snapshot,
    disk: Path,
    workdir: Path,
    *,
    accel: str,
    memory_mb: int,
    cpus: int,
    timeout: float,
    forwards: dict[int, int] | None = None,
    user: str | None = None,
    sync_clock: bool = True,
) -> tuple[QemuProcess, SshSession]:
    """Start a VM from the saved state on a fresh overlay, resume it, verify it is the snapshot.

    The guest wakes with the snapshot's clock; ``sync_clock`` sets it to the host's
    now in the same command that verifies the state (the task's clock comes later).
    """
    create_overlay(snap.disk, disk, backing_format="qcow2")
    # The stream is only device state: it loads in milliseconds.
    vm, session = _resume(
        image, disk, workdir, snap.state, snap.ram, user,
        accel=accel, memory_mb=memory_mb, cpus=cpus, forwards=forwards,
        load_s=60, poll=0.005, ssh_s=min(timeout, 30),
    )  # fmt: skip
    try:
        # Shell builtins and a final `exec`: under TCG every extra process is tens of ms.
        command = (
            f"read -r b </proc/sys/kernel/random/boot_id && read -r m <{MARKER_PATH} && "
            'echo "$b" && echo "$m"'
        )
        if sync_clock:
            command += f" && exec {SETTIME} -u -s @{time.time():.6f} >/dev/null"
        check = session.exec(command, timeout=30, remote_timeout=False)
        want = f"{snap.meta['boot_id']}\n{snap.key}\n"
        if check.stdout != want or check.exit_code != 0:
            session.close()
            raise BootError(
                f"restored VM is not in the snapshot's state (read {check.stdout!r}, "
                f"expected {want!r})"
            )
    except VMError:
        vm.kill()
        raise
    return vm, session


def _size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return total


def stale_cache(cache: Path) -> list[tuple[Path, int]]:
    """Images of an older recipe and snapshots no current image can restore, with sizes.

    A new recipe (or QEMU, or snapshot format) leaves the old ones behind: ~630 MB an
    image, ~130 MB a snapshot. Running VMs keep what they opened, so removing is safe.
    """
    current = recipe_key()
    images: dict[tuple[str, str], Image] = {}
    stale: list[Path] = []
    for path in sorted(images_root(cache).glob("*-*")):
        name, _, key = path.name.rpartition("-")
        if not path.is_dir() or name.startswith(".") or not (path / "manifest.json").is_file():
            continue
        if key != current:
            stale.append(path)
            continue
        image = Image(name, key, path)
        images[(key, image.build_id)] = image
    for meta_file in sorted(snapshots_root(cache).glob("*/meta.json")):
        try:
            meta = json.loads(meta_file.read_text())
            image = images.get((meta["image"], meta["image_build"]))
            keep = image is not None and meta["key"] == snapshot_key(
                image, meta["accel"], meta["memory_mb"], meta["cpus"]
            )
        except (OSError, ValueError, KeyError):
            keep = False
        if not keep:
            stale.append(meta_file.parent)
    return [(path, _size(path)) for path in stale]


def prune_cache(cache: Path) -> list[tuple[Path, int]]:
    """Delete what :func:`stale_cache` lists (and its lock files); returns what went."""
    gone = stale_cache(cache)
    for path, _bytes in gone:
        remove_tree(path)
        Path(f"{path}.lock").unlink(missing_ok=True)
    return gone


# -- a running world's VM: saved whole (devices, RAM, disk), started again from it --------------
WORLD_STATE = "state.bin"
WORLD_DISK = "disk.qcow2"
WORLD_META = "vm.json"


def save_running(
    vm: QemuProcess, overlay: Path, dest: Path, timeout: float = 300
) -> dict[str, Any]:
    """Save a running VM into ``dest`` and let it run on: ``state.bin`` (its devices and all
    of its RAM: what it wrote since the booted state is its own, not the shared file's) and
    ``disk.qcow2`` (its overlay, still backed by the booted state's disk).

    The VM is paused for the migration; when it completes QEMU has written the disk's
    metadata out (the image is inactive), so the overlay copied then is consistent with the
    RAM; ``cont`` takes the disk back and the guest runs on, its connections open."""
    dest.mkdir(parents=True, exist_ok=True)
    state = dest / WORLD_STATE
    started = time.monotonic()
    vm.resume()  # a VM a stepped world paused is saved, and runs on after, as any other
    vm.qmp.execute("stop")
    try:
        failed = _migrate_into(vm, state, timeout=timeout, poll=0.02)
        if failed is not None:
            raise VMError(f"saving the VM failed: {failed}")
        shutil.copyfile(overlay, dest / WORLD_DISK)
    finally:
        vm.qmp.execute("cont")
    os.chmod(state, 0o444)
    os.chmod(dest / WORLD_DISK, 0o444)
    meta = {"backing": str(backing_of(dest / WORLD_DISK)), "save_s": time.monotonic() - started}
    (dest / WORLD_META).write_text(json.dumps(meta))
    return meta


def backing_of(disk: Path) -> Path | None:
    """The backing file a qcow2 image names (``None`` for none)."""
    proc = subprocess.run(
        ["qemu-img", "info", "--output=json", str(disk)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise VMError(f"qemu-img info {disk}: {proc.stderr.strip()}")
    name = json.loads(proc.stdout).get("full-backing-filename")
    return Path(name) if name else None


def restore_running(
    image: Image,
    snap: Snapshot,
    saved: Path,
    disk: Path,
    workdir: Path,
    *,
    accel: str,
    memory_mb: int,
    cpus: int,
    timeout: float,
    forwards: dict[int, int] | None = None,
    user: str | None = None,
) -> tuple[QemuProcess, SshSession]:
    """Start a VM in the state :func:`save_running` left in ``saved``, on a fresh overlay over
    its disk; the guest's clock is set to the host's now (the world's is set after).

    The RAM file of the booted state is mapped as when the VM was first restored (the same
    machine shape); every page the saved VM held comes from ``state.bin`` over it."""
    want = json.loads((saved / WORLD_META).read_text())["backing"]
    if want != str(snap.disk.resolve()):
        raise BootError(f"{saved}: saved over another booted state ({want})")
    create_overlay(saved / WORLD_DISK, disk, backing_format="qcow2")
    vm, session = _resume(
        image, disk, workdir, saved / WORLD_STATE, snap.ram, user,
        accel=accel, memory_mb=memory_mb, cpus=cpus, forwards=forwards,
        load_s=120, poll=0.01, ssh_s=min(timeout, 60),
    )  # fmt: skip
    try:
        check = session.exec(
            f'read -r m <{MARKER_PATH} && echo "$m" && exec {SETTIME} -u -s '
            f"@{time.time():.6f} >/dev/null",
            timeout=30,
            remote_timeout=False,
        )
        if check.stdout != f"{snap.key}\n" or check.exit_code != 0:
            session.close()
            raise BootError(f"restored VM is not the saved one (read {check.stdout!r})")
    except VMError:
        vm.kill()
        raise
    return vm, session
