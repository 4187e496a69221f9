"""The shell's own built-ins: echo, printf, test, cd, variables, control flow."""

from __future__ import annotations

import fnmatch
import re
import time

from emulator.sim.shell.commands import command
from emulator.sim.shell.interp import (
    SH,
    CommandError,
    ExitShell,
    InStream,
    Interp,
    Io,
    _Break,
    _Return,
)

MAX_SLEEP = 30.0
_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
}


def unescape(text: str) -> tuple[str, bool]:
    """Backslash sequences as mksh's echo/print read them; True when ``\\c`` stops output."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        n = text[i + 1]
        if n == "c":
            return "".join(out), True
        if n in _ESCAPES:
            out.append(_ESCAPES[n])
            i += 2
        elif n == "0" or n in "1234567":
            m = re.match(r"0?[0-7]{0,3}", text[i + 1 :])
            digits = m.group(0) if m else ""
            octal = digits[1:] if digits.startswith("0") else digits
            out.append(chr(int(octal or "0", 8) & 0xFF))
            i += 1 + len(digits)
        else:
            out.append("\\" + n)
            i += 2
    return "".join(out), False


@command("echo")
def echo(sh: Interp, io: Io, argv: list[str]) -> int:
    """mksh's echo in sh mode (how Android runs it): only a first ``-n`` is an option, and
    backslashes are printed as they are."""
    args = argv[1:]
    newline = True
    if args and args[0] == "-n":
        newline = False
        args = args[1:]
    io.out(" ".join(args) + ("\n" if newline else ""))
    return 0


_FMT = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([diouxXcsbfeEgG%])")


def _num(value: str, name: str) -> int:
    v = value.strip()
    if v[:1] in "'\"" and len(v) > 1:
        return ord(v[1])
    try:
        return (
            int(v, 0) if re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+|[-+]?0[0-7]*", v) else int(v or "0")
        )
    except ValueError:
        raise CommandError(f"{name}: invalid number '{value}'") from None


@command("printf")
def printf(sh: Interp, io: Io, argv: list[str]) -> int:
    if len(argv) < 2:
        raise CommandError("printf: Needs 1 argument")
    fmt, args = argv[1], argv[2:]
    fmt_text, _ = unescape(fmt.replace("\\c", "\\\\c"))
    out: list[str] = []
    while True:
        used = 0

        def take(pending: list[str] = args) -> str:
            nonlocal used
            used += 1
            return pending[used - 1] if used <= len(pending) else ""

        pos = 0
        for m in _FMT.finditer(fmt_text):
            out.append(fmt_text[pos : m.start()])
            pos = m.end()
            fl, width, prec, conv = m.groups()
            if conv == "%":
                out.append("%")
                continue
            if width == "*":
                width = str(_num(take(), "printf"))
            if prec == "*":
                prec = str(_num(take(), "printf"))
            spec = "%" + fl + (width or "") + (f".{prec}" if prec is not None else "")
            arg = take()
            if conv in "diouxX":
                n = _num(arg, "printf")
                out.append((spec + ("d" if conv in "iu" else conv)) % n)
            elif conv in "feEgG":
                try:
                    out.append((spec + conv) % float(arg or 0))
                except ValueError:
                    raise CommandError(f"printf: invalid number '{arg}'") from None
            elif conv == "c":
                out.append((spec + "s") % arg[:1])
            elif conv == "b":
                out.append((spec + "s") % unescape(arg)[0])
            else:
                out.append((spec + "s") % arg)
        out.append(fmt_text[pos:])
        if not args or used >= len(args) or used == 0:
            break
        args = args[used:]
    io.out("".join(out))
    return 0


@command("true", ":")
def true(sh: Interp, io: Io, argv: list[str]) -> int:
    return 0


@command("false")
def false(sh: Interp, io: Io, argv: list[str]) -> int:
    return 1


def _status_arg(sh: Interp, name: str, argv: list[str]) -> int:
    """The status ``exit N`` / ``return N`` leave with: N modulo 256, else the last status."""
    if len(argv) < 2:
        return sh.status
    if not re.fullmatch(r"-?\d+", argv[1]):
        raise CommandError(f"{SH}: {name}: {argv[1]}: bad number", 1)
    return int(argv[1]) & 0xFF


@command("exit")
def exit_(sh: Interp, io: Io, argv: list[str]) -> int:
    raise ExitShell(_status_arg(sh, "exit", argv))


@command("exec")
def exec_(sh: Interp, io: Io, argv: list[str]) -> int:
    """``exec CMD``: the command replaces the shell, so its status ends the script."""
    if len(argv) < 2:
        return 0  # ``exec 2>&1``: only redirections, which the caller has applied
    raise ExitShell(sh.invoke(argv[1:], io) & 0xFF)


@command("break", "continue")
def break_(sh: Interp, io: Io, argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
    raise _Break(max(n, 1), cont=argv[0] == "continue")


@command("return")
def return_(sh: Interp, io: Io, argv: list[str]) -> int:
    raise _Return(_status_arg(sh, "return", argv))


@command("cd")
def cd(sh: Interp, io: Io, argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else sh.vars.get("HOME", "/")
    if target == "-":
        target = sh.vars.get("OLDPWD", "/")
    path = sh.path(target)
    if not sh.vfs.is_dir(path):
        raise CommandError(f"{SH}: cd: /{path.lstrip('/')}: No such file or directory", 2)
    sh.vars["OLDPWD"] = sh.cwd
    sh.cwd = path
    sh.vars["PWD"] = path
    return 0


@command("pwd")
def pwd(sh: Interp, io: Io, argv: list[str]) -> int:
    io.out(sh.cwd + "\n")
    return 0


@command("export", "readonly", "local", "typeset")
def export(sh: Interp, io: Io, argv: list[str]) -> int:
    for a in argv[1:]:
        if a.startswith("-"):
            continue
        name, eq, value = a.partition("=")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise CommandError(f"{SH}: {argv[0]}: {a}: is not an identifier")
        if eq:
            sh.vars[name] = value
        else:
            sh.vars.setdefault(name, "")
    return 0


@command("unset")
def unset(sh: Interp, io: Io, argv: list[str]) -> int:
    for a in argv[1:]:
        if not a.startswith("-"):
            sh.vars.pop(a, None)
    return 0


@command("set")
def set_(sh: Interp, io: Io, argv: list[str]) -> int:
    if len(argv) == 1:
        io.out("".join(f"{k}={v}\n" for k, v in sorted(sh.vars.items())))
        return 0
    if "--" in argv:
        sh.args = argv[argv.index("--") + 1 :]
    return 0


@command("shift")
def shift(sh: Interp, io: Io, argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
    if n > len(sh.args):
        raise CommandError(f"{SH}: shift: nothing to shift")
    sh.args = sh.args[n:]
    return 0


@command("env", "printenv")
def env(sh: Interp, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    if argv[0] == "printenv" and args:
        missing = 0
        for a in args:
            if a in sh.vars:
                io.out(sh.vars[a] + "\n")
            else:
                missing = 1
        return missing
    assigns = {}
    while args and "=" in args[0] and not args[0].startswith("="):
        k, _, v = args.pop(0).partition("=")
        assigns[k] = v
    if args:
        saved = dict(sh.vars)
        sh.vars.update(assigns)
        try:
            return sh.invoke(args, io)
        finally:
            sh.vars = saved
    merged = {**sh.vars, **assigns}
    io.out("".join(f"{k}={v}\n" for k, v in sorted(merged.items())))
    return 0


@command("sleep")
def sleep(sh: Interp, io: Io, argv: list[str]) -> int:
    if len(argv) < 2:
        raise CommandError("sleep: Needs 1 argument")
    total = 0.0
    for a in argv[1:]:
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", a)
        if not m:
            raise CommandError(f"sleep: invalid time interval '{a}'")
        total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    time.sleep(min(total, MAX_SLEEP))
    return 0


@command("read")
def read(sh: Interp, io: Io, argv: list[str]) -> int:
    raw = "-r" in argv
    names = [a for a in argv[1:] if not a.startswith("-")] or ["REPLY"]
    stream: InStream = io.stdin
    data = stream.data
    if stream.pos >= len(data):
        return 1
    end = data.find(b"\n", stream.pos)
    line = data[stream.pos : end if end >= 0 else len(data)]
    stream.pos = (end + 1) if end >= 0 else len(data)
    text = line.decode("utf-8", "surrogateescape")
    if not raw:
        text = re.sub(r"\\(.)", r"\1", text)
    if len(names) == 1:
        sh.vars[names[0]] = text.strip(" \t") if names[0] != "REPLY" else text
    else:
        fields = text.split(None, len(names) - 1)
        for i, n in enumerate(names):
            sh.vars[n] = fields[i] if i < len(fields) else ""
    return 0


@command("eval")
def eval_(sh: Interp, io: Io, argv: list[str]) -> int:
    return sh.run_text(" ".join(argv[1:]), io)


@command("sh", "mksh", "bash")
def sh_(sh: Interp, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    if args and args[0] == "-c":
        if len(args) < 2:
            raise CommandError(f"{SH}: -c: option requires an argument", 1)
        script, rest = args[1], args[2:]

        def body() -> int:
            sh.args = rest[1:] if rest else []
            return sh.run_text(script, io)

        return sh.subshell(body)
    if args:
        return sh.run_script(sh.path(args[0]), args[1:], io)
    text = io.read().decode("utf-8", "surrogateescape")
    return sh.subshell(lambda: sh.run_text(text, io))


@command("type", "which", "command")
def which(sh: Interp, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    if argv[0] == "command":
        if args and args[0] in ("-v", "-V"):
            args = args[1:]
        elif args:
            return sh.invoke(args, io)
    status = 0
    for name in args:
        if name in sh.commands:
            io.out(
                f"/system/bin/{name}\n" if argv[0] != "type" else f"{name} is /system/bin/{name}\n"
            )
        else:
            status = 1
            if argv[0] == "type":
                io.out(f"{name} not found\n")
    return status


@command("toybox", "busybox")
def toybox(sh: Interp, io: Io, argv: list[str]) -> int:
    """``toybox md5sum FILE``: the multi-call binary runs its applet."""
    if len(argv) < 2:
        io.out(" ".join(sorted(n for n in sh.commands if n.isidentifier())) + "\n")
        return 0
    if argv[1] not in sh.commands or argv[1] in ("toybox", "busybox"):
        io.err(f"{argv[0]}: Unknown command {argv[1]}\n")
        return 1
    return sh.invoke(argv[1:], io)


# -- test / [ ----------------------------------------------------------------
def _file_test(sh: Interp, op: str, arg: str) -> bool:
    try:
        host = sh.host(arg)
    except OSError:
        return False
    if op == "-e" or op == "-a":
        return host.exists() or host.is_symlink()
    if op == "-f":
        return host.is_file()
    if op == "-d":
        return host.is_dir()
    if op == "-s":
        return host.exists() and host.stat().st_size > 0
    if op in ("-L", "-h"):
        return host.is_symlink()
    if op in ("-r", "-w"):
        return host.exists()
    if op == "-x":
        return host.exists() and (host.is_dir() or bool(host.stat().st_mode & 0o111))
    raise CommandError(f"test: unknown operator {op}", 2)


class _Test:
    def __init__(self, sh: Interp, args: list[str]) -> None:
        self.sh, self.args, self.i = sh, args, 0

    def peek(self) -> str | None:
        return self.args[self.i] if self.i < len(self.args) else None

    def take(self) -> str:
        if self.i >= len(self.args):
            raise CommandError("test: missing argument", 2)
        self.i += 1
        return self.args[self.i - 1]

    def expr(self) -> bool:
        v = self.term()
        while self.peek() == "-o":
            self.i += 1
            v = self.term() or v
        return v

    def term(self) -> bool:
        v = self.factor()
        while self.peek() == "-a":
            self.i += 1
            v = self.factor() and v
        return v

    def factor(self) -> bool:
        a = self.peek()
        if a == "!" and self.i + 1 < len(self.args):
            self.i += 1
            return not self.factor()
        if a == "(":
            self.i += 1
            v = self.expr()
            if self.take() != ")":
                raise CommandError("test: missing )", 2)
            return v
        rest = len(self.args) - self.i
        if rest >= 3 and self.args[self.i + 1] in _BINARY:
            left, op, right = self.take(), self.take(), self.take()
            return _binary(left, op, right)
        if rest >= 2 and a in _UNARY:
            op, arg = self.take(), self.take()
            if op == "-z":
                return arg == ""
            if op == "-n":
                return arg != ""
            return _file_test(self.sh, op, arg)
        return self.take() != ""


_UNARY = {"-z", "-n", "-e", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-h", "-a"}
_BINARY = {"=", "==", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "<", ">"}


def _binary(left: str, op: str, right: str) -> bool:
    if op in ("=", "=="):
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    try:
        a, b = int(left.strip()), int(right.strip())
    except ValueError:
        bad = left if not re.fullmatch(r"\s*-?\d+\s*", left) else right
        raise CommandError(f"test: {bad}: bad number", 2) from None
    return {
        "-eq": a == b,
        "-ne": a != b,
        "-lt": a < b,
        "-le": a <= b,
        "-gt": a > b,
        "-ge": a >= b,
    }[op]


@command("[[")
def double_bracket(sh: Interp, io: Io, argv: list[str]) -> int:
    """mksh's ``[[ … ]]`` for single tests: ``==``/``!=`` match patterns, ``=~`` regexes."""
    args = argv[1:]
    if not args or args[-1] != "]]":
        raise CommandError(f"{SH}: [[: missing ]]", 2)
    args = args[:-1]
    negate = bool(args) and args[0] == "!"
    if negate:
        args = args[1:]
    if len(args) == 3 and args[1] in ("==", "=", "!="):
        hit = fnmatch.fnmatchcase(args[0], args[2])
        result = hit if args[1] != "!=" else not hit
    elif len(args) == 3 and args[1] == "=~":
        try:
            result = re.search(args[2], args[0]) is not None
        except re.error:
            raise CommandError(f"{SH}: [[: bad regex '{args[2]}'", 2) from None
    else:
        result = test(sh, io, ["test", *args]) == 0
    return 0 if result != negate else 1


@command("test", "[")
def test(sh: Interp, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    if argv[0] == "[":
        if not args or args[-1] != "]":
            raise CommandError(f"{SH}: [: missing ]", 2)
        args = args[:-1]
    if not args:
        return 1
    t = _Test(sh, args)
    result = t.expr()
    if t.i != len(args):
        raise CommandError(f"test: {args[t.i]}: unexpected operator", 2)
    return 0 if result else 1
