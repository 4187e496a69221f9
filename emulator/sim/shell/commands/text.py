"""Text filters: grep, head, tail, wc, sort, uniq, cut, sed, tr, tee, xargs, base64."""

from __future__ import annotations

import base64 as b64
import re
import shlex
from collections.abc import Callable

from emulator.sim.shell.commands import command, options
from emulator.sim.shell.commands.builtins import unescape
from emulator.sim.shell.interp import CommandError, Interp, Io
from emulator.sim.vfs import FsError

_CLASSES = {
    "[:alpha:]": "a-zA-Z",
    "[:digit:]": "0-9",
    "[:alnum:]": "a-zA-Z0-9",
    "[:upper:]": "A-Z",
    "[:lower:]": "a-z",
    "[:space:]": r" \t\n\r\f\v",
    "[:blank:]": r" \t",
    "[:punct:]": r"!-/:-@\[-`{-~",
    "[:xdigit:]": "0-9A-Fa-f",
}


def decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def inputs(sh: Interp, io: Io, name: str, paths: list[str]) -> list[tuple[str, bytes | None]]:
    """``(label, data)`` per operand (stdin for none or ``-``); ``None`` data after an error."""
    out: list[tuple[str, bytes | None]] = []
    for p in paths or ["-"]:
        if p == "-":
            out.append(("(standard input)", io.read()))
            continue
        if p in ("/dev/null", "/dev/zero"):
            out.append((p, b""))
            continue
        try:
            host = sh.host(p)
            if host.is_dir():
                io.err(f"{name}: {p}: Is a directory\n")
                out.append((p, None))
                continue
            out.append((p, host.read_bytes()))
        except (FileNotFoundError, NotADirectoryError, FsError):
            io.err(f"{name}: {p}: No such file or directory\n")
            out.append((p, None))
    return out


def lines_of(text: str) -> list[str]:
    """Lines without their newline; a final unterminated line still counts."""
    if not text:
        return []
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    return parts


def to_python_regex(pattern: str, extended: bool) -> str:
    """POSIX BRE/ERE to Python: bracket classes, and BRE's ``\\( \\) \\{ \\} \\| \\+ \\?``."""
    for k, v in _CLASSES.items():
        pattern = pattern.replace(k, v)
    if extended:
        return pattern
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            n = pattern[i + 1]
            out.append(n if n in "(){}|+?" else "\\" + n)
            i += 2
            continue
        out.append("\\" + c if c in "(){}|+?" else c)
        i += 1
    return "".join(out)


def compile_regex(pattern: str, extended: bool, fixed: bool, icase: bool, name: str) -> re.Pattern:
    flags = re.IGNORECASE if icase else 0
    try:
        return re.compile(
            re.escape(pattern) if fixed else to_python_regex(pattern, extended), flags
        )
    except re.error as exc:
        raise CommandError(f"{name}: bad regex '{pattern}': {exc}", 2) from None


# -- grep -----------------------------------------------------------------------
def _program(opts: dict, rest: list[str], missing: CommandError) -> str:
    """The pattern/script of ``grep``/``sed``: ``-e`` (repeats joined by newlines) or else the
    first operand, which it takes off ``rest``."""
    if isinstance(opts.get("e"), str):
        return str(opts["e"])
    if rest:
        return rest.pop(0)
    raise missing


@command("grep", "egrep", "fgrep")
def grep(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, rest = options.parse(
        argv, flags="ivcEFonqlLwxsHhrRaIz", valued="emA", long={"color": "color"}, repeat="e"
    )
    patterns = [_program(opts, rest, CommandError("grep: No pattern", 2))]
    extended = bool(opts.get("E")) or argv[0] == "egrep"
    fixed = bool(opts.get("F")) or argv[0] == "fgrep"
    regexes = []
    for p in patterns:
        for alt in p.split("\n"):
            src = alt
            if opts.get("w"):
                src = rf"\b(?:{re.escape(alt) if fixed else to_python_regex(alt, extended)})\b"
                regexes.append(re.compile(src, re.IGNORECASE if opts.get("i") else 0))
                continue
            regexes.append(compile_regex(src, extended, fixed, bool(opts.get("i")), "grep"))
    limit = options.integer(opts["m"], "grep") if isinstance(opts.get("m"), str) else None
    files = rest
    if (opts.get("r") or opts.get("R")) and files:
        files = _expand_recursive(sh, files)
    srcs = inputs(sh, io, "grep", files)
    show_name = (len(srcs) > 1 or opts.get("H")) and not opts.get("h")
    matched_any, error = False, any(d is None for _, d in srcs)
    for label, data in srcs:
        if data is None:
            continue
        count = 0
        for n, line in enumerate(lines_of(decode(data)), 1):
            if opts.get("x"):
                hits = [r.fullmatch(line) for r in regexes]
            else:
                hits = [r.search(line) for r in regexes]
            ok = any(hits)
            if opts.get("v"):
                ok = not ok
            if not ok:
                continue
            count += 1
            matched_any = True
            if opts.get("q"):
                return 0
            if opts.get("c") or opts.get("l") or opts.get("L"):
                if limit is not None and count >= limit:
                    break
                continue
            prefix = (f"{label}:" if show_name else "") + (f"{n}:" if opts.get("n") else "")
            if opts.get("o") and not opts.get("v"):
                for r in regexes:
                    for m in r.finditer(line):
                        if m.group(0):
                            io.out(f"{prefix}{m.group(0)}\n")
            else:
                io.out(f"{prefix}{line}\n")
            if limit is not None and count >= limit:
                break
        if opts.get("c"):
            io.out((f"{label}:" if show_name else "") + f"{count}\n")
        elif (opts.get("l") and count) or (opts.get("L") and not count):
            io.out(f"{label}\n")
    if error and not opts.get("s"):
        return 2
    return 0 if matched_any else 1


def _expand_recursive(sh: Interp, paths: list[str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        dev = sh.path(p)
        if sh.vfs.is_dir(dev):
            for name in sh.vfs.listdir(dev):
                out.extend(_expand_recursive(sh, [f"{p.rstrip('/')}/{name}"]))
        else:
            out.append(p)
    return out


# -- head / tail ------------------------------------------------------------------
def _count_arg(argv: list[str], plus: bool = False) -> list[str]:
    """``head -5`` is ``head -n 5`` (and ``tail +3`` is ``tail -n +3``)."""
    out = [argv[0]]
    pattern = r"[-+]\d+" if plus else r"-\d+"
    for i, a in enumerate(argv[1:], 1):
        after_value_flag = argv[i - 1] in ("-n", "-c")
        if re.fullmatch(pattern, a) and not after_value_flag:
            a = "-n" + (a if a.startswith("+") else a[1:])
        out.append(a)
    return out


def _per_input(
    sh: Interp, io: Io, name: str, files: list[str], part: Callable[[bytes], bytes]
) -> int:
    """Write ``part`` of each input, under a ``==> name <==`` header when there are several."""
    status = 0
    srcs = inputs(sh, io, name, files)
    for idx, (label, data) in enumerate(srcs):
        if data is None:
            status = 1
            continue
        if len(srcs) > 1:
            io.out(("\n" if idx else "") + f"==> {label} <==\n")
        io.out(part(data))
    return status


@command("head")
def head(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, files = options.parse(_count_arg(argv), flags="qv", valued="nc")

    def part(data: bytes) -> bytes:
        if isinstance(opts.get("c"), str):
            return data[: options.integer(opts["c"], "head")]
        n = options.integer(opts.get("n", "10"), "head")
        chunks = data.split(b"\n")
        keep = chunks[:n] if n >= 0 else chunks[: max(len(chunks) - 1 + n, 0)]
        out = b"\n".join(keep)
        if len(chunks) > len(keep):
            out += b"\n"
        return out

    return _per_input(sh, io, "head", files, part)


@command("tail")
def tail(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, files = options.parse(_count_arg(argv, plus=True), flags="qvfF", valued="nc")

    def part(data: bytes) -> bytes:
        if isinstance(opts.get("c"), str):
            spec = str(opts["c"])
            n = options.integer(spec.lstrip("+-"), "tail")
            return data[n - 1 :] if spec.startswith("+") else (data[-n:] if n else b"")
        spec = str(opts.get("n", "10"))
        n = options.integer(spec.lstrip("+-"), "tail")
        lines = data.split(b"\n")
        trailing = lines and lines[-1] == b""
        if trailing:
            lines.pop()
        picked = lines[max(n - 1, 0) :] if spec.startswith("+") else (lines[-n:] if n else [])
        out = b"\n".join(picked)
        if picked and (trailing or len(picked) < len(lines) or spec.startswith("+")):
            out += b"\n" if trailing else b""
        return out

    return _per_input(sh, io, "tail", files, part)


# -- wc, sort, uniq, cut ----------------------------------------------------------
@command("wc")
def wc(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, files = options.parse(argv, flags="lwcmL")
    which = [f for f in "lwmc" if opts.get(f)] or ["l", "w", "c"]
    status = 0
    totals = dict.fromkeys(which, 0)
    srcs = inputs(sh, io, "wc", files)
    for label, data in srcs:
        if data is None:
            status = 1
            continue
        counts = {
            "l": data.count(b"\n"),
            "w": len(data.split()),
            "c": len(data),
            "m": len(decode(data)),
        }
        vals = [str(counts[f]) for f in which]
        for f in which:
            totals[f] += counts[f]
        io.out(" ".join(vals) + (f" {label}" if files else "") + "\n")
    if len(srcs) > 1:
        io.out(" ".join(str(totals[f]) for f in which) + " total\n")
    return status


def _sort_key(line: str, opts: dict, sep: str | None):
    text = line
    if isinstance(opts.get("k"), str):
        spec = str(opts["k"]).split(",")[0]
        field = int(re.match(r"\d+", spec).group(0)) if re.match(r"\d+", spec) else 1
        parts = text.split(sep) if sep else text.split()
        text = parts[field - 1] if field - 1 < len(parts) else ""
    if opts.get("f"):
        text = text.lower()
    if opts.get("n"):
        m = re.match(r"\s*(-?\d+(?:\.\d+)?)", text)
        return (float(m.group(1)) if m else 0.0, line)
    return (text, line) if isinstance(opts.get("k"), str) else text


@command("sort")
def sort(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, files = options.parse(argv, flags="rnufbsdh", valued="kto")
    sep = str(opts["t"]) if isinstance(opts.get("t"), str) else None
    lines: list[str] = []
    status = 0
    for _label, data in inputs(sh, io, "sort", files):
        if data is None:
            status = 2
            continue
        lines.extend(lines_of(decode(data)))
    lines.sort(key=lambda ln: _sort_key(ln, opts, sep), reverse=bool(opts.get("r")))
    if opts.get("u"):
        seen: set = set()
        uniq = []
        for ln in lines:
            k = _sort_key(ln, opts, sep)
            k = k[0] if isinstance(k, tuple) else k
            if k not in seen:
                seen.add(k)
                uniq.append(ln)
        lines = uniq
    text = "".join(ln + "\n" for ln in lines)
    if isinstance(opts.get("o"), str):
        sh.vfs.write_bytes(sh.path(str(opts["o"])), text.encode("utf-8", "surrogateescape"))
    else:
        io.out(text)
    return status


@command("uniq")
def uniq(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, files = options.parse(argv, flags="cdui")
    srcs = inputs(sh, io, "uniq", files[:1])
    data = srcs[0][1]
    if data is None:
        return 1
    groups: list[list[str]] = []
    for ln in lines_of(decode(data)):
        key = ln.lower() if opts.get("i") else ln
        if groups and (groups[-1][0].lower() if opts.get("i") else groups[-1][0]) == key:
            groups[-1].append(ln)
        else:
            groups.append([ln])
    out = []
    for g in groups:
        if (opts.get("d") and len(g) < 2) or (opts.get("u") and len(g) > 1):
            continue
        out.append(f"{len(g):7d} {g[0]}\n" if opts.get("c") else g[0] + "\n")
    io.out("".join(out))
    return 0


def _ranges(spec: str, name: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(","):
        m = re.fullmatch(r"(\d*)(-?)(\d*)", part)
        if not m or not (m.group(1) or m.group(3)):
            raise CommandError(f"{name}: bad list '{spec}'")
        a = int(m.group(1) or 1)
        b = int(m.group(3)) if m.group(3) else (a if not m.group(2) else 1 << 30)
        out.append((a, b))
    return out


@command("cut")
def cut(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, files = options.parse(argv, flags="sn", valued="dfcb")
    delim = str(opts.get("d", "\t"))
    if len(delim) != 1:
        raise CommandError("cut: -d needs 1 character")
    status = 0
    out: list[str] = []
    for _label, data in inputs(sh, io, "cut", files):
        if data is None:
            status = 1
            continue
        for ln in lines_of(decode(data)):
            if isinstance(opts.get("f"), str):
                if delim not in ln:
                    if not opts.get("s"):
                        out.append(ln + "\n")
                    continue
                fields = ln.split(delim)
                picked = [
                    f
                    for i, f in enumerate(fields, 1)
                    if any(a <= i <= b for a, b in _ranges(str(opts["f"]), "cut"))
                ]
                out.append(delim.join(picked) + "\n")
            elif isinstance(opts.get("c") or opts.get("b"), str):
                spec = str(opts.get("c") or opts.get("b"))
                picked = [
                    ch
                    for i, ch in enumerate(ln, 1)
                    if any(a <= i <= b for a, b in _ranges(spec, "cut"))
                ]
                out.append("".join(picked) + "\n")
            else:
                raise CommandError("cut: Needs -fcb")
    io.out("".join(out))
    return status


# -- sed ----------------------------------------------------------------------------
def _sed_split(script: str) -> list[str]:
    """Split a sed script on ``;`` and newlines outside ``s`` command delimiters."""
    cmds, buf, i = [], [], 0
    while i < len(script):
        c = script[i]
        if c in ";\n":
            if "".join(buf).strip():
                cmds.append("".join(buf).strip())
            buf = []
            i += 1
            continue
        m = (
            re.match(
                r"\s*(?:\d+|\$|/(?:[^/\\]|\\.)*/)?(?:,(?:\d+|\$|/(?:[^/\\]|\\.)*/))?\s*[sy]",
                script[i:],
            )
            if not "".join(buf).strip()
            else None
        )
        if m:
            j = i + m.end()
            if j >= len(script):
                raise CommandError("sed: unterminated `s' command")
            delim = script[j]
            k, seen = j + 1, 0
            while k < len(script) and seen < 2:
                if script[k] == "\\":
                    k += 2
                    continue
                if script[k] == delim:
                    seen += 1
                k += 1
            if seen < 2:
                raise CommandError("sed: unterminated `s' command")
            while k < len(script) and script[k] not in ";\n}":
                k += 1
            buf.append(script[i:k])
            i = k
            continue
        buf.append(c)
        i += 1
    if "".join(buf).strip():
        cmds.append("".join(buf).strip())
    return cmds


class _SedCmd:
    def __init__(self, text: str, extended: bool) -> None:
        self.addr: list[object] = []
        rest = text
        for _ in range(2):
            m = re.match(r"(\d+|\$|/((?:[^/\\]|\\.)*)/)", rest)
            if not m:
                break
            a = m.group(1)
            self.addr.append(
                int(a)
                if a.isdigit()
                else a
                if a == "$"
                else re.compile(to_python_regex(m.group(2), extended))
            )
            rest = rest[m.end() :]
            if rest.startswith(","):
                rest = rest[1:]
            else:
                break
        rest = rest.strip()
        self.negate = rest.startswith("!")
        rest = rest.lstrip("!").strip()
        if not rest:
            raise CommandError("sed: missing command")
        self.op = rest[0]
        self.active = False
        if self.op == "s":
            delim = rest[1]
            parts, buf, i = [], [], 2
            while i < len(rest) and len(parts) < 2:
                c = rest[i]
                if c == "\\" and i + 1 < len(rest):
                    buf.append(rest[i : i + 2] if rest[i + 1] != delim else delim)
                    i += 2
                    continue
                if c == delim:
                    parts.append("".join(buf))
                    buf = []
                else:
                    buf.append(c)
                i += 1
            if len(parts) < 2:
                raise CommandError(f"sed: unterminated `s' command: {text}")
            flags = rest[i:]
            icase = "i" in flags or "I" in flags
            try:
                self.regex = re.compile(
                    to_python_regex(parts[0], extended), re.IGNORECASE if icase else 0
                )
            except re.error as exc:
                raise CommandError(f"sed: bad regex '{parts[0]}': {exc}") from None
            self.repl = parts[1]
            self.glob = "g" in flags
            self.print = "p" in flags
            nth = re.search(r"\d+", flags)
            self.nth = int(nth.group(0)) if nth else 1
        elif self.op not in "dpq=":
            raise CommandError(f"sed: unsupported command '{self.op}'")

    def matches(self, n: int, line: str, last: bool) -> bool:
        if not self.addr:
            return not self.negate

        def hit(a: object) -> bool:
            if a == "$":
                return last
            if isinstance(a, int):
                return n == a
            return bool(a.search(line))  # type: ignore[attr-defined]

        if len(self.addr) == 1:
            r = hit(self.addr[0])
        elif self.active:
            end = self.addr[1]
            if (isinstance(end, int) and n >= end) or (not isinstance(end, int) and hit(end)):
                self.active = False
            r = True
        else:
            r = hit(self.addr[0])
            if r:
                end = self.addr[1]
                self.active = not (isinstance(end, int) and n >= end)
        return r != self.negate

    def substitute(self, line: str) -> tuple[str, bool]:
        count = 0
        done = False

        def repl(m: re.Match) -> str:
            nonlocal count, done
            count += 1
            if done or (not self.glob and count != self.nth) or (self.glob and count < self.nth):
                return m.group(0)
            if not self.glob:
                done = True
            out, i = [], 0
            r = self.repl
            while i < len(r):
                c = r[i]
                if c == "\\" and i + 1 < len(r):
                    n = r[i + 1]
                    if n.isdigit() and int(n) > (m.re.groups or 0):
                        raise CommandError(f"sed: invalid reference \\{n} on `s' command's RHS")
                    out.append(
                        (m.group(int(n)) or "")
                        if n.isdigit()
                        else {"n": "\n", "t": "\t", "&": "&", "\\": "\\"}.get(n, n)
                    )
                    i += 2
                    continue
                out.append(m.group(0) if c == "&" else c)
                i += 1
            return "".join(out)

        new = self.regex.sub(repl, line)
        return new, new != line or (count > 0 and (self.glob or count >= self.nth))


@command("sed")
def sed(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, rest = options.parse(argv, flags="nErszi", valued="e", long={"in-place": "i"}, repeat="e")
    in_place = bool(opts.get("i"))
    scripts = [_program(opts, rest, CommandError("sed: no script"))]
    extended = bool(opts.get("E") or opts.get("r"))
    cmds = [_SedCmd(c, extended) for s in scripts for c in _sed_split(s)]
    status = 0
    srcs = inputs(sh, io, "sed", rest)
    for label, data in srcs:
        if data is None:
            status = 1
            continue
        out = _sed_run(cmds, decode(data), quiet=bool(opts.get("n")))
        if in_place and label != "(standard input)":
            sh.vfs.write_bytes(sh.path(label), out.encode("utf-8", "surrogateescape"))
        else:
            io.out(out)
    return status


def _sed_run(cmds: list[_SedCmd], text: str, quiet: bool) -> str:
    out: list[str] = []
    lines = lines_of(text)
    ends_nl = text.endswith("\n")
    for n, line in enumerate(lines, 1):
        last = n == len(lines)
        deleted = False
        quit_ = False
        for c in cmds:
            if not c.matches(n, line, last):
                continue
            if c.op == "s":
                line, changed = c.substitute(line)
                if changed and c.print:
                    out.append(line + "\n")
            elif c.op == "d":
                deleted = True
                break
            elif c.op == "p":
                out.append(line + "\n")
            elif c.op == "=":
                out.append(f"{n}\n")
            elif c.op == "q":
                quit_ = True
                break
        if not deleted and not quiet:
            out.append(line + ("\n" if (not last or ends_nl) else ""))
        if quit_:
            break
    return "".join(out)


# -- tr, tee, xargs, base64 -----------------------------------------------------------
def _tr_set(spec: str) -> str:
    for k, v in _CLASSES.items():
        if k in spec:
            chars = "".join(chr(c) for c in range(128) if re.match(f"[{v}]", chr(c)))
            spec = spec.replace(k, chars.replace("-", "\\-"))
    if "\\" in spec:
        spec, _ = unescape(spec)
    out: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            a, b = ord(spec[i]), ord(spec[i + 2])
            out.extend(chr(c) for c in range(a, b + 1))
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return "".join(out)


@command("tr")
def tr(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, sets = options.parse(argv, flags="dsc")
    if not sets:
        raise CommandError("tr: Needs 1 argument")
    text = decode(io.read())
    s1 = _tr_set(sets[0])
    if opts.get("d"):
        text = "".join(ch for ch in text if ch not in s1)
        if opts.get("s") and len(sets) > 1:
            text = re.sub("([" + re.escape(_tr_set(sets[1])) + "])\\1+", r"\1", text)
    else:
        if len(sets) > 1:
            s2 = _tr_set(sets[1])
            s2 = (s2 + s2[-1:] * len(s1))[: len(s1)] if s2 else s2
            table = {ord(a): b for a, b in zip(s1, s2, strict=False)}
            text = text.translate(table)
            squeeze = s2
        else:
            squeeze = s1
        if opts.get("s") and squeeze:
            text = re.sub("([" + re.escape(squeeze) + "])\\1+", r"\1", text)
    io.out(text)
    return 0


@command("tee")
def tee(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, files = options.parse(argv, flags="ai")
    data = io.read()
    status = 0
    for f in files:
        try:
            if opts.get("a"):
                sh.vfs.append_bytes(sh.path(f), data)
            else:
                sh.vfs.write_bytes(sh.path(f), data)
        except (OSError, FsError):
            io.err(f"tee: {f}: No such file or directory\n")
            status = 1
    io.out(data)
    return status


@command("xargs")
def xargs(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, cmd = options.parse([argv[0], *_xargs_opts(argv[1:])], flags="0rt", valued="nIL")
    text = decode(io.read())
    if opts.get("0"):
        items = [x for x in text.split("\0") if x]
    else:
        try:
            items = shlex.split(text)
        except ValueError as exc:
            raise CommandError(f"xargs: {exc}") from None
    cmd = cmd or ["echo"]
    if not items and opts.get("r"):
        return 0
    status = 0
    if isinstance(opts.get("I"), str):
        token = str(opts["I"])
        for line in [ln for ln in text.split("\n") if ln.strip()]:
            st = sh.invoke([a.replace(token, line) for a in cmd], io)
            status = status or (123 if st else 0)
        return status
    n = options.integer(opts.get("n") or opts.get("L") or 0, "xargs") or max(len(items), 1)
    for i in range(0, max(len(items), 1), n):
        st = sh.invoke(cmd + items[i : i + n], io)
        if st == 127:
            return 127
        status = status or (123 if st else 0)
    return status


def _xargs_opts(args: list[str]) -> list[str]:
    """Options end at the command name: ``xargs -n 1 grep -v x``."""
    out: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if not a.startswith("-"):
            return [*out, "--", *args[i:]]
        out.append(a)
        if a in ("-n", "-I", "-L") and i + 1 < len(args):
            out.append(args[i + 1])
            i += 1
        i += 1
    return out


@command("base64")
def base64(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, files = options.parse(argv, flags="di", valued="w")
    srcs = inputs(sh, io, "base64", files[:1])
    data = srcs[0][1]
    if data is None:
        return 1
    if opts.get("d"):
        try:
            io.out(b64.b64decode(b"".join(data.split()), validate=False))
        except ValueError:
            raise CommandError("base64: bad input") from None
        return 0
    enc = b64.b64encode(data).decode()
    width = options.integer(opts.get("w", "76"), "base64")
    if width:
        enc = "\n".join(enc[i : i + width] for i in range(0, len(enc), width))
    io.out(enc + "\n")
    return 0
