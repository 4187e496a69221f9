"""Fixtures for the Linux VM tests: the cached image, one restored VM per session, listeners.

The image is built on first use (a few minutes on a fresh machine) and cached
under the default cache directory, so later runs and other test sessions reuse
it; the saved booted state is made once the same way.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from linux_vm.backends import QemuBackend
from linux_vm.device import LinuxVM
from rig.config import RigConfig


class Listener:
    """A TCP server on 127.0.0.1 that greets each client with its name and counts them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            with conn, contextlib.suppress(OSError):
                conn.sendall(f"hello from {self.name}\n".encode())

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@pytest.fixture(scope="session")
def listeners() -> Iterator[dict[str, Listener]]:
    made = {"service": Listener("service"), "private": Listener("private")}
    yield made
    for listener in made.values():
        listener.close()


SERVICE_GUEST_PORT = 8025
# The first test that needs a VM may build the image (minutes on a fresh machine) and save
# the snapshot: more than the suite's default per-test timeout allows.
FIRST_VM_TIMEOUT_S = 1800


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents and "vm_backend" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(FIRST_VM_TIMEOUT_S))


@pytest.fixture(scope="session")
def rig_config() -> RigConfig:
    return RigConfig()


@pytest.fixture(scope="session")
def vm_backend(rig_config: RigConfig, listeners: dict[str, Listener]) -> QemuBackend:
    backend = QemuBackend(
        rig_config.backend_config("linux"),
        forwards={SERVICE_GUEST_PORT: listeners["service"].port},
        progress=print,
    )
    backend.prepare()  # builds the image if missing, probes the accelerator, saves the state
    return backend


@pytest.fixture(scope="session")
def laptop(vm_backend: QemuBackend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LinuxVM]:
    device = vm_backend.acquire("laptop", tmp_path_factory.mktemp("laptop"))
    yield device
    vm_backend.release(device)


@pytest.fixture
def fresh_vm(vm_backend: QemuBackend, tmp_path: Path) -> Iterator[LinuxVM]:
    """A VM of its own (restored from the snapshot), for tests that break or reset it."""
    device = vm_backend.acquire("spare", tmp_path / "vm")
    yield device
    vm_backend.release(device)
