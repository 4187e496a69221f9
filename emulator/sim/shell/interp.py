"""Run a parsed command line: expansion, redirects, pipes, status, control flow.

Each ``adb shell`` is a fresh shell process on Android, so an :class:`Interp`
lives for one command line. Output goes to the sink as it is produced, so
``cmd; echo X4EXIT:$?`` arrives in execution order. Pipeline stages run one
after another, each reading the previous stage's whole output.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import sqlite3
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from emulator.sim.providers.routes import ProviderError
from emulator.sim.shell import parser as ast
from emulator.sim.shell.arith import ArithError, evaluate
from emulator.sim.vfs import FsError, normalize

log = logging.getLogger(__name__)

SH = "/system/bin/sh"
PATH_DIRS = ("/system/bin", "/system/xbin", "/vendor/bin", "/bin", "/sbin", "/product/bin")
MAX_LOOP = 100_000
MAX_DEPTH = 64
_IFS = re.compile(r"[ \t\n]+")

Sink = Callable[[bytes], None]


class ExitShell(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Break(Exception):
    def __init__(self, levels: int, cont: bool) -> None:
        super().__init__(levels)
        self.levels = levels
        self.cont = cont


class _Return(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class CommandError(Exception):
    """A command failed with a message for stderr; ``status`` is its exit code."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class InStream:
    """A command's standard input: bytes that the first reader consumes."""

    def __init__(self, data: bytes = b"") -> None:
        self.data = data
        self.pos = 0

    def read(self) -> bytes:
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk


class Io:
    """What a command writes to and reads from."""

    def __init__(self, stdin: InStream, out: Sink, err: Sink) -> None:
        self.stdin = stdin
        self.out_sink = out
        self.err_sink = err

    def out(self, data: bytes | str) -> None:
        if data:
            self.out_sink(
                data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
            )

    def err(self, data: bytes | str) -> None:
        if data:
            self.err_sink(
                data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
            )

    def read(self) -> bytes:
        return self.stdin.read()


Command = Callable[["Interp", Io, list[str]], int]


class Interp:
    """One shell process: variables, working directory, last status."""

    def __init__(self, ctx: Any, commands: dict[str, Command], env: dict[str, str]) -> None:
        self.ctx = ctx
        self.vfs = ctx.vfs
        self.commands = commands
        self.vars: dict[str, str] = dict(env)
        self.cwd = "/"
        self.status = 0
        self.args: list[str] = []
        self.depth = 0
        self.functions: dict[str, object] = {}

    # -- paths ---------------------------------------------------------------
    def path(self, p: str) -> str:
        """A device path for an argument, relative to the working directory."""
        return normalize(p, self.cwd)

    def host(self, p: str):
        return self.vfs.host_path(self.path(p))

    # -- running ---------------------------------------------------------------
    def run_text(self, text: str, io: Io) -> int:
        try:
            tree = ast.parse(text)
        except ast.ShellSyntaxError as exc:
            io.err(f"{SH}: {exc}\n")
            self.status = 2 if "syntax error" in str(exc) else 1
            return self.status
        return self.run_seq(tree, io)

    def run_seq(self, seq: ast.Sequence, io: Io) -> int:
        for item in seq.items:
            self.run_and_or(item, io)
        return self.status

    def run_and_or(self, node: ast.AndOr, io: Io) -> int:
        status = self.run_pipeline(node.first, io)
        for op, pipe in node.rest:
            if (op == "&&") == (status == 0):
                status = self.run_pipeline(pipe, io)
        return status

    def run_pipeline(self, pipe: ast.Pipeline, io: Io) -> int:
        stdin = io.stdin
        status = 0
        for idx, cmd in enumerate(pipe.commands):
            last = idx == len(pipe.commands) - 1
            if last:
                status = self.run_command(cmd, Io(stdin, io.out_sink, io.err_sink))
            else:
                buf = bytearray()
                self.run_command(cmd, Io(stdin, buf.extend, io.err_sink))
                stdin = InStream(bytes(buf))
        if pipe.negate:
            status = 0 if status else 1
        self.status = status
        return status

    def run_command(self, cmd: object, io: Io) -> int:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise CommandError(f"{SH}: too deeply nested", 2)
            if isinstance(cmd, ast.Simple):
                return self.run_simple(cmd, io)
            if isinstance(cmd, ast.Function):
                self.functions[cmd.name] = cmd.body
                self.status = 0
                return 0
            with ExitStack() as stack:
                io = self.redirect(cmd.redirects, io, stack)  # type: ignore[attr-defined]
                if isinstance(cmd, ast.Group):
                    if cmd.subshell:
                        return self.subshell(lambda: self.run_seq(cmd.body, io))
                    return self.run_seq(cmd.body, io)
                if isinstance(cmd, ast.If):
                    return self.run_if(cmd, io)
                if isinstance(cmd, ast.For):
                    return self.run_for(cmd, io)
                if isinstance(cmd, ast.While):
                    return self.run_while(cmd, io)
                if isinstance(cmd, ast.Case):
                    return self.run_case(cmd, io)
            raise CommandError(f"{SH}: cannot run {type(cmd).__name__}")
        except CommandError as exc:
            io.err(f"{exc}\n")
            self.status = exc.status
            return exc.status
        finally:
            self.depth -= 1

    def subshell(self, body: Callable[[], int]) -> int:
        saved = (dict(self.vars), self.cwd, list(self.args))
        try:
            return body()
        except ExitShell as exc:
            self.status = exc.code
            return exc.code
        finally:
            self.vars, self.cwd, self.args = saved

    def run_if(self, node: ast.If, io: Io) -> int:
        for cond, body in node.branches:
            if self.run_seq(cond, io) == 0:
                return self.run_seq(body, io)
        if node.otherwise is not None:
            return self.run_seq(node.otherwise, io)
        self.status = 0
        return 0

    def run_for(self, node: ast.For, io: Io) -> int:
        items = list(self.args) if node.items is None else self.expand_words(node.items, io)
        self.status = 0
        for value in items:
            self.vars[node.name] = value
            try:
                self.run_seq(node.body, io)
            except _Break as b:
                if b.levels > 1:
                    raise _Break(b.levels - 1, b.cont) from None
                if not b.cont:
                    break
        return self.status

    def run_case(self, node: ast.Case, io: Io) -> int:
        value = self.expand_single(node.word, io)
        for patterns, body in node.items:
            for pat in patterns:
                glob = "".join(
                    _glob_escape(self.expand_part(p, io)) if p.quoted or p.kind != "lit" else p.text
                    for p in pat.parts
                )
                if fnmatch.fnmatchcase(value, glob):
                    return self.run_seq(body, io)
        self.status = 0
        return 0

    def run_while(self, node: ast.While, io: Io) -> int:
        status = 0
        for _ in range(MAX_LOOP):
            cond = self.run_seq(node.cond, io)
            if (cond == 0) == node.until:
                self.status = status
                return status
            try:
                status = self.run_seq(node.body, io)
            except _Break as b:
                if b.levels > 1:
                    raise _Break(b.levels - 1, b.cont) from None
                if not b.cont:
                    self.status = 0
                    return 0
        raise CommandError(f"{SH}: loop stopped after {MAX_LOOP} iterations", 1)

    def run_simple(self, cmd: ast.Simple, io: Io) -> int:
        argv = self.expand_words(cmd.words, io)
        assigns = {name: self.expand_single(word, io) for name, word in cmd.assigns}
        with ExitStack() as stack:
            io = self.redirect(cmd.redirects, io, stack)
            if not argv:
                self.vars.update(assigns)
                self.status = self.status if any(w for _, w in cmd.assigns) else 0
                return self.status
            saved = {k: self.vars.get(k) for k in assigns}
            self.vars.update(assigns)
            try:
                status = self.invoke(argv, io)
            finally:
                for k, v in saved.items():
                    if v is None:
                        self.vars.pop(k, None)
                    else:
                        self.vars[k] = v
        self.status = status
        return status

    def invoke(self, argv: list[str], io: Io) -> int:
        """Run one command by name: a built-in/applet, or a script file in the filesystem."""
        name = argv[0]
        body = self.functions.get(name)
        if body is not None:
            return self.call_function(body, argv[1:], io)
        fn = self.commands.get(name)
        if fn is None and "/" in name and "\0" not in name:
            d, _, base = self.path(name).rpartition("/")
            if (d or "/") in PATH_DIRS and base in self.commands:
                # Like toybox's multiplexer: the applet is picked, and named, by basename.
                fn, argv = self.commands[base], [base, *argv[1:]]
            elif self.vfs.is_dir(self.path(name)):
                io.err(f"{SH}: {name}: can't execute: Is a directory\n")
                return 126
            elif self.vfs.exists(self.path(name)):
                return self.run_script(self.path(name), argv[1:], io)
        if fn is None:
            io.err(f"{SH}: {name}: inaccessible or not found\n")
            return 127
        try:
            return int(fn(self, io, argv) or 0)
        except (ExitShell, _Break, _Return):
            raise
        except CommandError as exc:
            io.err(f"{exc}\n")
            return exc.status
        except (FsError, OSError) as exc:
            io.err(f"{name}: {exc.strerror or exc}\n")
            return 1
        except (sqlite3.Error, ProviderError) as exc:
            io.err(f"{name}: {exc}\n")
            return 1
        except Exception as exc:  # a command's own bug must not take the phone down
            log.exception("shell command %r failed", argv)
            io.err(f"{name}: internal error: {exc}\n")
            return 1

    def call_function(self, body: object, args: list[str], io: Io) -> int:
        saved = self.args
        self.args = args
        try:
            return self.run_command(body, io)
        except _Return as r:
            self.status = r.code
            return r.code
        finally:
            self.args = saved

    def run_script(self, path: str, args: list[str], io: Io) -> int:
        try:
            text = self.vfs.read_bytes(path).decode("utf-8", "surrogateescape")
        except OSError as exc:
            io.err(f"{SH}: {path}: {exc.strerror}\n")
            return 126
        saved_args = self.args
        self.args = args

        def body() -> int:
            return self.run_text(text, io)

        try:
            return self.subshell(body)
        finally:
            self.args = saved_args

    # -- redirects --------------------------------------------------------------
    def redirect(self, redirects: list[ast.Redirect], io: Io, stack: ExitStack) -> Io:
        if not redirects:
            return io
        fds: dict[int, Any] = {0: io.stdin, 1: io.out_sink, 2: io.err_sink}
        for r in redirects:
            if isinstance(r.target, ast.HereDoc):
                fds[r.fd] = InStream(self._heredoc(r.target, io).encode("utf-8", "surrogateescape"))
                continue
            target = self.expand_single(r.target, io)
            if r.op in (">&", "<&"):
                if target == "-":
                    fds[r.fd] = (lambda _d: None) if r.fd else InStream()
                    continue
                if not target.isdigit() or int(target) not in fds:
                    raise CommandError(f"{SH}: {target}: bad file descriptor", 1)
                fds[r.fd] = fds[int(target)]
                continue
            if r.op == "<":
                fds[r.fd] = InStream(self._read_for_redirect(target))
                continue
            sink = self._open_sink(target, append=r.op == ">>", stack=stack)
            if r.op == "&>":
                fds[1] = fds[2] = sink
            else:
                fds[r.fd] = sink
        stdin = fds[0] if isinstance(fds[0], InStream) else InStream()
        out = fds[1] if callable(fds[1]) else io.out_sink
        err = fds[2] if callable(fds[2]) else io.err_sink
        return Io(stdin, out, err)

    def _heredoc(self, doc: ast.HereDoc, io: Io) -> str:
        body = doc.body or ""
        if doc.quoted:
            return body
        return "".join(self.expand_part(p, io) for p in ast.Lexer(body).heredoc_parts())

    def _read_for_redirect(self, target: str) -> bytes:
        if target in ("/dev/null", "/dev/zero"):
            return b""
        try:
            return self.vfs.read_bytes(self.path(target))
        except (OSError, FsError):
            raise CommandError(f"{SH}: can't open {target}: No such file or directory") from None

    def _open_sink(self, target: str, append: bool, stack: ExitStack) -> Sink:
        if target == "/dev/null":
            return lambda _data: None
        try:
            host = self.host(target)
            if host.is_dir():
                raise CommandError(f"{SH}: can't create {target}: Is a directory")
            fh = stack.enter_context(open(host, "ab" if append else "wb"))  # noqa: SIM115
        except (FileNotFoundError, NotADirectoryError, FsError):
            raise CommandError(f"{SH}: can't create {target}: No such file or directory") from None
        stack.callback(self._stamp, host)

        def write(data: bytes) -> None:
            fh.write(data)
            fh.flush()

        return write

    def _stamp(self, host: Any) -> None:
        """A file the shell wrote carries the phone's time, as on a phone."""
        t = self.ctx.clock.now_ms() / 1000
        try:
            os.utime(host, (t, t))
        except OSError:
            pass

    # -- expansion ------------------------------------------------------------
    def expand_single(self, word: ast.Word, io: Io) -> str:
        """A word expanded without field splitting or globbing (assignments, redirect targets)."""
        return "".join(self.expand_part(p, io) for p in word.parts)

    def expand_words(self, words: list[ast.Word], io: Io) -> list[str]:
        out: list[str] = []
        for w in words:
            out.extend(self.expand_word(w, io))
        return out

    def expand_word(self, word: ast.Word, io: Io) -> list[str]:
        # Each field is a list of (text, quoted) segments; quoted text is never split or globbed.
        fields: list[list[tuple[str, bool]]] = [[]]
        keep: list[bool] = [False]
        parts = word.parts
        first = parts[0] if parts else None
        if (
            first is not None
            and first.kind == "lit"
            and not first.quoted
            and (first.text == "~" or first.text.startswith("~/"))
        ):
            home = ast.Part("lit", self.vars.get("HOME", "/"), True)
            parts = [home, ast.Part("lit", first.text[1:], False), *parts[1:]]
        for part in parts:
            if part.kind == "lit":
                fields[-1].append((part.text, part.quoted))
                keep[-1] = keep[-1] or part.quoted or bool(part.text)
                continue
            if part.kind == "var" and part.text in ("@", "*") and part.quoted and part.text == "@":
                for n, arg in enumerate(self.args):
                    if n:
                        fields.append([])
                        keep.append(True)
                    fields[-1].append((arg, True))
                    keep[-1] = True
                continue
            value = self.expand_part(part, io)
            if part.quoted:
                fields[-1].append((value, True))
                keep[-1] = True
                continue
            pieces = _IFS.split(value)
            for n, piece in enumerate(pieces):
                if n:
                    fields.append([])
                    keep.append(False)
                if piece:
                    fields[-1].append((piece, False))
                    keep[-1] = True
        out: list[str] = []
        for segs, k in zip(fields, keep, strict=True):
            if not k:
                continue
            text = "".join(t for t, _ in segs)
            if any(not q and any(ch in t for ch in "*?[") for t, q in segs):
                pattern = "".join(t if not q else _glob_escape(t) for t, q in segs)
                matches = self.glob(pattern)
                if matches:
                    out.extend(matches)
                    continue
            out.append(text)
        return out

    def expand_part(self, part: ast.Part, io: Io) -> str:
        if part.kind == "lit":
            return part.text
        if part.kind == "cmd":
            return self.command_substitution(part.text, io)
        if part.kind == "arith":
            text = self._expand_text(part.text, io) if "$" in part.text else part.text
            try:
                return str(evaluate(text, self.vars))
            except ArithError as exc:
                raise CommandError(f"{SH}: {part.text}: {exc}") from None
        return self.variable(part.text, io)

    def variable(self, spec: str, io: Io) -> str:
        if spec.startswith("#") and len(spec) > 1:
            return str(len(self.variable(spec[1:], io)))
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*|[0-9?#$!@*-])(:?)([-=+?])?(.*)", spec, re.S)
        if not m:
            raise CommandError(f"{SH}: ${{{spec}}}: bad substitution")
        name, colon, op, arg = m.groups()
        value = self._lookup(name)
        if op is None:
            return value or ""
        unset = value is None or (colon == ":" and value == "")
        arg_value = self._expand_text(arg, io) if arg else ""
        if op == "-":
            return arg_value if unset else (value or "")
        if op == "=":
            if unset:
                self.vars[name] = arg_value
                return arg_value
            return value or ""
        if op == "+":
            return "" if unset else arg_value
        if unset:
            raise CommandError(f"{SH}: {name}: {arg_value or 'parameter null or not set'}")
        return value or ""

    def _lookup(self, name: str) -> str | None:
        if name == "?":
            return str(self.status)
        if name == "$":
            return str(self.vars.get("$$", "4242"))
        if name == "#":
            return str(len(self.args))
        if name in ("@", "*"):
            return " ".join(self.args)
        if name == "!":
            return ""
        if name == "-":
            return "hB"
        if name.isdigit():
            n = int(name)
            if n == 0:
                return SH
            return self.args[n - 1] if n <= len(self.args) else None
        return self.vars.get(name)

    def _expand_text(self, text: str, io: Io) -> str:
        """Expand ``$…`` and backticks in text, as inside double quotes."""
        return "".join(self.expand_part(p, io) for p in ast.Lexer(text).heredoc_parts())

    def command_substitution(self, text: str, io: Io) -> str:
        buf = bytearray()
        sub_io = Io(io.stdin, buf.extend, io.err_sink)

        def body() -> int:
            return self.run_text(text, sub_io)

        status = self.subshell(body)
        self.status = status
        # A C string cannot hold NUL: shells drop those bytes from substituted output.
        return bytes(buf).replace(b"\0", b"").decode("utf-8", "surrogateescape").rstrip("\n")

    def glob(self, pattern: str) -> list[str]:
        """Paths in the phone's filesystem matching a shell pattern, sorted as sh does."""
        absolute = pattern.startswith("/")
        parts = [p for p in pattern.split("/") if p]
        bases = ["/" if absolute else ""]
        if "\0" in pattern:
            return []
        for idx, comp in enumerate(parts):
            last = idx == len(parts) - 1
            nxt: list[str] = []
            for base in bases:
                dev = self.path(base or ".")
                if not any(ch in comp for ch in "*?["):
                    cand = f"{base.rstrip('/')}/{_unescape(comp)}" if base else _unescape(comp)
                    if base == "/":
                        cand = "/" + _unescape(comp)
                    if last and not self.vfs.exists(self.path(cand)):
                        continue
                    nxt.append(cand)
                    continue
                try:
                    names = self.vfs.listdir(dev)
                except (OSError, FsError):
                    continue
                for n in names:
                    if n.startswith(".") and not comp.startswith("."):
                        continue
                    if fnmatch.fnmatchcase(n, comp):
                        nxt.append(f"{base}{n}" if base in ("", "/") else f"{base}/{n}")
            bases = nxt
        return sorted(bases)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _unescape(comp: str) -> str:
    return re.sub(r"\[([*?\[])\]", r"\1", comp)
