"""The README's example task really is solvable: its oracle passes a real episode (virtual
phone + a QEMU laptop holding the mail), not only the static validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.adb import AdbServer
from rig.agents import make_agent
from rig.config import parse_config
from rig.episode import run_episode
from tasks.folder import load_task

FIXTURE = Path(__file__).parent / "fixtures" / "mail-to-calendar"


@pytest.fixture
def private_adb(monkeypatch):
    """A private adb server on a free port for this test's episode; only it is killed."""
    server = AdbServer.private()
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(server.port))
    monkeypatch.delenv("ADB_SERVER_SOCKET", raising=False)
    yield server.port
    server.kill()


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
