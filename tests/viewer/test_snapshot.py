"""State snapshots on the virtual phone, through the real adb: what the report diffs."""

from __future__ import annotations

import pytest

from emulator.adb import AdbServer
from emulator.backends import SimBackend
from rig import snapshot
from rig.config import RigConfig
from rig.report import changes as ch
from rig.world import World

pytestmark = [pytest.mark.integration]

HOSTILE = 'it\'s "$HOME" `date` 100% \\n 🦊 张伟\nsecond line\n'


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = AdbServer.private()
    backend = SimBackend(RigConfig().backend_config("android"), server=server)
    w = World()
    w.add(backend.acquire("phone", tmp_path_factory.mktemp("phone")), owner=backend)
    yield w
    w.close()
    server.kill()


def test_a_change_on_the_phone_reads_back_as_a_diff_with_its_text_intact(world, tmp_path):
    phone = world["phone"]
    base = snapshot.take(world, None)
    assert base["devices"]["phone"]["errors"] == {}
    assert {"sms", "contacts", "call_log", "calendar"} <= set(base["devices"]["phone"]["providers"])
    local = tmp_path / "note.md"
    local.write_bytes(HOSTILE.encode())
    phone.push(local, "/sdcard/Documents/hostile note.md")
    (tmp_path / "api_token.txt").write_text("sk-not-for-the-record")
    phone.push(tmp_path / "api_token.txt", "/sdcard/api_token.txt")
    final = snapshot.take(world, None, base)
    files = final["devices"]["phone"]["files"]
    assert files["/sdcard/Documents/hostile note.md"]["text"] == HOSTILE
    assert files["/sdcard/api_token.txt"] == {"hash": files["/sdcard/api_token.txt"]["hash"],
                                              "withheld": True}  # fmt: skip
    found = {c["key"]: c for c in ch.diff_snapshots(base, final)["targets"]["phone"]["changes"]}
    assert found["/sdcard/Documents/hostile note.md"]["op"] == "added"
    diff = found["/sdcard/Documents/hostile note.md"]["diff"].splitlines()
    assert ["+" + line for line in HOSTILE.splitlines()] == diff[-2:]
    assert "sk-not" not in repr(final)


def test_a_listing_longer_than_the_shell_cap_is_read_whole(world):
    phone = world["phone"]
    name = "a-file-name-long-enough-that-a-few-hundred-of-them-pass-sixty-four-kibibytes"
    res = phone.shell(
        f"mkdir -p /sdcard/many && for i in $(seq 1 900); do echo $i > /sdcard/many/{name}-$i.txt; "
        "done",
        timeout=120,
    )
    assert res.exit_code == 0, res.stderr
    hashes = phone.read_state({"kind": "tree_hashes", "root": "/sdcard/many"})
    assert len(hashes) == 900  # ~95 KB of paths: past the shell's 64 KiB output cap
