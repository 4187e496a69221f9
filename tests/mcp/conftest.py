"""Fixtures for the MCP server's tests: the small task, a private adb server, a clean config."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hostproc.ports import free_port

TASK = Path(__file__).parent / "fixtures" / "add-contact"


@pytest.fixture(scope="session")
def adb_port():
    """A private adb server for the servers under test; only this one is killed afterwards."""
    adb = shutil.which("adb")
    if adb is None:
        pytest.fail("adb is not on PATH (scripts/setup.sh installs it)")
    port = free_port()
    subprocess.run([adb, "-P", str(port), "start-server"], check=True, capture_output=True)
    yield port
    subprocess.run([adb, "-P", str(port), "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def server_env(adb_port, tmp_path):
    """Environment for a ``rig mcp serve`` subprocess: private adb, no user config."""
    env = dict(os.environ)
    env["ANDROID_ADB_SERVER_PORT"] = str(adb_port)
    env.pop("ADB_SERVER_SOCKET", None)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    env.pop("CLAWRIG_MCP_TOKEN", None)
    return env
