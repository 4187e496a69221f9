"""Fixtures for the bundled suite's tests: where the suite is, and a private adb server."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.adb import AdbServer

SUITE = Path(__file__).resolve().parents[2] / "tasks" / "suite"


@pytest.fixture(scope="session")
def suite_dir() -> Path:
    return SUITE


@pytest.fixture(scope="session")
def private_adb():
    """A private adb server on a free port, exported to this process and its workers;
    only this server is killed afterwards (others' servers keep running)."""
    server = AdbServer.private()
    mp = pytest.MonkeyPatch()
    mp.setenv("ANDROID_ADB_SERVER_PORT", str(server.port))
    mp.delenv("ADB_SERVER_SOCKET", raising=False)
    try:
        yield server.port
    finally:
        mp.undo()
        server.kill()
