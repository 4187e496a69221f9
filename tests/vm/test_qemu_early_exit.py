"""QEMU that exits at start says why in the error and leaves nothing in /tmp (issue 12, item 7)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from linux_vm.errors import BootError
from linux_vm.qemu import RUNTIME_PREFIX, QemuProcess, VMSpec

pytestmark = pytest.mark.vm


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-utils not installed")
def test_guest_memory_qemu_cannot_allocate_is_in_the_error(tmp_path: Path) -> None:
    disk = tmp_path / "d.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "1M"], check=True)
    (tmp_path / "vmlinux").write_bytes(b"x")
    (tmp_path / "initrd").write_bytes(b"x")
    # QEMU opens its QMP socket before it allocates RAM, so some starts see the socket
    # and then a reset connection: try a few times to meet both orders.
    for attempt in range(3):
        vm = QemuProcess(
            VMSpec(
                vmlinux=tmp_path / "vmlinux",
                initrd=tmp_path / "initrd",
                disk=disk,
                workdir=tmp_path / f"w{attempt}",
                memory_mb=100_000_000,
                accel="tcg",
            )
        )
        assert vm.runtime.name.startswith(RUNTIME_PREFIX)
        with pytest.raises(BootError) as err:
            vm.start()
        assert "Cannot allocate memory" in str(err.value).splitlines()[0]
        assert "QEMU exited with status 1" in str(err.value)
        assert not vm.runtime.exists()
        assert not vm.alive()
