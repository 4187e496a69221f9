import ast
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

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

    def exec(self, command, timeout=None, output_cap=None):
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


def _members(protocol: type) -> set[str]:
    """The names a protocol declares (attributes and methods), its bases' included."""
    names: set[str] = set()
    for klass in protocol.__mro__:
        if klass in (Device, AndroidDevice, LinuxDevice):
            names |= set(getattr(klass, "__annotations__", {}))
            names |= {n for n, v in vars(klass).items() if callable(v) and not n.startswith("_")}
    return names


def test_every_protocol_member_is_used_by_the_controller_or_scoring():
    """The contracts declare what rig/ and scoring/ use: an unused member is a false promise."""
    root = Path(__file__).resolve().parent.parent
    protocols = {"ShellOutput", "Device", "AndroidDevice", "LinuxDevice", "Backend"}
    sources = []
    for package in ("rig", "scoring"):
        for path in sorted((root / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
            # The declarations themselves do not count as uses (World's methods do).
            sources += [
                ast.get_source_segment(text, node) or ""
                for node in tree.body
                if not (isinstance(node, ast.ClassDef) and node.name in protocols)
            ]
    code = "\n".join(sources)
    for protocol in (Device, AndroidDevice, LinuxDevice):
        unused = sorted(m for m in _members(protocol) if not re.search(rf"\.{m}\b", code))
        assert unused == [], f"{protocol.__name__} declares what nothing uses"


def test_the_real_devices_offer_every_operation_of_their_contract():
    from emulator.device import AdbAndroidDevice
    from linux_vm.device import LinuxVM, SshLinuxDevice

    wanted = {m for m in _members(AndroidDevice) if m not in ("role", "kind")}
    assert sorted(m for m in wanted if not callable(getattr(AdbAndroidDevice, m, None))) == []
    for klass in (SshLinuxDevice, LinuxVM):
        wanted = {m for m in _members(LinuxDevice) if m not in ("role", "kind")}
        assert sorted(m for m in wanted if not callable(getattr(klass, m, None))) == []
