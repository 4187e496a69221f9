"""The shell language: quoting, lists, status, redirects, pipes, expansion, control flow."""

from __future__ import annotations

import shlex

import pytest

from emulator.sim.shell import ShellSyntaxError, parse


def test_quoting_rules(run) -> None:
    assert run.out("echo 'a  b' \"c  d\" e\\ f") == "a  b c  d e f\n"
    assert run.out("echo '$HOME' \"$HOME\" \\$HOME") == "$HOME / $HOME\n"
    assert run.out('echo "a\\"b" "x\\y" "\\$" "\\\\"') == 'a"b x\\y $ \\\n'
    assert run.out("echo 'it'\\''s'") == "it's\n"
    assert run.out("echo a\\\nb") == "ab\n"
    assert run.out('echo ""; echo x""y') == "\nxy\n"


def test_shlex_quoted_arguments_survive(run) -> None:
    nasty = 'it\'s "$HOME" `id` 100% \\n ; && | > 😀 漢字'
    assert run.out("printf %s " + shlex.quote(nasty)) == nasty


def test_status_lists_and_exit_codes(run) -> None:
    assert run.out("false; echo $?; true; echo $?") == "1\n0\n"
    assert run.out("false && echo no || echo yes") == "yes\n"
    assert run.out("true && echo a && echo b") == "a\nb\n"
    assert run("exit 7")[0] == 7
    assert run("false")[0] == 1
    assert run.out("! false && echo negated") == "negated\n"
    status, out, _ = run("echo before; exit 3; echo after")
    assert (status, out) == (3, "before\n")


def test_unknown_command_is_127_with_androids_message(run) -> None:
    status, out, err = run("nosuchcmd --flag")
    assert status == 127
    assert out == ""
    assert err == "/system/bin/sh: nosuchcmd: inaccessible or not found\n"
    assert run.out("nosuchcmd 2>/dev/null; echo X4EXIT:$?") == "X4EXIT:127\n"


def test_output_order_is_execution_order(run) -> None:
    _status, out, err = run("echo 1; echo 2 >&2; echo 3")
    assert out == "1\n3\n" and err == "2\n"
    chunks: list[tuple[int, bytes]] = []
    run.shell.run("echo a; ls /nope; echo b", b"", lambda fd, d: chunks.append((fd, d)))
    assert [fd for fd, _ in chunks] == [1, 2, 1]


def test_redirects(run, vfs) -> None:
    run.out("echo one > /sdcard/f.txt; echo two >> /sdcard/f.txt")
    assert vfs.read_bytes("/sdcard/f.txt") == b"one\ntwo\n"
    assert run.out("cat < /sdcard/f.txt") == "one\ntwo\n"
    assert run("ls /nope 2>&1") == (1, "ls: /nope: No such file or directory\n", "")
    assert run("ls /nope 2>/dev/null") == (1, "", "")
    assert run.out("ls /nope > /sdcard/o.txt 2>&1; cat /sdcard/o.txt").startswith("ls: /nope")
    status, _out, err = run("echo x > /no/such/dir/f")
    assert status == 1 and "can't create /no/such/dir/f" in err
    status, _out, err = run("cat < /missing")
    assert status == 1 and "can't open /missing" in err


def test_pipes(run) -> None:
    assert run.out("printf 'a\\nb\\nc\\n' | grep -v b | wc -l") == "2\n"
    assert run.out("echo hello | tr a-z A-Z | head -c 3") == "HEL"
    assert run("echo x | false")[0] == 1
    assert run("false | true")[0] == 0


def test_stdin_reaches_first_reader(run) -> None:
    assert run("cat", stdin=b"piped in")[1] == "piped in"
    assert run("wc -c", stdin=b"12345")[1] == "5\n"


def test_variables_and_expansion(run) -> None:
    assert run.out('A=1; B="$A 2"; echo $B ${A} ${C:-dflt} ${#B}') == "1 2 1 dflt 3\n"
    assert run.out("X='a   b'; echo $X; echo \"$X\"") == "a b\na   b\n"
    assert run.out("export Y=5; echo $Y") == "5\n"
    assert run.out("V=tmp; V=in env | grep -c V=in; echo $V") == "1\ntmp\n"
    assert run.out("echo $((3 + 4 * 2)) $((7 / 2)) $((-7 % 3)) $((1 < 2))") == "11 3 -1 1\n"
    assert run.out("echo $(echo a $(echo b)) `echo c`") == "a b c\n"
    assert run.out("x=$(printf 'l1\\nl2\\n\\n'); echo \"$x\"") == "l1\nl2\n"


def test_subshell_and_group(run) -> None:
    assert run.out("X=1; (X=2; cd /sdcard); echo $X; pwd") == "1\n/\n"
    assert run.out("{ echo a; echo b; } | wc -l") == "2\n"
    assert run.out("cd /sdcard && pwd && cd Download && pwd") == "/sdcard\n/sdcard/Download\n"
    assert run("cd /nope")[0] == 2


def test_control_flow(run, monkeypatch) -> None:
    monkeypatch.setattr("emulator.sim.shell.interp.MAX_LOOP", 500)
    assert run.out("for f in a b 'c d'; do echo \"<$f>\"; done") == "<a>\n<b>\n<c d>\n"
    assert run.out("i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done") == "0\n1\n2\n"
    assert run.out("if false; then echo 1; elif true; then echo 2; else echo 3; fi") == "2\n"
    assert run.out("for i in 1 2 3 4; do if [ $i = 3 ]; then break; fi; echo $i; done") == "1\n2\n"
    assert run.out("for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done") == "1\n3\n"
    assert run.out("i=0; until [ $i = 2 ]; do i=$((i+1)); done; echo $i") == "2\n"
    status, _out, err = run("while true; do :; done")
    assert status == 1 and "loop stopped" in err


def test_globbing(run) -> None:
    run.out("touch /sdcard/Download/a.txt /sdcard/Download/b.txt /sdcard/Download/c.log")
    assert run.out("ls /sdcard/Download/*.txt") == (
        "/sdcard/Download/a.txt\n/sdcard/Download/b.txt\n"
    )
    assert run.out("echo /sdcard/Download/?.log") == "/sdcard/Download/c.log\n"
    assert run.out("echo '/sdcard/Download/*.txt'") == "/sdcard/Download/*.txt\n"
    assert run.out("echo /sdcard/Download/*.none") == "/sdcard/Download/*.none\n"
    assert run.out("cd /sdcard/Download; echo *.txt") == "a.txt b.txt\n"


def test_comments_and_scripts(run, vfs) -> None:
    assert run.out("echo a # a comment\necho b") == "a\nb\n"
    vfs.write_bytes("/data/local/tmp/s.sh", b'#!/system/bin/sh\necho "arg=$1 n=$#"\nexit 4\n')
    assert run("sh /data/local/tmp/s.sh x y") == (4, "arg=x n=2\n", "")
    assert run("/data/local/tmp/s.sh z")[1] == "arg=z n=1\n"
    assert run.out("sh -c 'echo $0-ok'") == "/system/bin/sh-ok\n"
    assert run.out("/system/bin/echo via-path") == "via-path\n"


@pytest.mark.parametrize(
    "line, message",
    [
        ("echo 'open", "no closing quote"),
        ('echo "open', "no closing quote"),
        ("if true; then echo", "expecting 'fi'"),
        ("echo a |", "unexpected"),
        ("&& echo", "unexpected"),
        ("echo $(echo", "missing )"),
        ("cat <<EOF", "here document 'EOF' unclosed"),
    ],
)
def test_syntax_errors_run_nothing(run, line: str, message: str) -> None:
    with pytest.raises(ShellSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(line)
    status, out, err = run("echo ran; " + line)
    assert status != 0 and out == "" and err.startswith("/system/bin/sh: ")


def test_interactive_session_keeps_state(ctx) -> None:
    from emulator.sim.shell import Shell

    session = Shell(ctx).session()
    out: list[bytes] = []

    def write(_fd: int, data: bytes) -> None:
        out.append(data)

    assert session.run("cd /sdcard/Download; X=7", b"", write) == 0
    assert session.run("false", b"", write) == 1
    session.run("echo $? $X; pwd", b"", write)
    assert b"".join(out) == b"1 7\n/sdcard/Download\n"
    assert not session.exited
    assert session.run("exit 4", b"", write) == 4 and session.exited


def test_dev_null_reads_empty(run) -> None:
    assert run("cat /dev/null; grep -c x /dev/null") == (1, "0\n", "")


def test_tilde_is_home(run) -> None:
    assert run.out("echo ~ '~' a~; HOME=/sdcard; echo ~/Download") == "/ ~ a~\n/sdcard/Download\n"


def test_case_and_read_loops(run) -> None:
    script = (
        "for f in a.md b.txt c; do case $f in *.md) echo md;; *.txt|*.log) echo text;; "
        "*) echo other;; esac; done"
    )
    assert run.out(script) == "md\ntext\nother\n"
    assert run.out('case "a*" in "a*") echo literal;; a*) echo glob;; esac') == "literal\n"
    assert run.out("case x in (x) echo paren; esac") == "paren\n"
    assert run.out("printf 'l1\\nl2\\n' | while read l; do echo \"[$l]\"; done") == "[l1]\n[l2]\n"
    status, _out, err = run("case x in x) echo a")
    assert status == 2 and "syntax error" in err


def test_here_documents(run, vfs) -> None:
    script = 'cat > /sdcard/n.md <<EOF\n# "Title" 😀\nhome=$HOME `echo x`\n\\$kept\nEOF\necho done'
    assert run.out(script) == "done\n"
    assert vfs.read_text("/sdcard/n.md") == '# "Title" 😀\nhome=/ x\n$kept\n'
    assert run.out("cat <<'EOF'\n$HOME `x`\nEOF") == "$HOME `x`\n"
    assert run.out("cat <<-END | wc -l\n\ta\n\tb\n\tEND") == "2\n"


def test_functions_and_double_brackets(run) -> None:
    assert run.out('f() { echo "f:$1:$#"; return 3; }; f a b; echo $?') == "f:a:2\n3\n"
    assert run.out("function g { echo g$1; }; g 1; g 2") == "g1\ng2\n"
    fact = (
        "fact() { if [ $1 -le 1 ]; then echo 1; "
        "else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }; fact 5"
    )
    assert run.out(fact) == "120\n"
    assert run("r() { r; }; r")[0] == 2
    assert run.out("x=foo.txt; [[ $x == *.txt ]] && echo glob; [[ $x =~ ^f ]] && echo re") == (
        "glob\nre\n"
    )
    assert run("[[ -f /nope ]]")[0] == 1
    assert run.out('echo "${X:-a b}" ${Y:-$HOME x}') == "a b / x\n"
