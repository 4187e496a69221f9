"""Smaller toybox applets scripts lean on: seq, expr, du, mktemp, diff, cmp …"""

from __future__ import annotations

import difflib
import os
import re
import secrets

from emulator.sim.shell.commands import command, options
from emulator.sim.shell.commands.text import decode, inputs
from emulator.sim.shell.interp import CommandError, Interp, Io
from emulator.sim.vfs import FsError


def _num(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise CommandError(f"{name}: invalid number '{value}'") from None


@command("seq")
def seq(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, rest = options.parse(argv, flags="w", valued="sf")
    if not 1 <= len(rest) <= 3:
        raise CommandError("seq: Needs 1 to 3 arguments")
    nums = [_num(a, "seq") for a in rest]
    first, step, last = (
        (1.0, 1.0, nums[0])
        if len(nums) == 1
        else ((nums[0], 1.0, nums[1]) if len(nums) == 2 else (nums[0], nums[1], nums[2]))
    )
    if step == 0:
        raise CommandError("seq: step can't be zero")
    integral = all(float(x).is_integer() for x in (first, step, last))
    sep = str(opts.get("s", "\n"))
    values = []
    x, n = first, 0
    while (step > 0 and x <= last + 1e-9) or (step < 0 and x >= last - 1e-9):
        values.append(str(int(x)) if integral else f"{x:g}")
        n += 1
        x = first + n * step
        if n > 1_000_000:
            raise CommandError("seq: too many numbers")
    if opts.get("w") and values:
        width = max(len(v) for v in values)
        values = [v.zfill(width) for v in values]
    if values:
        io.out(sep.join(values) + "\n")
    return 0


def _expr(tokens: list[str]) -> str:
    """``expr``: ``|`` ``&`` comparisons ``+ - * / %`` ``:`` and ``length``, by precedence."""
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise CommandError("expr: syntax error", 2)
        pos += 1
        return tokens[pos - 1]

    def as_int(v: str) -> int:
        if not re.fullmatch(r"-?\d+", v):
            raise CommandError("expr: non-integer argument", 2)
        return int(v)

    def primary() -> str:
        t = take()
        if t == "(":
            v = or_()
            if take() != ")":
                raise CommandError("expr: syntax error", 2)
            return v
        if t == "length":
            return str(len(take()))
        return t

    def match() -> str:
        v = primary()
        while peek() == ":":
            take()
            pattern = take()
            m = re.match(pattern.replace("\\(", "(").replace("\\)", ")"), v)
            v = (m.group(1) or "") if m and m.re.groups else str(len(m.group(0)) if m else 0)
        return v

    def mul() -> str:
        v = match()
        while peek() in ("*", "/", "%"):
            op, b = take(), as_int(match())
            a = as_int(v)
            if op != "*" and b == 0:
                raise CommandError("expr: division by zero", 2)
            q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1) if op != "*" else 0
            v = str(a * b if op == "*" else q if op == "/" else a - q * b)
        return v

    def add() -> str:
        v = mul()
        while peek() in ("+", "-"):
            op, b = take(), as_int(mul())
            v = str(as_int(v) + b if op == "+" else as_int(v) - b)
        return v

    def cmp() -> str:
        v = add()
        while peek() in ("=", "!=", "<", "<=", ">", ">="):
            op, b = take(), add()
            both_int = re.fullmatch(r"-?\d+", v) and re.fullmatch(r"-?\d+", b)
            x, y = (int(v), int(b)) if both_int else (v, b)
            v = str(
                int(
                    {"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[
                        op
                    ]
                )
            )
        return v

    def and_() -> str:
        v = cmp()
        while peek() == "&":
            take()
            b = cmp()
            v = v if v not in ("", "0") and b not in ("", "0") else "0"
        return v

    def or_() -> str:
        v = and_()
        while peek() == "|":
            take()
            b = and_()
            v = v if v not in ("", "0") else (b if b not in ("", "0") else "0")
        return v

    result = or_()
    if pos != len(tokens):
        raise CommandError("expr: syntax error", 2)
    return result


@command("expr")
def expr(sh: Interp, io: Io, argv: list[str]) -> int:
    if len(argv) < 2:
        raise CommandError("expr: missing operand", 2)
    value = _expr(argv[1:])
    io.out(value + "\n")
    return 1 if value in ("", "0") else 0


def _size(host: os.PathLike[str] | str) -> int:
    st = os.lstat(host)
    total = st.st_blocks * 512
    if os.path.isdir(host) and not os.path.islink(host):
        for entry in os.scandir(host):
            total += _size(entry.path)
    return total


def human(n: float) -> str:
    for unit in ("", "K", "M", "G", "T"):
        if n < 1024 or unit == "T":
            return f"{n:.0f}{unit}" if unit == "" or n >= 10 else f"{n:.1f}{unit}"
        n /= 1024
    return str(n)


@command("du")
def du(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, paths = options.parse(argv, flags="shkacxH", valued="d")
    status = 0
    for p in paths or ["."]:
        try:
            host = sh.host(p)
            if not (host.exists() or host.is_symlink()):
                raise FileNotFoundError
        except (FileNotFoundError, FsError):
            io.err(f"du: {p}: No such file or directory\n")
            status = 1
            continue
        entries = [(p, host)]
        if not opts.get("s") and host.is_dir():
            entries = [
                (f"{p.rstrip('/')}/{q.relative_to(host)}", q)
                for q in sorted(host.rglob("*"))
                if q.is_dir() and not q.is_symlink()
            ] + entries
        for label, h in entries:
            size = _size(h)
            io.out((human(size) if opts.get("h") else str((size + 1023) // 1024)) + f"\t{label}\n")
    return status


@command("mktemp")
def mktemp(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, rest = options.parse(argv, flags="dqu", valued="p")
    template = rest[0] if rest else "tmp.XXXXXXXXXX"
    if "XXX" not in template:
        raise CommandError(f"mktemp: template '{template}' needs XXX")
    base = str(opts.get("p", sh.vars.get("TMPDIR", "/data/local/tmp")))
    m = re.search(r"X+$", template) or re.search(r"X{3,}", template)
    assert m is not None
    name = template[: m.start()] + secrets.token_hex(len(m.group(0)))[: len(m.group(0))]
    name += template[m.end() :]
    path = name if name.startswith("/") else f"{base.rstrip('/')}/{name}"
    if opts.get("d"):
        sh.vfs.mkdir(sh.path(path))
    else:
        sh.vfs.write_bytes(sh.path(path), b"", mode=0o600)
    io.out(path + "\n")
    return 0


def _two_inputs(sh: Interp, io: Io, name: str, files: list[str]) -> tuple[bytes, bytes] | int:
    """The two inputs ``diff``/``cmp`` compare, or their exit status when that is already
    known: 2 when one cannot be read (reported), 0 when they are the same bytes."""
    if len(files) != 2:
        raise CommandError(f"{name}: Needs 2 arguments", 2)
    a = inputs(sh, io, name, files[:1])[0][1]
    b = inputs(sh, io, name, files[1:])[0][1]
    if a is None or b is None:
        return 2
    return 0 if a == b else (a, b)


@command("diff")
def diff(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, files = options.parse(argv, flags="uqNab", valued="U")
    pair = _two_inputs(sh, io, "diff", files)
    if isinstance(pair, int):
        return pair
    a, b = pair
    if opts.get("q"):
        io.out(f"Files {files[0]} and {files[1]} differ\n")
        return 1
    old, new = decode(a).splitlines(keepends=True), decode(b).splitlines(keepends=True)
    if opts.get("u") or "U" in opts:
        n = options.integer(opts.get("U", 3), "diff")
        lines = difflib.unified_diff(old, new, files[0], files[1], n=n)
        io.out(
            "".join(
                x if x.endswith("\n") else x + "\n\\ No newline at end of file\n" for x in lines
            )
        )
        return 1
    out: list[str] = []
    sm = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue

        def rng(lo: int, hi: int) -> str:
            return str(lo + 1) if hi - lo == 1 else (str(lo) if hi == lo else f"{lo + 1},{hi}")

        code = {"replace": "c", "delete": "d", "insert": "a"}[tag]
        out.append(f"{rng(i1, i2)}{code}{rng(j1, j2)}\n")
        out.extend("< " + x if x.endswith("\n") else "< " + x + "\n" for x in old[i1:i2])
        if tag == "replace":
            out.append("---\n")
        out.extend("> " + x if x.endswith("\n") else "> " + x + "\n" for x in new[j1:j2])
    io.out("".join(out))
    return 1


@command("cmp")
def cmp_(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, files = options.parse(argv, flags="sl")
    pair = _two_inputs(sh, io, "cmp", files)
    if isinstance(pair, int):
        return pair
    a, b = pair
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            if not opts.get("s"):
                line = a[:i].count(b"\n") + 1
                io.out(f"{files[0]} {files[1]} differ: char {i + 1}, line {line}\n")
            return 1
    if not opts.get("s"):
        io.err(f"cmp: EOF on {files[0] if len(a) < len(b) else files[1]}\n")
    return 1


@command("reboot", "setenforce", "mount", "umount")
def not_permitted(sh: Interp, io: Io, argv: list[str]) -> int:
    """Root-only tools: the ``adb shell`` user is not allowed to run them."""
    raise CommandError(f"{argv[0]}: Operation not permitted", 1)
