"""File commands and their toybox output formats."""

from __future__ import annotations

import hashlib
import re


def test_ls_formats(run, vfs) -> None:
    run.out("printf 12345 > /sdcard/Download/b.txt")
    vfs.write_bytes("/sdcard/Download/.hidden", b"")
    vfs.mkdir("/sdcard/Download/sub")
    assert run.out("ls /sdcard/Download") == "b.txt\nsub\n"
    assert run.out("ls -1 /sdcard/Download") == "b.txt\nsub\n"
    assert run.out("ls -a /sdcard/Download") == ".\n..\n.hidden\nb.txt\nsub\n"
    lines = run.out("ls -l /sdcard/Download").splitlines()
    assert lines[0].startswith("total ")
    assert re.fullmatch(r"-rw-r--r-- 1 u0_a0 media_rw\s+5 2026-01-01 09:00 b\.txt", lines[1]), (
        lines[1]
    )
    assert re.fullmatch(
        r"drwxr-xr-x \d u0_a0 media_rw 4096 \d{4}-\d\d-\d\d \d\d:\d\d sub", lines[2]
    )
    assert run.out("ls -d /sdcard/Download") == "/sdcard/Download\n"
    assert run.out("ls /sdcard/Download/b.txt") == "/sdcard/Download/b.txt\n"
    both = run.out("ls /sdcard/Download/sub /sdcard/Alarms")
    assert both == "/sdcard/Download/sub:\n\n/sdcard/Alarms:\n"
    assert run("ls /nope") == (1, "", "ls: /nope: No such file or directory\n")


def test_cat_cp_mv_rm_mkdir_touch(run, vfs) -> None:
    vfs.write_bytes("/data/local/tmp/a", "ünï 😀\n".encode())
    assert run.out("cat /data/local/tmp/a") == "ünï 😀\n"
    assert run("cat /data/local/tmp/none") == (
        1,
        "",
        "cat: /data/local/tmp/none: No such file or directory\n",
    )
    assert run("cat /sdcard")[2] == "cat: /sdcard: Is a directory\n"
    run.out("cp /data/local/tmp/a /sdcard/Documents/")
    assert vfs.read_bytes("/sdcard/Documents/a") == "ünï 😀\n".encode()
    run.out("mv /sdcard/Documents/a /sdcard/Documents/b")
    assert not vfs.exists("/sdcard/Documents/a") and vfs.exists("/sdcard/Documents/b")
    assert run("cp /sdcard/Documents /sdcard/x")[2] == "cp: Skipped dir '/sdcard/Documents'\n"
    run.out("cp -r /sdcard/Documents /sdcard/Copy")
    assert vfs.exists("/sdcard/Copy/b")
    assert run("rm /sdcard/Copy")[2] == "rm: /sdcard/Copy: is a directory\n"
    run.out("rm -r /sdcard/Copy")
    assert not vfs.exists("/sdcard/Copy")
    assert run("rm -f /sdcard/none")[0] == 0
    assert run("rm /sdcard/none")[0] == 1
    assert run("mkdir /sdcard/x/y")[0] == 1
    run.out("mkdir -p /sdcard/x/y")
    assert run("mkdir /sdcard/x")[2] == "mkdir: '/sdcard/x': File exists\n"
    run.out("touch /sdcard/x/new")
    assert vfs.stat("/sdcard/x/new").st_mtime == 1_767_258_000  # the phone's clock


def test_stat_and_checksums(run, vfs) -> None:
    data = b"hello world\n"
    vfs.write_bytes("/data/local/tmp/u2.jar", data)
    md5 = hashlib.md5(data).hexdigest()
    assert run.out("md5sum /data/local/tmp/u2.jar") == f"{md5}  /data/local/tmp/u2.jar\n"
    assert run.out("toybox md5sum /data/local/tmp/u2.jar").split()[0] == md5
    # By full path, as scripts call it: the applet is still picked by its basename.
    assert run.out("/system/bin/md5sum /data/local/tmp/u2.jar").split()[0] == md5
    assert run("/system/bin/md5sum /none")[2] == "md5sum: /none: No such file or directory\n"
    assert (
        run.out("sha256sum /data/local/tmp/u2.jar").split()[0] == hashlib.sha256(data).hexdigest()
    )
    assert run("md5sum /none")[2] == "md5sum: /none: No such file or directory\n"
    assert (
        run.out("echo -n hello world | md5sum") == f"{hashlib.md5(b'hello world').hexdigest()}  -\n"
    )
    assert run.out("stat -c '%s %a %n %F' /data/local/tmp/u2.jar") == (
        "12 644 /data/local/tmp/u2.jar regular file\n"
    )
    assert "  File: `/sdcard'" in run.out("stat /sdcard")
    assert run("stat /nope")[0] == 1


def test_find(run, vfs) -> None:
    for p in (
        "/sdcard/Documents/Notes/a.md",
        "/sdcard/Documents/Notes/b.txt",
        "/sdcard/Documents/c.md",
    ):
        vfs.write_bytes(p, b"x")
    assert run.out("find /sdcard/Documents -name '*.md'") == (
        "/sdcard/Documents/Notes/a.md\n/sdcard/Documents/c.md\n"
    )
    assert run.out("find /sdcard/Documents -maxdepth 1 -type f") == "/sdcard/Documents/c.md\n"
    assert run.out("find /sdcard/Documents -type d") == (
        "/sdcard/Documents\n/sdcard/Documents/Notes\n"
    )
    run.out("find /sdcard/Documents/Notes -name '*.txt' -delete")
    assert not vfs.exists("/sdcard/Documents/Notes/b.txt")
    assert run("find /nope")[0] == 1


def test_chmod_chown_ln_basename(run, vfs) -> None:
    vfs.write_bytes("/data/local/tmp/s", b"")
    run.out("chmod 755 /data/local/tmp/s")
    assert vfs.stat("/data/local/tmp/s").st_mode & 0o777 == 0o755
    run.out("chmod go-x /data/local/tmp/s")
    assert vfs.stat("/data/local/tmp/s").st_mode & 0o777 == 0o744
    assert run("chown shell:shell /data/local/tmp/s")[0] == 0
    assert run("restorecon -R /sdcard")[0] == 0
    assert run("chown root /nope")[0] == 1
    run.out("ln -s /data/local/tmp/s /sdcard/link")
    assert run.out("readlink -f /sdcard/link") == "/data/local/tmp/s\n"
    assert run.out("basename /a/b/c.txt .txt; dirname /a/b/c.txt") == "c\n/a/b\n"


def test_paths_stay_inside_the_phone(run, vfs) -> None:
    assert run.out("cd /../../..; pwd") == "/\n"
    assert "passwd" not in run.out("ls /etc 2>/dev/null; echo done")


def test_symlinks_show_device_targets(run) -> None:
    run.out("ln -s /data/local/tmp /sdcard/tmp")
    assert run.out("ls -l /sdcard | grep tmp").endswith(" tmp -> /data/local/tmp\n")
    assert run.out("ls -l /storage/emulated").endswith(" 0 -> /sdcard\n")
    run.out("rm /sdcard/tmp")
    assert run("ls /sdcard/tmp")[0] == 1


def test_touch_sets_given_times(run, clock) -> None:
    clock.set_timezone("Europe/Paris")
    run.out("touch -d '2025-12-24 18:30:00' /sdcard/a; touch -t 202512251200.30 /sdcard/b")
    run.out("touch -r /sdcard/a /sdcard/c; touch -d 2025-12-24T17:30:00Z /sdcard/d")
    out = run.out("stat -c '%n %Y' /sdcard/a /sdcard/b /sdcard/c /sdcard/d")
    assert out == (
        "/sdcard/a 1766597400\n/sdcard/b 1766660430\n/sdcard/c 1766597400\n/sdcard/d 1766597400\n"
    )
    assert run("touch -d nonsense /sdcard/e") == (1, "", "touch: bad date 'nonsense'\n")
