"""Choosing the accelerator: by a boot probe, cached, and overridable."""

from __future__ import annotations

import json

import pytest

from linux_vm.accel import _boot_probe, _verdict_file, kvm_device_usable, resolve_accel
from linux_vm.errors import LinuxInputError

pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow]


def test_the_probe_sees_userspace_when_the_accelerator_works(vm_backend):
    # TCG always runs a guest here, so the probe's marker path is exercised for real.
    assert _boot_probe(vm_backend.image(), timeout=120, accel="tcg") is True


def test_auto_asks_the_cached_probe_and_overrides_win(vm_backend, tmp_path):
    image = vm_backend.image()
    assert resolve_accel("tcg", image, tmp_path) == "tcg"
    assert resolve_accel("kvm", image, tmp_path) == "kvm"
    assert not _verdict_file(tmp_path).exists()  # explicit choices never probe
    chosen = resolve_accel("auto", image, tmp_path)
    assert chosen in ("kvm", "tcg")
    if kvm_device_usable():
        verdicts = json.loads(_verdict_file(tmp_path).read_text())
        assert [v["kvm"] for v in verdicts.values()] == [chosen == "kvm"]
    else:
        assert chosen == "tcg"
    with pytest.raises(LinuxInputError, match="accel 'fast'"):
        resolve_accel("fast", image, tmp_path)
