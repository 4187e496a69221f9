"""Text filters as clients and agents pipe into them."""

from __future__ import annotations

LINES = "apple 3\nBanana 1\ncherry 2\napple 3\n"


def test_grep(run, vfs) -> None:
    vfs.write_bytes("/sdcard/f.txt", LINES.encode())
    assert run.out("grep apple /sdcard/f.txt") == "apple 3\napple 3\n"
    assert run.out("grep -i banana /sdcard/f.txt") == "Banana 1\n"
    assert run.out("grep -c apple /sdcard/f.txt") == "2\n"
    assert run.out("grep -v apple /sdcard/f.txt") == "Banana 1\ncherry 2\n"
    assert run.out("grep -n cherry /sdcard/f.txt") == "3:cherry 2\n"
    assert run.out("grep -o '[0-9]' /sdcard/f.txt | head -2") == "3\n1\n"
    assert run.out("grep -E 'Ban|che' /sdcard/f.txt") == "Banana 1\ncherry 2\n"
    assert run.out("grep 'Ban\\|che' /sdcard/f.txt") == "Banana 1\ncherry 2\n"
    assert run.out("grep -F 'a.' /sdcard/f.txt; echo $?") == "1\n"
    assert run("grep -q apple /sdcard/f.txt") == (0, "", "")
    assert run("grep zzz /sdcard/f.txt")[0] == 1
    assert run("grep x /nope") == (2, "", "grep: /nope: No such file or directory\n")
    assert run.out("grep -l apple /sdcard/f.txt /sdcard/f.txt") == "/sdcard/f.txt\n/sdcard/f.txt\n"


def test_head_tail_wc(run, vfs) -> None:
    vfs.write_bytes("/sdcard/f.txt", LINES.encode())
    assert run.out("head -n 1 /sdcard/f.txt") == "apple 3\n"
    assert run.out("head -2 /sdcard/f.txt") == "apple 3\nBanana 1\n"
    assert run.out("tail -n 1 /sdcard/f.txt") == "apple 3\n"
    assert run.out("tail -n +3 /sdcard/f.txt") == "cherry 2\napple 3\n"
    assert run.out("tail -c 2 /sdcard/f.txt") == "3\n"
    assert run.out("wc -l /sdcard/f.txt") == "4 /sdcard/f.txt\n"
    assert run.out("cat /sdcard/f.txt | wc -l") == "4\n"
    assert run.out("printf 'a b\\nc' | wc") == "1 3 5\n"


def test_sort_uniq_cut_tr(run, vfs) -> None:
    vfs.write_bytes("/sdcard/f.txt", LINES.encode())
    assert run.out("sort /sdcard/f.txt") == "Banana 1\napple 3\napple 3\ncherry 2\n"
    assert run.out("sort -u /sdcard/f.txt | wc -l") == "3\n"
    assert run.out("sort -k 2 -n /sdcard/f.txt | head -1") == "Banana 1\n"
    assert run.out("sort -r /sdcard/f.txt | head -1") == "cherry 2\n"
    assert (
        run.out("sort /sdcard/f.txt | uniq -c | head -2") == "      1 Banana 1\n      2 apple 3\n"
    )
    assert run.out("cut -d ' ' -f 1 /sdcard/f.txt | head -2") == "apple\nBanana\n"
    assert run.out("echo abcdef | cut -c 2-4") == "bcd\n"
    assert run.out("echo hello | tr a-z A-Z") == "HELLO\n"
    assert run.out("echo 'a  b   c' | tr -s ' '") == "a b c\n"
    assert run.out("echo 'a1b2' | tr -d '[:digit:]'") == "ab\n"


def test_sed(run, vfs) -> None:
    vfs.write_bytes("/sdcard/f.txt", LINES.encode())
    assert run.out("sed 's/apple/pear/' /sdcard/f.txt | head -1") == "pear 3\n"
    assert run.out("echo aaa | sed 's/a/b/g'") == "bbb\n"
    assert run.out("echo aaa | sed 's/a/b/2'") == "aba\n"
    assert run.out("echo 'x=1' | sed -E 's/([a-z])=([0-9])/\\2=\\1/'") == "1=x\n"
    assert run.out("echo 'path/to' | sed 's|/|:|'") == "path:to\n"
    assert run.out("sed -n '2p' /sdcard/f.txt") == "Banana 1\n"
    assert run.out("sed '1d;3d' /sdcard/f.txt") == "Banana 1\napple 3\n"
    assert run.out("sed '/apple/d' /sdcard/f.txt") == "Banana 1\ncherry 2\n"
    run.out("sed -i 's/cherry/CHERRY/' /sdcard/f.txt")
    assert b"CHERRY 2" in vfs.read_bytes("/sdcard/f.txt")
    assert run("sed 's/a/b' /sdcard/f.txt")[0] == 1
    assert run.out("echo abcd | sed -e s/a/A/ -e s/d/D/") == "AbcD\n"
    assert run.out("grep -e Banana -e CHERRY /sdcard/f.txt") == "Banana 1\nCHERRY 2\n"


def test_xargs_tee_base64(run, vfs) -> None:
    assert run.out("printf 'a\\nb\\n' | xargs echo") == "a b\n"
    assert run.out("printf 'a\\nb\\n' | xargs -n 1 echo x") == "x a\nx b\n"
    assert run.out("echo /sdcard/t1 | xargs touch; ls /sdcard/t1") == "/sdcard/t1\n"
    assert run.out("echo hi | tee /sdcard/tee.txt") == "hi\n"
    assert vfs.read_bytes("/sdcard/tee.txt") == b"hi\n"
    assert run.out("echo -n 'héllo' | base64") == "aMOpbGxv\n"
    assert run.out("echo aMOpbGxv | base64 -d") == "héllo"


def test_echo_printf(run) -> None:
    assert run.out("echo -n a; echo b") == "ab\n"
    # Android's sh is mksh in sh mode: echo prints backslashes as they are, only -n is an option
    assert run.out("echo 'a\\tb' '\\0'") == "a\\tb \\0\n"
    assert run.out("echo -e x; echo -E y") == "-e x\n-E y\n"
    assert run.out("printf '%5s|%-3d|%x|%%\\n' ab 7 255") == "   ab|7  |ff|%\n"
    assert run.out("printf '%s\\n' one two") == "one\ntwo\n"
    assert run("printf '%d' abc")[0] == 1
