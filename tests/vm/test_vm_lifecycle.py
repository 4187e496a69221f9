"""Resets, parallel VMs, crashes and fallbacks: the lifecycle of real VMs."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time

import pytest

from hostproc.labels import labelled_processes
from linux_vm.backends import QemuBackend
from linux_vm.errors import DeviceLost
from linux_vm.qemu import LABEL
from rig.config import parse_config
from rig.errors import is_infra

pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow]


def test_snapshot_reset_restores_exactly(laptop, fresh_vm):
    # Written after the snapshot on one VM ...
    laptop.exec("echo scribble > /home/user/after-snapshot.txt && sync")
    assert laptop.exec("cat /home/user/after-snapshot.txt").stdout == "scribble\n"
    # ... and absent from a VM restored from that snapshot, which runs alongside it.
    assert fresh_vm.boot.mode == "restore"
    r = fresh_vm.exec("test -e /home/user/after-snapshot.txt; echo $?")
    assert r.stdout == "1\n"
    assert fresh_vm.ssh_port != laptop.ssh_port
    assert fresh_vm.vm.pid != laptop.vm.pid


def _sha256(path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def test_restored_vms_map_the_saved_ram_copy_on_write(vm_backend, fresh_vm):
    """The saved RAM is a file the restored VMs map privately: never written, never loaded."""
    snap_dir = next(
        meta.parent
        for meta in (vm_backend.cache / "linux" / "snapshots").glob("*/meta.json")
        if json.loads(meta.read_text())["image_build"] == vm_backend.image().build_id
    )
    ram, state = snap_dir / "ram.bin", snap_dir / "state.bin"
    # The migration stream carries devices only; the guest's memory stays in ram.bin.
    assert state.stat().st_size < 8 << 20 < ram.stat().st_blocks * 512
    before = (_sha256(ram), ram.stat().st_mtime_ns)
    # Dirty a good part of the guest's memory: page cache, anonymous memory, tmpfs.
    r = fresh_vm.exec(
        "head -c 64M /dev/urandom > /dev/shm/noise && "
        "python3 -c 'b = bytearray(b\"x\") * (96 << 20); print(len(b))' && sync",
        timeout=120,
    )
    assert r.exit_code == 0 and r.stdout == f"{96 << 20}\n", r.stderr
    assert (_sha256(ram), ram.stat().st_mtime_ns) == before


def test_two_vms_run_commands_at_once(laptop, fresh_vm):
    results = {}

    def work(name, device):
        results[name] = device.exec(f"echo {name} > /tmp/who; sleep 1; cat /tmp/who")

    threads = [threading.Thread(target=work, args=a) for a in (("a", laptop), ("b", fresh_vm))]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["a"].stdout == "a\n" and results["b"].stdout == "b\n"
    assert time.monotonic() - started < 10


def test_killed_vm_mid_command_is_device_lost(fresh_vm):
    killer = threading.Timer(1.5, fresh_vm.kill)
    killer.start()
    with pytest.raises(DeviceLost) as info:
        fresh_vm.exec("sleep 30", timeout=60)
    killer.join()
    assert is_infra(info.value)
    assert "lost" in str(info.value) and "signal 9" in str(info.value)
    with pytest.raises(DeviceLost):
        fresh_vm.shell("echo hi")
    assert fresh_vm.vm.pid not in {q.pid for q in labelled_processes(LABEL)}


def test_release_leaves_no_process_and_no_overlay(vm_backend, tmp_path):
    device = vm_backend.acquire("temp", tmp_path / "vm")
    pid, overlay = device.vm.pid, device.overlay
    assert overlay.exists()
    vm_backend.release(device)
    assert not overlay.exists()
    assert pid not in {q.pid for q in labelled_processes(LABEL)}
    assert not os.path.exists(f"/proc/{pid}")
    vm_backend.release(device)  # releasing twice does not raise


def test_failed_restore_falls_back_to_cold_boot_and_says_so(vm_backend, tmp_path):
    """A broken saved state (truncated) must not fail the episode: cold boot, recorded."""
    image = vm_backend.image()
    snap_dir = None
    for meta in (vm_backend.cache / "linux" / "snapshots").glob("*/meta.json"):
        if json.loads(meta.read_text())["image_build"] == image.build_id:
            snap_dir = meta.parent
    assert snap_dir is not None
    cache = tmp_path / "cache"
    (cache / "linux" / "images").mkdir(parents=True)
    (cache / "linux" / "images" / image.path.name).symlink_to(image.path)
    broken = cache / "linux" / "snapshots" / snap_dir.name
    broken.mkdir(parents=True)
    shutil.copy(snap_dir / "meta.json", broken / "meta.json")
    (broken / "disk.qcow2").symlink_to(snap_dir / "disk.qcow2")
    (broken / "ram.bin").symlink_to(snap_dir / "ram.bin")
    (broken / "state.bin").write_bytes((snap_dir / "state.bin").read_bytes()[:4096])

    qemu = {
        "memory_mb": vm_backend.memory_mb,
        "cpus": vm_backend.cpus,
        "accel": vm_backend.accel(),
        "boot_timeout_s": 180.0,
    }
    cfg = parse_config({"linux": {"qemu": qemu}, "paths": {"cache": str(cache)}})
    backend = QemuBackend(cfg.backend_config("linux"))
    device = backend.acquire("fallback", tmp_path / "vm")
    try:
        assert device.boot.mode == "cold"
        assert device.boot.fallback_reason
        assert "fallback_reason" in device.boot.as_dict()
        assert device.exec("echo cold").stdout == "cold\n"
    finally:
        backend.release(device)


def test_attach_backend_drives_an_existing_ssh_host(laptop, vm_backend):
    """`attach` against a machine that is already up (here: the session VM's SSH port)."""
    from linux_vm.backends import AttachBackend
    from linux_vm.errors import LinuxInputError

    attach = {
        "host": "127.0.0.1",
        "port": laptop.ssh_port,
        "user": "user",
        "key": str(vm_backend.image().ssh_key),
    }
    backend = AttachBackend(parse_config({"linux": {"attach": attach}}).backend_config("linux"))
    device = backend.acquire("server", None)
    try:
        assert device.kind == "linux" and device.role == "server"
        assert device.shell("cd /tmp && pwd").stdout == "/tmp\n"
        assert device.read_state({"kind": "command", "command": "id -un"})["stdout"] == "user\n"
    finally:
        backend.release(device)
    assert laptop.exec("echo still-up").stdout == "still-up\n"
    no_host = parse_config({"linux": {"attach": {**attach, "host": None}}})
    with pytest.raises(LinuxInputError, match=r"linux\.attach\.host"):
        AttachBackend(no_host.backend_config("linux")).acquire("server", None)
