from __future__ import annotations

import os

import pytest

from emulator.sim.contracts import VirtualFS
from emulator.sim.vfs import FsError, LocalFS, normalize


def test_implements_contract(vfs: LocalFS) -> None:
    assert isinstance(vfs, VirtualFS)


def test_skeleton_created_on_first_use(vfs: LocalFS) -> None:
    assert not vfs.root.exists()
    for d in (
        "/sdcard/Download",
        "/sdcard/Documents",
        "/sdcard/DCIM",
        "/sdcard/Pictures",
        "/sdcard/Music",
        "/sdcard/Alarms",
        "/data/local/tmp",
        "/data/data",
        "/system/bin",
    ):
        assert vfs.is_dir(d), d
    assert (vfs.root / "sdcard" / "Download").is_dir()
    assert "0" in vfs.listdir("/storage/emulated")


def test_sdcard_aliases_are_one_tree(vfs: LocalFS) -> None:
    vfs.write_bytes("/storage/emulated/0/Download/a.txt", b"hi")
    assert vfs.read_bytes("/sdcard/Download/a.txt") == b"hi"
    assert vfs.read_bytes("/storage/self/primary/Download/a.txt") == b"hi"
    assert vfs.host_path("/storage/emulated/0/x") == vfs.host_path("/sdcard/x")
    assert (vfs.root / "sdcard" / "Download" / "a.txt").read_bytes() == b"hi"


def test_dotdot_cannot_escape(vfs: LocalFS, tmp_path) -> None:
    p = vfs.host_path("/../../../etc/passwd")
    assert str(p).startswith(os.path.realpath(vfs.root))
    assert normalize("/sdcard/../../x") == "/x"
    assert normalize("a/b", cwd="/data/local/tmp") == "/data/local/tmp/a/b"


def test_symlink_outside_root_is_refused(vfs: LocalFS, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    (vfs.host_path("/sdcard")).joinpath("evil").symlink_to(outside)
    with pytest.raises(FsError, match="outside"):
        vfs.host_path("/sdcard/evil/secret")
    assert not vfs.exists("/sdcard/evil/secret")


def test_write_read_list_remove(vfs: LocalFS) -> None:
    vfs.write_bytes("/data/local/tmp/d/f.bin", b"\x00\xff", mode=0o755)
    assert vfs.stat("/data/local/tmp/d/f.bin").st_mode & 0o777 == 0o755
    assert vfs.listdir("/data/local/tmp/d") == ["f.bin"]
    with pytest.raises(OSError):
        vfs.remove("/data/local/tmp/d")
    vfs.remove("/data/local/tmp/d", recursive=True)
    assert not vfs.exists("/data/local/tmp/d")
    with pytest.raises(FsError):
        vfs.remove("/sdcard", recursive=True)


def test_mkdir_without_parents_fails_on_missing_parent(vfs: LocalFS) -> None:
    with pytest.raises(FileNotFoundError):
        vfs.mkdir("/sdcard/a/b", parents=False)
    vfs.mkdir("/sdcard/a/b")
    assert vfs.is_dir("/sdcard/a/b")


def test_nul_in_path_is_an_error(vfs: LocalFS) -> None:
    with pytest.raises(FsError, match="invalid device path"):
        vfs.host_path("/sdcard/a\0b")


def test_skeleton_and_writes_take_the_phone_clock(tmp_path) -> None:
    from emulator.sim.clock import PhoneClock

    fs = LocalFS(tmp_path / "fs")
    assert fs.is_dir("/sdcard/Download")  # created before the clock is known
    clock = PhoneClock(tmp_path / "system.json")
    fs.attach_clock(clock)
    assert fs.stat("/sdcard/Download").st_mtime == clock.now_ms() / 1000
    fs.write_bytes("/sdcard/a", b"1")
    fs.mkdir("/sdcard/d")
    assert fs.stat("/sdcard/a").st_mtime == fs.stat("/sdcard/d").st_mtime == clock.now_ms() / 1000


def test_a_symlink_pointing_out_can_be_seen_and_removed(vfs: LocalFS, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    link = vfs.host_path("/sdcard") / "evil"
    link.symlink_to(outside)
    assert vfs.stat("/sdcard/evil") is not None  # lstat: described, not followed
    with pytest.raises(FsError):
        vfs.listdir("/sdcard/evil")
    vfs.remove("/sdcard/evil")
    assert not link.is_symlink() and outside.exists()
