"""The README's example task really is solvable: its oracle passes a real episode (virtual
phone + a QEMU laptop holding the mail), not only the static validation."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from rig.agents import make_agent
from rig.config import parse_config
from rig.episode import run_episode
from tasks.folder import load_task

FIXTURE = Path(__file__).parent / "fixtures" / "mail-to-calendar"


@pytest.fixture
def private_adb(monkeypatch):
    """A private adb server on a free port for this test's episode; only it is killed."""
    adb = shutil.which("adb")
    if adb is None:
        pytest.fail("adb is not on PATH (scripts/setup.sh installs it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([adb, "-P", str(port), "start-server"], check=True, capture_output=True)
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(port))
    monkeypatch.delenv("ADB_SERVER_SOCKET", raising=False)
    yield port
    subprocess.run([adb, "-P", str(port), "kill-server"], capture_output=True, timeout=30)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.vm
@pytest.mark.timeout(1200)
def test_the_oracle_passes_a_real_episode(private_adb, tmp_path):
    # A loaded 2-core CI machine boots TCG guests slowly; give the VM room, not the agent.
    config = parse_config({"linux": {"qemu": {"boot_timeout_s": 600}}})
    loaded = load_task(FIXTURE)
    result = run_episode(loaded, make_agent("oracle", FIXTURE, config), config, tmp_path)
    assert result.ran, result.infra_error or result.error
    failed = [c for c in result.checks + result.safety if not c["passed"]]
    assert result.passed, failed
    assert result.steps < loaded.task.limits.max_steps, result.done_reason
