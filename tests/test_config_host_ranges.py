"""Config values the host cannot honour are refused at load, naming the key (issue 12, item 7)."""

from __future__ import annotations

import os

import pytest

from linux_vm.config import host_memory_mb
from rig.config import parse_config
from rig.errors import ConfigInvalid


def test_memory_beyond_the_host_is_refused() -> None:
    with pytest.raises(ConfigInvalid, match=r"linux\.qemu\.memory_mb: 99999999 MiB is more than"):
        parse_config({"linux": {"qemu": {"memory_mb": 99_999_999}}})


def test_cpus_beyond_the_host_are_refused() -> None:
    n = (os.cpu_count() or 1) + 1
    with pytest.raises(ConfigInvalid, match=rf"linux\.qemu\.cpus: {n} CPUs is more than"):
        parse_config({"linux": {"qemu": {"cpus": n}}})


def test_what_the_host_has_is_accepted() -> None:
    cfg = parse_config({"linux": {"qemu": {"memory_mb": min(2048, host_memory_mb())}}})
    assert cfg.linux.qemu.memory_mb <= host_memory_mb()


def test_rig_run_with_an_absurd_memory_size_exits_2(tmp_path) -> None:
    import subprocess
    import sys

    (tmp_path / "rig.toml").write_text("[linux.qemu]\nmemory_mb = 99999999\n")
    r = subprocess.run(
        [sys.executable, "-m", "rig.cli", "vm", "exec", "true"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert "linux.qemu.memory_mb" in r.stderr + r.stdout
