"""Fixtures for the bundled suite's tests: where the suite is, and a private adb server."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2] / "tasks" / "suite"


@pytest.fixture(scope="session")
def suite_dir() -> Path:
    return SUITE


@pytest.fixture(scope="session")
def private_adb():
    """A private adb server on a free port, exported to this process and its workers;
    only this server is killed afterwards (others' servers keep running)."""
    adb = shutil.which("adb")
    if adb is None:
        pytest.fail("adb is not on PATH (scripts/setup.sh installs it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([adb, "-P", str(port), "start-server"], check=True, capture_output=True)
    mp = pytest.MonkeyPatch()
    mp.setenv("ANDROID_ADB_SERVER_PORT", str(port))
    mp.delenv("ADB_SERVER_SOCKET", raising=False)
    try:
        yield port
    finally:
        mp.undo()
        subprocess.run([adb, "-P", str(port), "kill-server"], capture_output=True, timeout=30)
