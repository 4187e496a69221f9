"""Over the real adb server: the phone's sqlite3 stays in the phone, and the console
token the rig writes is the owner's alone (issue 12, item 4)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from emulator.adb import AdbServer
from emulator.backends import SimBackend
from rig.config import RigConfig

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DB = "/data/local/tmp/t.db"


@pytest.fixture(scope="module")
def acquired(tmp_path_factory):
    server = AdbServer.private()
    backend = SimBackend(RigConfig().backend_config("android"), server=server)
    workdir = tmp_path_factory.mktemp("phone")
    device = backend.acquire("phone", workdir)
    try:
        yield device, workdir
    finally:
        backend.release(device)
        server.kill()


def test_console_token_is_mode_0600(acquired) -> None:
    _device, workdir = acquired
    mode = stat.S_IMODE((workdir / "console_token").stat().st_mode)
    assert mode == 0o600, oct(mode)


def test_attach_and_vacuum_into_over_adb_touch_no_host_file(acquired, tmp_path: Path) -> None:
    device, workdir = acquired
    seeded = device.shell(f"sqlite3 {DB} 'create table t(x); insert into t values (42)'")
    assert seeded.exit_code == 0
    attach, vacuum = tmp_path / "attached.db", tmp_path / "vacuumed.db"
    r1 = device.shell(f"sqlite3 {DB} \"ATTACH DATABASE '{attach}' AS h; CREATE TABLE h.y(z)\"")
    r2 = device.shell(f"sqlite3 {DB} \"VACUUM INTO '{vacuum}'\"")
    assert not attach.exists() and not vacuum.exists(), (r1, r2)
    assert r1.exit_code != 0 and r2.exit_code != 0  # no such directory on the phone
    # A device path names the phone's own file.
    copy = "/sdcard/Download/copy.db"
    assert device.shell(f"sqlite3 {DB} \"VACUUM INTO '{copy}'\"").exit_code == 0
    assert (workdir / "phone" / "fs" / copy.lstrip("/")).is_file()
    out = device.shell(f"sqlite3 {DB} \"ATTACH '{copy}' AS v; SELECT x FROM v.t\"")
    assert out.stdout.strip() == "42"
