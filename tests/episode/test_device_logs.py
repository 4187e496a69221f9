"""Device logs in every record: logcat and the virtual phone's stderr, a VM's serial
console; redacted; an infra error names the log that explains it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.agents.noop import NoopAgent
from rig.config import RigConfig
from rig.device_logs import explaining_log, save_logs
from rig.episode import Episode, run_episode
from rig.redact import Redactor
from tasks.folder import load_task

PHONE_TASK = Path(__file__).parents[1] / "mcp" / "fixtures" / "add-contact"
LAPTOP_TASK = Path(__file__).parent / "fixtures" / "laptop-answer"


@pytest.fixture
def private_adb(monkeypatch):
    from emulator.adb import AdbServer

    server = AdbServer.private()
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(server.port))
    yield
    server.kill()


@pytest.mark.integration
@pytest.mark.slow
def test_phone_record_has_its_logcat_and_stderr(tmp_path, private_adb):
    out = tmp_path / "ep"
    result = run_episode(load_task(PHONE_TASK), NoopAgent(), RigConfig(), out)
    assert result.ran, result.infra_error or result.error
    logcat = (out / "logs" / "phone-logcat.txt").read_text()
    # Seeding wrote the contacts through the provider; the rig's reset drew the home screen.
    assert "ContentProvider: insert content://com.android.contacts/" in logcat
    assert "ActivityTaskManager: Displayed" in logcat
    assert "Zoë" not in logcat  # values stay in the databases
    assert (out / "logs" / "phone-sim-stderr.txt").exists()


@pytest.mark.integration
@pytest.mark.slow
def test_a_phone_that_dies_is_an_infra_error_naming_its_log(tmp_path, private_adb):
    episode = Episode(load_task(PHONE_TASK), RigConfig(), tmp_path / "ep")
    try:
        env = episode.setup()
        backend = episode.world._owners["phone"]
        phone = next(iter(backend._phones.values()))[0]
        with open(phone.log_path, "a") as fh:  # what a dying phone process would print last
            fh.write("Traceback (most recent call last):\nMemoryError: phone out of memory\n")
        phone.kill()
        env.step({"action": "tap", "device": "phone", "x": 10, "y": 10})
        result = episode.finish()
    except Exception as exc:
        result = episode.fail(exc)
    finally:
        episode.close()
    assert result.infra_error, result.error
    assert "see logs/phone-sim-stderr.txt, which ends:" in result.infra_error
    assert "MemoryError: phone out of memory" in result.infra_error
    logcat = (tmp_path / "ep" / "logs" / "phone-logcat.txt").read_text()
    assert logcat.startswith("(logcat unavailable:")


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.vm
def test_vm_record_has_its_serial_console(tmp_path):
    out = tmp_path / "ep"
    episode = Episode(load_task(LAPTOP_TASK), RigConfig(), out)
    try:
        episode.setup()
        # A VM restored from its snapshot has printed nothing yet: the guest writes a line.
        ran = episode.world["laptop"].shell("echo clawrig-serial-mark | sudo tee /dev/ttyS0")
        assert ran.exit_code == 0, ran
        result = episode.finish()
    except Exception as exc:
        result = episode.fail(exc)
    finally:
        episode.close()
    assert result.ran, result.infra_error or result.error
    assert "clawrig-serial-mark" in (out / "logs" / "laptop-serial.log").read_text()
    assert (out / "logs" / "laptop-qemu-stderr.txt").exists()


class _Device:
    def __init__(self, logs: dict[str, bytes] | Exception) -> None:
        self._logs = logs

    def logs(self) -> dict[str, bytes]:
        if isinstance(self._logs, Exception):
            raise self._logs
        return self._logs


def test_logs_are_redacted_and_a_failing_reader_is_noted(tmp_path):
    redactor = Redactor(["s3cr3t-token-value"])
    devices = {
        "phone": _Device({"logcat.txt": b"I Tag: token s3cr3t-token-value sent\n"}),
        "tablet": _Device(RuntimeError("adb went away")),
    }
    saved = save_logs(devices, tmp_path / "devices", tmp_path, redactor)
    text = saved["phone-logcat.txt"].read_text()
    assert "s3cr3t-token-value" not in text and "I Tag: token" in text
    assert "adb went away" in saved["tablet-logs-error.txt"].read_text()


def test_left_behind_host_logs_are_kept_when_allocation_failed(tmp_path):
    role = tmp_path / "devices" / "laptop"
    role.mkdir(parents=True)
    (role / "console.log").write_text("[    0.0] Linux version 6.1\nKernel panic - not syncing\n")
    saved = save_logs({}, tmp_path / "devices", tmp_path, Redactor())
    assert "Kernel panic" in saved["laptop-serial.log"].read_text()
    hint = explaining_log(saved, "allocate: BootError: laptop did not boot")
    assert hint == (
        "see logs/laptop-serial.log, which ends: [    0.0] Linux version 6.1 | "
        "Kernel panic - not syncing"
    )
