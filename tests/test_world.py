from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from rig.config import RigConfig
from rig.errors import ConfigInvalid, InfraError, is_infra
from rig.world import AndroidDevice, Device, LinuxDevice, World, make_backend


@dataclass
class Out:
    stdout: str
    stderr: str = ""
    exit_code: int = 0


@dataclass
class RecordingLinux:
    """A minimal in-memory object that satisfies the Linux contract structurally."""

    role: str
    kind: str = "linux"
    clock: tuple | None = None
    closed: bool = False
    files: dict = field(default_factory=dict)

    def shell(self, command, timeout=None):
        return Out(command)

    def set_clock(self, now, timezone):
        self.clock = (now, timezone)

    def seed(self, plan):
        return {}

    def read_state(self, query):
        return None

    def close(self):
        self.closed = True

    def read_file(self, path):
        return self.files[path]

    def write_file(self, path, data, mode=0o644):
        self.files[path] = data

    def list_dir(self, path):
        return sorted(self.files)


def test_contracts_are_structural():
    dev = RecordingLinux("laptop")
    assert isinstance(dev, Device)
    assert isinstance(dev, LinuxDevice)
    assert not isinstance(dev, AndroidDevice)


def test_world_roles_clock_and_close():
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    world = World(now=now, timezone="Europe/Berlin")
    laptop = RecordingLinux("laptop")
    world.add(laptop)
    assert world["laptop"] is laptop
    with pytest.raises(KeyError, match="roles: laptop"):
        world["phone"]
    with pytest.raises(ValueError, match="already"):
        world.add(RecordingLinux("laptop"))
    world.freeze_clocks()
    assert laptop.clock == (now, "Europe/Berlin")
    world.close()
    assert laptop.closed and len(world) == 0


def test_unknown_backend_is_config_error():
    with pytest.raises(ConfigInvalid, match="expected one of attach, avd, sim"):
        make_backend("android", "bluestacks", RigConfig())


def test_device_errors_are_infra_and_input_errors_are_not():
    from emulator.errors import AndroidInputError, BootError
    from linux_vm.errors import DeviceLost

    assert is_infra(BootError("no kvm"))
    assert is_infra(DeviceLost("gone"))
    assert is_infra(InfraError("x"))
    assert not is_infra(AndroidInputError("bad key"))
    assert not is_infra(ValueError("x"))


def test_log_tail_is_part_of_message():
    from emulator.errors import BootError

    err = BootError("emulator exited", serial="emulator-5554", log_tail="FATAL: no kvm\n")
    assert "FATAL: no kvm" in str(err)
