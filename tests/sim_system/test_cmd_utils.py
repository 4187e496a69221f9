"""Small toybox applets: seq, expr, du, mktemp, diff, cmp, and root-only tools."""

from __future__ import annotations


def test_seq_and_expr(run) -> None:
    assert run.out("seq 3") == "1\n2\n3\n"
    assert run.out("seq 2 2 6") == "2\n4\n6\n"
    assert run.out("seq -w 8 10") == "08\n09\n10\n"
    assert run.out("for i in $(seq 1 3); do printf $i; done") == "123"
    assert run.out("expr 3 + 4 \\* 2") == "11\n"
    assert run.out("i=1; i=$(expr $i + 1); echo $i") == "2\n"
    assert run.out("expr length hello") == "5\n"
    assert run("expr 1 = 2") == (1, "0\n", "")
    assert run("expr 1 / 0")[0] == 2
    assert run("seq x")[2] == "seq: invalid number 'x'\n"


def test_du_mktemp(run, vfs) -> None:
    vfs.write_bytes("/sdcard/Download/big", b"x" * 10_000)
    size, label = run.out("du -s /sdcard/Download").split("\t")
    assert int(size) >= 10 and label == "/sdcard/Download\n"
    assert run.out("du -sh /sdcard/Download/big").endswith("\t/sdcard/Download/big\n")
    path = run.out("mktemp").strip()
    assert path.startswith("/data/local/tmp/tmp.") and vfs.exists(path)
    path = run.out("mktemp -d /sdcard/work.XXXXXX").strip()
    assert vfs.is_dir(path)


def test_diff_and_cmp(run, vfs) -> None:
    vfs.write_bytes("/sdcard/1", b"a\nb\nc\n")
    vfs.write_bytes("/sdcard/2", b"a\nB\nc\nd\n")
    assert run("diff /sdcard/1 /sdcard/2") == (1, "2c2\n< b\n---\n> B\n3a4\n> d\n", "")
    status, out, _err = run("diff -u /sdcard/1 /sdcard/2")
    assert status == 1 and out.startswith("--- /sdcard/1\n+++ /sdcard/2\n@@ -1,3 +1,4 @@\n")
    assert run("diff /sdcard/1 /sdcard/1") == (0, "", "")
    assert run("cmp /sdcard/1 /sdcard/2") == (1, "/sdcard/1 /sdcard/2 differ: char 3, line 2\n", "")


def test_root_only_tools_are_refused(run) -> None:
    assert run("reboot") == (1, "", "reboot: Operation not permitted\n")
    assert run("su -c id")[0] == 127


def test_files_carry_the_phone_time(run, vfs) -> None:
    vfs.write_bytes("/sdcard/Documents/n.md", b"x")
    assert run.out("stat -c %Y /sdcard/Documents/n.md /sdcard/Alarms") == "1767258000\n" * 2
    assert run.out("find /sdcard/Documents -type f -mmin -1") == "/sdcard/Documents/n.md\n"
    run.out("date -s '2026-01-03 09:00:00'")
    assert run.out("find /sdcard/Documents -type f -mtime +1") == "/sdcard/Documents/n.md\n"
