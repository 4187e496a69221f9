"""The emulator-console client against the virtual phone's console port."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.console import Console, read_token
from emulator.errors import ConsoleError

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def token_phone(tmp_path_factory: pytest.TempPathFactory):
    from emulator.sim.phone import spawn_phone

    base = tmp_path_factory.mktemp("console")
    token = base / "token"
    token.write_text("s3cret-token\n")
    proc = spawn_phone(base / "state", console_token_path=token)
    yield proc, token
    proc.stop()


def test_auth_commands_and_snapshots(token_phone) -> None:
    proc, token = token_phone
    assert read_token(token) == "s3cret-token"
    with Console(proc.console_port, token_path=token) as con:
        assert con.avd_name()
        con.snapshot_save("c1")
        assert any("c1" in line for line in con.snapshot_list())
        con.snapshot_load("c1")
        with pytest.raises(ConsoleError, match="does not exist"):
            con.snapshot_load("missing")
        with pytest.raises(ConsoleError, match="one line"):
            con.command("avd name\nkill")


def test_bad_or_missing_token(token_phone, tmp_path: Path) -> None:
    proc, _ = token_phone
    with pytest.raises(ConsoleError, match="authentication token does not match"):
        Console(proc.console_port, token="wrong").open()
    with pytest.raises(ConsoleError, match="requires auth and there is no token"):
        Console(proc.console_port, token_path=tmp_path / "absent").open()
    with pytest.raises(ConsoleError, match="cannot connect"):
        Console(1, timeout=2).open()
