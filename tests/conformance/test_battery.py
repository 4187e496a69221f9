"""The conformance battery on every backend available here, and on devices that lie.

The same checks ``rig doctor --android/--linux`` prints: the virtual phone booted by
the ``sim`` backend, the same phone served by ``rig phone serve`` and attached by
serial, and a QEMU VM. A phone made to lie (a provider column dropped, a shell that
reformats a timestamp, a screen of the wrong size) fails the check that names the
broken assumption, with evidence, and only that one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from emulator.adb import AdbServer
from emulator.device import AdbAndroidDevice
from rig.cli import app
from rig.config import RigConfig, parse_config
from rig.conformance import Check, bring_up, run_battery
from rig.episode import backend_overrides

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ANDROID_CHECKS = 14
LINUX_CHECKS = 6


@pytest.fixture(scope="module")
def adb_port() -> Iterator[int]:
    server = AdbServer.private()
    mp = pytest.MonkeyPatch()
    mp.setenv("ANDROID_ADB_SERVER_PORT", str(server.port))
    yield server.port
    mp.undo()
    server.kill()


def _table(checks: list[Check]) -> str:
    return "\n".join(f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.evidence}" for c in checks)


@pytest.fixture(scope="module")
def served_phone(tmp_path_factory, adb_port) -> Iterator[str]:
    """``rig phone serve`` in its own process; yields the serial it prints."""
    state = tmp_path_factory.mktemp("served")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rig.cli",
            "phone",
            "serve",
            "--adb-port",
            "0",
            "--console-port",
            "0",
            "--state-dir",
            str(state / "phone"),
            "--console-token-file",
            str(state / "token"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        serial = proc.stdout.readline().strip()
        assert serial.startswith("127.0.0.1:"), serial
        yield serial
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.mark.parametrize("backend", ["sim", "attach"])
def test_android_battery_passes(backend, tmp_path, adb_port, request) -> None:
    spec = "sim" if backend == "sim" else "attach:" + request.getfixturevalue("served_phone")
    cfg = backend_overrides(RigConfig(), android=spec)
    with bring_up("android", cfg, tmp_path) as device:
        checks = run_battery(device)
    assert len(checks) == ANDROID_CHECKS
    assert all(c.ok for c in checks), _table(checks)


@pytest.mark.vm
def test_linux_battery_passes_on_qemu_and_on_attach_to_it(tmp_path) -> None:
    """One VM: the battery through the ``qemu`` backend, then through ``attach`` over
    SSH to the same VM (as a user's own host would be reached)."""
    from linux_vm.image import find_image

    cfg = RigConfig()
    with bring_up("linux", backend_overrides(cfg, linux="qemu"), tmp_path / "q") as vm:
        checks = run_battery(vm)
        assert len(checks) == LINUX_CHECKS
        assert all(c.ok for c in checks), _table(checks)
        image = find_image(cfg.backend_config("linux").cache.expanduser(), cfg.linux.qemu.image)
        assert image is not None
        data = backend_overrides(cfg, linux=f"attach:user@127.0.0.1:{vm.ssh_port}").model_dump()
        data["linux"]["attach"]["key"] = str(image.ssh_key)
        with bring_up("linux", parse_config(data, None), tmp_path / "a") as host:
            assert type(host).__name__ == "SshLinuxDevice"
            attached = run_battery(host)
    assert len(attached) == LINUX_CHECKS
    assert all(c.ok for c in attached), _table(attached)


def test_doctor_prints_the_table_and_exits_zero(tmp_path, adb_port) -> None:
    result = CliRunner().invoke(app, ["doctor", "--android", "sim", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "conformance: android sim" in result.output
    assert f"{ANDROID_CHECKS}/{ANDROID_CHECKS} checks passed" in result.output
    # Which app roles the phone fills (tasks name apps by role), and with which package.
    assert "app roles: android sim (profile virtual-phone)" in result.output
    assert "roles filled: 13/13: messages, contacts, calendar, clock, files" in result.output


def test_doctor_exits_one_when_the_device_does_not_come_up(tmp_path, adb_port) -> None:
    result = CliRunner().invoke(
        app, ["doctor", "--android", "attach:127.0.0.1:1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 1, result.output
    assert "bring up" in result.output and "FAIL" in result.output


# -- devices that lie ------------------------------------------------------------------


@pytest.fixture
def lying_phone(tmp_path, adb_port, monkeypatch):
    """A virtual phone in this process, so a test can make one of its parts lie first."""
    from emulator.sim.phone import Phone

    server = AdbServer(port=adb_port)
    phones: list[Phone] = []

    def start() -> AdbAndroidDevice:
        phone = Phone(tmp_path / "phone", console_token_path=tmp_path / "token")
        phone.start()
        phones.append(phone)
        return AdbAndroidDevice(server, server.connect(phone.serial), role="phone")

    yield start
    for phone in phones:
        server.disconnect(phone.serial)
        phone.stop()


def _only_failure(checks: list[Check]) -> Check:
    failed = [c for c in checks if not c.ok]
    assert len(failed) >= 1, _table(checks)
    return failed[0]


def test_a_dropped_provider_column_fails_the_calendar_check(lying_phone, monkeypatch) -> None:
    from emulator.sim.providers.store import SqliteProviders

    real = SqliteProviders.query

    def query(self, uri, projection=None, *args, **kwargs):
        rows = real(self, uri, projection, *args, **kwargs)
        if "calendar" in uri:
            return [{k: v for k, v in r.items() if k != "eventTimezone"} for r in rows]
        return rows

    monkeypatch.setattr(SqliteProviders, "query", query)
    checks = {c.name: c for c in run_battery(lying_phone())}
    assert not checks["seed calendar"].ok
    assert "eventTimezone" in checks["seed calendar"].evidence
    assert [n for n, c in checks.items() if not c.ok] == ["seed calendar"], _table(
        list(checks.values())
    )


def test_a_shell_that_reformats_mtimes_fails_the_files_check(lying_phone, monkeypatch) -> None:
    from emulator.sim.shell.commands import REGISTRY, all_commands

    real = all_commands()["stat"]

    def stat(sh, io, argv):  # `%Y` (epoch seconds) printed as a readable date instead
        return real(sh, io, [a.replace("%Y", "%y") for a in argv])

    monkeypatch.setitem(REGISTRY, "stat", stat)
    checks = {c.name: c for c in run_battery(lying_phone())}
    failed = sorted(n for n, c in checks.items() if not c.ok)
    assert failed == ["seed files with mtimes", "tar"], _table(list(checks.values()))
    # The seeder's own read-back no longer parses what `stat` said about the file.
    assert "SeedMismatch" in checks["seed files with mtimes"].evidence
    assert "files[0]" in checks["seed files with mtimes"].evidence


def test_a_screen_of_the_wrong_size_fails_the_screen_checks(lying_phone, monkeypatch) -> None:
    from emulator.sim.shell.commands import REGISTRY, all_commands

    real = all_commands()["wm"]

    def wm(sh, io, argv):
        if argv[1:] == ["size"]:
            io.out("Physical size: 1080x1920\n")
            return 0
        return real(sh, io, argv)

    monkeypatch.setitem(REGISTRY, "wm", wm)
    checks = {c.name: c for c in run_battery(lying_phone())}
    assert not checks["screen size"].ok
    assert "1080x2400" in checks["screen size"].evidence
    assert "1080x1920" in checks["screen size"].evidence
    assert checks["seed contacts"].ok and checks["clock and time zone"].ok
