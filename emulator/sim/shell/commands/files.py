"""File commands with toybox's options and output formats (ls -l, stat, md5sum, find …)."""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import os
import re
import shutil
import stat as st
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from emulator.sim.shell.commands import command, options
from emulator.sim.shell.interp import CommandError, Interp, Io
from emulator.sim.vfs import FsError, normalize

_SUMS = {
    "md5sum": hashlib.md5,
    "sha1sum": hashlib.sha1,
    "sha224sum": hashlib.sha224,
    "sha256sum": hashlib.sha256,
    "sha384sum": hashlib.sha384,
    "sha512sum": hashlib.sha512,
}


def owner(device_path: str) -> tuple[str, str]:
    """The user and group Android shows for a path (ownership is not modelled beyond this)."""
    if device_path == "/sdcard" or device_path.startswith("/sdcard/"):
        return "u0_a0", "media_rw"
    if device_path.startswith("/data/local/tmp"):
        return "shell", "shell"
    if device_path.startswith("/data/data/"):
        return "system", "system"
    return "root", "root"


def phone_time(sh: Interp, epoch: float) -> datetime:
    tz = getattr(sh.ctx.clock, "tzinfo", None)
    return datetime.fromtimestamp(epoch, tz=tz) if tz else datetime.fromtimestamp(epoch)


def stamp(sh: Interp, host: os.PathLike[str] | str) -> None:
    """Give a file the phone's time as its modification time, as a write on the phone would."""
    t = sh.ctx.clock.now_ms() / 1000
    os.utime(host, (t, t), follow_symlinks=False)


def _missing(name: str, path: str) -> CommandError:
    return CommandError(f"{name}: {path}: No such file or directory")


def _lstat(
    sh: Interp, path: str, cache: dict[str, os.stat_result] | None = None
) -> os.stat_result | None:
    if cache is not None and path in cache:
        return cache[path]
    try:
        return os.lstat(sh.vfs.host_path(path, follow=False))
    except (OSError, FsError):
        return None


def _link_target(sh: Interp, dev: str, host: Path | None = None) -> str:
    """A symlink's target as a device path (links are stored relative on the host)."""
    try:
        raw = os.readlink(host if host is not None else sh.vfs.host_path(dev, follow=False))
    except (OSError, FsError):
        return "?"
    if os.path.isabs(raw):
        try:
            return sh.vfs.device_path(raw)
        except FsError:
            return raw
    return normalize(raw, dev.rsplit("/", 1)[0] or "/")


# -- ls ------------------------------------------------------------------------
def _long_rows(
    sh: Interp,
    entries: list[tuple[str, str]],
    cache: dict[str, os.stat_result] | None = None,
    hosts: dict[str, Path] | None = None,
) -> list[str]:
    """``ls -l`` lines for ``(label, device_path)`` pairs, columns aligned as toybox does."""
    rows = []
    for label, dev in entries:
        s = _lstat(sh, dev, cache)
        if s is None:
            continue
        user, group = owner(dev)
        when = phone_time(sh, s.st_mtime).strftime("%Y-%m-%d %H:%M")
        name = label
        if st.S_ISLNK(s.st_mode):
            name += " -> " + _link_target(sh, dev, (hosts or {}).get(dev))
        size = 4096 if st.S_ISDIR(s.st_mode) else s.st_size
        rows.append((st.filemode(s.st_mode), str(s.st_nlink), user, group, str(size), when, name))
    if not rows:
        return []
    w = [max(len(r[i]) for r in rows) for i in range(5)]
    return [
        f"{r[0]} {r[1]:>{w[1]}} {r[2]:<{w[2]}} {r[3]:<{w[3]}} {r[4]:>{w[4]}} {r[5]} {r[6]}"
        for r in rows
    ]


@command("ls")
def ls(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, paths = options.parse(argv, flags="laA1dRhstrSFnZic")
    targets = paths or ["."]
    status = 0
    files: list[tuple[str, str]] = []
    dirs: list[tuple[str, str]] = []
    for p in targets:
        dev = sh.path(p)
        s = _lstat(sh, dev)
        if s is None:
            io.err(f"ls: {p}: No such file or directory\n")
            status = 1
            continue
        is_dir = (
            st.S_ISDIR(os.stat(sh.host(dev)).st_mode)
            if st.S_ISLNK(s.st_mode)
            else (st.S_ISDIR(s.st_mode))
        )
        (dirs if is_dir and not opts.get("d") else files).append((p, dev))
    chunks: list[str] = []
    if files:
        chunks.append(_render(sh, files, opts, header=False))
    for label, dev in dirs:
        names = sh.vfs.listdir(dev)
        if not opts.get("a") and not opts.get("A"):
            names = [x for x in names if not x.startswith(".")]
        if opts.get("a"):
            names = [".", "..", *names]
        entries = [(x, normalize(x, dev)) for x in names]
        # One confined lookup for the directory; its entries are single names inside it.
        host_dir = sh.host(dev)
        cache: dict[str, os.stat_result] = {}
        hosts: dict[str, Path] = {}
        for name, path in entries:
            if name not in (".", ".."):
                hosts[path] = host_dir / name
                try:
                    cache[path] = os.lstat(host_dir / name)
                except OSError:
                    pass
        empty = os.stat_result((0,) * 10)
        if opts.get("t"):
            entries.sort(key=lambda e: -(_lstat(sh, e[1], cache) or empty).st_mtime)
        if opts.get("S"):
            entries.sort(key=lambda e: -(_lstat(sh, e[1], cache) or empty).st_size)
        if opts.get("r"):
            entries.reverse()
        body = _render(sh, entries, opts, header=bool(opts.get("l")), cache=cache, hosts=hosts)
        if len(targets) > 1 or files:
            body = f"{label}:\n{body}"
        chunks.append(body)
    io.out("\n".join(c for c in chunks))
    return status


def _render(
    sh: Interp,
    entries: list[tuple[str, str]],
    opts: dict,
    header: bool,
    cache: dict[str, os.stat_result] | None = None,
    hosts: dict[str, Path] | None = None,
) -> str:
    if opts.get("l") or opts.get("n"):
        lines = _long_rows(sh, entries, cache, hosts)
        if header:
            blocks = 0
            for _, dev in entries:
                s = _lstat(sh, dev, cache)
                if s is not None:
                    blocks += (s.st_blocks * 512 + 1023) // 1024
            lines.insert(0, f"total {blocks}")
        return "".join(line + "\n" for line in lines)
    out = []
    for label, dev in entries:
        name = label
        if opts.get("F"):
            s = _lstat(sh, dev, cache)
            if s is not None and st.S_ISDIR(s.st_mode):
                name += "/"
        out.append(name + "\n")
    return "".join(out)


# -- reading and copying -----------------------------------------------------
def _read_file(sh: Interp, io: Io, name: str, p: str, consume: Callable[[BinaryIO], None]) -> int:
    """Hand one file's bytes to ``consume``; a directory or a missing file is reported as toybox
    does. Returns the exit status for that path."""
    try:
        host = sh.host(p)
        if host.is_dir():
            io.err(f"{name}: {p}: Is a directory\n")
            return 1
        with open(host, "rb") as fh:
            consume(fh)
    except (FileNotFoundError, NotADirectoryError, FsError):
        io.err(f"{name}: {p}: No such file or directory\n")
        return 1
    return 0


@command("cat")
def cat(sh: Interp, io: Io, argv: list[str]) -> int:
    _opts, paths = options.parse(argv, flags="uvtAe")

    def pump(fh: BinaryIO) -> None:
        while chunk := fh.read(1 << 16):
            io.out(chunk)

    status = 0
    for p in paths or ["-"]:
        if p == "-":
            io.out(io.read())
        elif p != "/dev/null":
            status |= _read_file(sh, io, "cat", p, pump)
    return status


def _copy(sh: Interp, name: str, src: str, dst: str, recursive: bool, move: bool) -> None:
    s_host, d_host = sh.host(src), sh.host(dst)
    if not (s_host.exists() or s_host.is_symlink()):
        raise _missing(name, src)
    if d_host.is_dir():
        d_host = d_host / s_host.name
    if s_host.is_dir() and not s_host.is_symlink():
        if move:
            if d_host.exists() and not d_host.is_dir():
                raise CommandError(f"{name}: {dst}: Not a directory")
            os.replace(s_host, d_host) if not d_host.exists() else shutil.move(s_host, d_host)
            return
        if not recursive:
            raise CommandError(f"{name}: Skipped dir '{src}'")
        if str(d_host).startswith(str(s_host) + os.sep):
            raise CommandError(f"{name}: {src}: cannot copy a directory into itself")
        shutil.copytree(s_host, d_host, symlinks=True, dirs_exist_ok=True)
        return
    if not d_host.parent.is_dir():
        raise _missing(name, dst)
    if move:
        os.replace(s_host, d_host)
    else:
        shutil.copyfile(s_host, d_host, follow_symlinks=True)
        stamp(sh, d_host)


def _transfer(sh: Interp, io: Io, name: str, paths: list[str], recursive: bool, move: bool) -> int:
    """``cp``/``mv`` over many sources: one bad source is reported, the rest still go."""
    if len(paths) < 2:
        raise CommandError(f"{name}: Needs 2 arguments")
    *srcs, dst = paths
    if len(srcs) > 1 and not sh.vfs.is_dir(sh.path(dst)):
        raise CommandError(f"{name}: {dst}: Not a directory")
    status = 0
    for s in srcs:
        try:
            _copy(sh, name, s, dst, recursive, move=move)
        except CommandError as exc:
            io.err(f"{exc}\n")
            status = 1
    return status


@command("cp")
def cp(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, paths = options.parse(argv, flags="rRfpadiLPHnuv")
    recursive = bool(opts.get("r") or opts.get("R") or opts.get("a"))
    return _transfer(sh, io, "cp", paths, recursive, move=False)


@command("mv")
def mv(sh: Interp, io: Io, argv: list[str]) -> int:
    _opts, paths = options.parse(argv, flags="finvT")
    return _transfer(sh, io, "mv", paths, True, move=True)


@command("rm")
def rm(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, paths = options.parse(argv, flags="rRfiv")
    force, recursive = bool(opts.get("f")), bool(opts.get("r") or opts.get("R"))
    if not paths and not force:
        raise CommandError("rm: Needs 1 argument")
    status = 0
    for p in paths:
        dev = sh.path(p)
        s = _lstat(sh, dev)
        if s is None:
            if not force:
                io.err(f"rm: {p}: No such file or directory\n")
                status = 1
            continue
        if st.S_ISDIR(s.st_mode) and not recursive:
            io.err(f"rm: {p}: is a directory\n")
            status = 1
            continue
        try:
            sh.vfs.remove(dev, recursive=recursive)
        except (OSError, FsError) as exc:
            io.err(f"rm: {p}: {getattr(exc, 'strerror', None) or exc}\n")
            status = 1
    return status


@command("rmdir")
def rmdir(sh: Interp, io: Io, argv: list[str]) -> int:
    _opts, paths = options.parse(argv, flags="p")
    status = 0
    for p in paths:
        try:
            os.rmdir(sh.host(p))
        except FileNotFoundError:
            io.err(f"rmdir: {p}: No such file or directory\n")
            status = 1
        except OSError:
            io.err(f"rmdir: {p}: Directory not empty\n")
            status = 1
    return status


@command("mkdir")
def mkdir(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, paths = options.parse(argv, flags="pv", valued="m")
    if not paths:
        raise CommandError("mkdir: Needs 1 argument")
    status = 0
    for p in paths:
        host = sh.host(p)
        try:
            if opts.get("p"):
                host.mkdir(parents=True, exist_ok=True)
            else:
                host.mkdir()
            if isinstance(opts.get("m"), str):
                os.chmod(host, options.integer(opts["m"], "mkdir", 8))
        except FileExistsError:
            io.err(f"mkdir: '{p}': File exists\n")
            status = 1
        except (FileNotFoundError, NotADirectoryError):
            io.err(f"mkdir: '{p}': No such file or directory\n")
            status = 1
    return status


def _touch_time(sh: Interp, opts: dict) -> float:
    """The time ``touch`` sets: ``-d DATE``, ``-t [[CC]YY]MMDDhhmm[.ss]``, ``-r FILE``, or now."""
    from emulator.sim.shell.commands.system import parse_date

    now = sh.ctx.clock.now()
    if isinstance(opts.get("r"), str):
        ref = _lstat(sh, sh.path(str(opts["r"])))
        if ref is None:
            raise CommandError(f"touch: '{opts['r']}': No such file or directory")
        return ref.st_mtime
    if isinstance(opts.get("d"), str):
        raw = str(opts["d"])
        utc = raw.endswith("Z")
        text = re.sub(r"\.\d+$", "", raw.replace("T", " ").rstrip("Z"))
        try:
            when = parse_date(text, now.astimezone(UTC) if utc else now)
        except CommandError:
            raise CommandError(f"touch: bad date '{raw}'") from None
        return when.timestamp()
    if isinstance(opts.get("t"), str):
        m = re.fullmatch(r"(\d{2}|\d{4})?(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d\d))?", str(opts["t"]))
        if not m:
            raise CommandError(f"touch: bad date '{opts['t']}'")
        yy, mo, dd, hh, mi, ss = m.groups()
        year = now.year if yy is None else (int(yy) + 2000 if len(yy) == 2 else int(yy))
        try:
            when = datetime(
                year, int(mo), int(dd), int(hh), int(mi), int(ss or 0), tzinfo=now.tzinfo
            )
        except ValueError:
            raise CommandError(f"touch: bad date '{opts['t']}'") from None
        return when.timestamp()
    return sh.ctx.clock.now_ms() / 1000


@command("touch")
def touch(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, paths = options.parse(argv, flags="acmh", valued="dtr")
    when = _touch_time(sh, opts)
    status = 0
    for p in paths:
        host = sh.host(p)
        if not host.exists():
            if opts.get("c"):
                continue
            if not host.parent.is_dir():
                io.err(f"touch: '{p}': No such file or directory\n")
                status = 1
                continue
            host.touch()
        st_now = os.stat(host)
        atime = st_now.st_atime if opts.get("m") and not opts.get("a") else when
        mtime = st_now.st_mtime if opts.get("a") and not opts.get("m") else when
        os.utime(host, (atime, mtime))
    return status


@command("ln")
def ln(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, paths = options.parse(argv, flags="sfnv")
    if len(paths) != 2:
        raise CommandError("ln: Needs 2 arguments")
    if not opts.get("s"):
        raise CommandError("ln: hard links are not supported on this device; use ln -s")
    target, link = paths
    link_host = sh.host(link)
    if link_host.is_dir() and not link_host.is_symlink():
        link_host = link_host / os.path.basename(target)
    if link_host.exists() or link_host.is_symlink():
        if not opts.get("f"):
            raise CommandError(f"ln: {link}: File exists")
        link_host.unlink()
    # Device-absolute targets become relative host links, so the tree can be copied whole.
    target_host = sh.vfs.host_path(normalize(target, sh.path(link).rsplit("/", 1)[0] or "/"))
    os.symlink(os.path.relpath(target_host, link_host.parent), link_host)
    stamp(sh, link_host)
    return 0


@command("readlink", "realpath")
def readlink(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, paths = options.parse(argv, flags="fenqmsz")
    status = 0
    for p in paths:
        dev = sh.path(p)
        if argv[0] == "realpath" or opts.get("f") or opts.get("e") or opts.get("m"):
            try:
                io.out(sh.vfs.device_path(sh.vfs.host_path(dev)) + "\n")
            except (OSError, FsError):
                status = 1
            continue
        host = sh.host(p)
        if not host.is_symlink():
            status = 1
            continue
        io.out(sh.vfs.device_path(host.resolve()) + "\n")
    return status


@command("basename")
def basename(sh: Interp, io: Io, argv: list[str]) -> int:
    if len(argv) < 2:
        raise CommandError("basename: Needs 1 argument")
    base = argv[1].rstrip("/").rsplit("/", 1)[-1] or "/"
    if len(argv) > 2 and base.endswith(argv[2]) and base != argv[2]:
        base = base[: -len(argv[2])]
    io.out(base + "\n")
    return 0


@command("dirname")
def dirname(sh: Interp, io: Io, argv: list[str]) -> int:
    if len(argv) < 2:
        raise CommandError("dirname: Needs 1 argument")
    p = argv[1].rstrip("/")
    d = p.rsplit("/", 1)[0] if "/" in p else "."
    io.out((d or "/") + "\n")
    return 0


# -- metadata ------------------------------------------------------------------
def _stat_field(sh: Interp, dev: str, label: str, s: os.stat_result, c: str) -> str:
    user, group = owner(dev)
    kind = (
        "directory"
        if st.S_ISDIR(s.st_mode)
        else "symbolic link"
        if st.S_ISLNK(s.st_mode)
        else ("regular empty file" if s.st_size == 0 else "regular file")
    )
    return {
        "n": label,
        "N": label,
        "s": str(s.st_size),
        "a": f"{s.st_mode & 0o7777:o}",
        "A": st.filemode(s.st_mode),
        "f": f"{s.st_mode:x}",
        "F": kind,
        "u": "2000" if user == "shell" else "0",
        "U": user,
        "g": "2000" if group == "shell" else "0",
        "G": group,
        "h": str(s.st_nlink),
        "i": str(s.st_ino),
        "b": str(s.st_blocks),
        "B": "512",
        "o": "4096",
        "Y": str(int(s.st_mtime)),
        "X": str(int(s.st_atime)),
        "Z": str(int(s.st_ctime)),
        "y": phone_time(sh, s.st_mtime).strftime("%Y-%m-%d %H:%M:%S.%f000 %z"),
        "x": phone_time(sh, s.st_atime).strftime("%Y-%m-%d %H:%M:%S.%f000 %z"),
        "z": phone_time(sh, s.st_ctime).strftime("%Y-%m-%d %H:%M:%S.%f000 %z"),
        "%": "%",
    }.get(c, "?")


@command("stat")
def stat_(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, paths = options.parse(argv, flags="LfF", valued="c", long={"format": "c"})
    if not paths:
        raise CommandError("stat: Needs 1 argument")
    status = 0
    for p in paths:
        dev = sh.path(p)
        s = _lstat(sh, dev)
        if s is None:
            io.err(f"stat: '{p}': No such file or directory\n")
            status = 1
            continue
        fmt = opts.get("c")
        if isinstance(fmt, str):
            line = re.sub(r"%(.)", lambda m, d=dev, q=p, t=s: _stat_field(sh, d, q, t, m[1]), fmt)
            io.out(line + "\n")
            continue

        def f(c: str, d: str = dev, q: str = p, t: os.stat_result = s) -> str:
            return _stat_field(sh, d, q, t, c)

        io.out(
            f"  File: `{p}'\n"
            f"  Size: {f('s')}\t Blocks: {f('b')}\t IO Blocks: 4096\t{f('F')}\n"
            f"Device: fd00h/64768d\t Inode: {f('i')}\t Links: {f('h')}\n"
            f"Access: ({s.st_mode & 0o7777:04o}/{f('A')})\tUid: ( {f('u')}/ {f('U')})"
            f"\tGid: ( {f('g')}/ {f('G')})\n"
            f"Access: {f('x')}\nModify: {f('y')}\nChange: {f('z')}\n"
        )
    return status


@command(*_SUMS)
def checksum(sh: Interp, io: Io, argv: list[str]) -> int:
    _opts, paths = options.parse(argv, flags="bc")
    algo = _SUMS[argv[0]]
    if not paths:
        io.out(f"{algo(io.read()).hexdigest()}  -\n")
        return 0

    def digest(fh: BinaryIO, p: str) -> None:
        h = algo()
        while chunk := fh.read(1 << 20):
            h.update(chunk)
        io.out(f"{h.hexdigest()}  {p}\n")

    status = 0
    for p in paths:
        status |= _read_file(sh, io, argv[0], p, functools.partial(digest, p=p))
    return status


def _chmod_mode(spec: str, current: int) -> int:
    if re.fullmatch(r"[0-7]{1,4}", spec):
        return int(spec, 8)
    mode = current
    for clause in spec.split(","):
        m = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", clause)
        if not m:
            raise CommandError(f"chmod: invalid mode '{spec}'")
        who, op, perms = m.groups()
        who = who or "a"
        bits = 0
        for w in who.replace("a", "ugo"):
            shift = {"u": 6, "g": 3, "o": 0}[w]
            for p in perms:
                bits |= {"r": 4, "w": 2, "x": 1, "X": 1}.get(p, 0) << shift
        if op == "+":
            mode |= bits
        elif op == "-":
            mode &= ~bits
        else:
            mask = 0
            for w in who.replace("a", "ugo"):
                mask |= 7 << {"u": 6, "g": 3, "o": 0}[w]
            mode = (mode & ~mask) | bits
    return mode


@command("chmod")
def chmod(sh: Interp, io: Io, argv: list[str]) -> int:
    opts, rest = options.parse(argv, flags="Rfv")
    if len(rest) < 2:
        raise CommandError("chmod: Needs 2 arguments")
    spec, paths = rest[0], rest[1:]
    status = 0
    for p in paths:
        host = sh.host(p)
        if not host.exists():
            io.err(f"chmod: {p}: No such file or directory\n")
            status = 1
            continue
        targets = [host]
        if opts.get("R") and host.is_dir():
            targets += [q for q in host.rglob("*")]
        for t in targets:
            os.chmod(t, _chmod_mode(spec, os.lstat(t).st_mode & 0o7777))
    return status


@command("chown", "chgrp", "chcon", "restorecon")
def chown(sh: Interp, io: Io, argv: list[str]) -> int:
    """Ownership and SELinux labels are not modelled: accepted for existing paths."""
    _opts, rest = options.parse(argv, flags="RhfvLPHnDF")
    paths = rest if argv[0] == "restorecon" else rest[1:]
    if not paths:
        raise CommandError(f"{argv[0]}: Needs 2 arguments")
    status = 0
    for p in paths:
        if _lstat(sh, sh.path(p)) is None:
            io.err(f"{argv[0]}: {p}: No such file or directory\n")
            status = 1
    return status


# -- find ------------------------------------------------------------------------
@command("find")
def find(sh: Interp, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    roots: list[str] = []
    while args and not args[0].startswith("-") and args[0] not in ("!", "("):
        roots.append(args.pop(0))
    roots = roots or ["."]
    tests: list[tuple[str, str, bool]] = []
    maxdepth, mindepth, delete = 1 << 30, 0, False
    negate = False
    while args:
        a = args.pop(0)
        if a == "!":
            negate = True
            continue
        if a in ("-name", "-iname", "-type", "-path", "-newer", "-size", "-mtime", "-mmin"):
            if not args:
                raise CommandError(f"find: '{a}' needs 1 arg")
            tests.append((a, args.pop(0), negate))
        elif a in ("-maxdepth", "-mindepth"):
            if not args or not args[0].isdigit():
                raise CommandError(f"find: '{a}' needs a number")
            n = int(args.pop(0))
            maxdepth, mindepth = (n, mindepth) if a == "-maxdepth" else (maxdepth, n)
        elif a == "-delete":
            delete = True
        elif a in ("-print", "-print0", "-follow", "-xdev"):
            pass
        else:
            raise CommandError(f"find: Unknown option '{a}'")
        negate = False
    status = 0
    for root in roots:
        dev = sh.path(root)
        if _lstat(sh, dev) is None:
            io.err(f"find: '{root}': No such file or directory\n")
            status = 1
            continue
        found: list[str] = []
        _walk(sh, root.rstrip("/") or "/", dev, 0, (maxdepth, mindepth), tests, found, delete)
        for label in found:
            if delete:
                try:
                    sh.vfs.remove(sh.path(label), recursive=False)
                except (OSError, FsError) as exc:
                    io.err(f"find: {label}: {getattr(exc, 'strerror', exc)}\n")
                    status = 1
            else:
                io.out(label + "\n")
    return status


def _walk(
    sh: Interp,
    label: str,
    dev: str,
    depth: int,
    limits: tuple[int, int],
    tests: list[tuple[str, str, bool]],
    found: list[str],
    children_first: bool,
) -> None:
    s = _lstat(sh, dev)
    if s is None:
        return
    maxdepth, mindepth = limits
    matched = depth >= mindepth and _all(sh, label, dev, s, tests)
    if matched and not children_first:
        found.append(label)
    if st.S_ISDIR(s.st_mode) and depth < maxdepth:
        for name in sh.vfs.listdir(dev):
            child = f"{label}/{name}" if label != "/" else f"/{name}"
            _walk(
                sh,
                child,
                f"{dev.rstrip('/')}/{name}",
                depth + 1,
                limits,
                tests,
                found,
                children_first,
            )
    if matched and children_first:
        found.append(label)


def _all(
    sh: Interp, label: str, dev: str, s: os.stat_result, tests: list[tuple[str, str, bool]]
) -> bool:
    return all(_match(sh, label, dev, s, (t, a)) != neg for t, a, neg in tests)


def _match(sh: Interp, label: str, dev: str, s: os.stat_result, test: tuple[str, str]) -> bool:
    kind, arg = test
    base = label.rstrip("/").rsplit("/", 1)[-1] or "/"
    if kind == "-name":
        return fnmatch.fnmatchcase(base, arg)
    if kind == "-iname":
        return fnmatch.fnmatchcase(base.lower(), arg.lower())
    if kind == "-path":
        return fnmatch.fnmatchcase(label, arg)
    if kind == "-type":
        return {
            "f": st.S_ISREG(s.st_mode),
            "d": st.S_ISDIR(s.st_mode),
            "l": st.S_ISLNK(s.st_mode),
        }.get(arg, False)
    if kind == "-newer":
        ref = _lstat(sh, sh.path(arg))
        if ref is None:
            raise CommandError(f"find: '{arg}': No such file or directory")
        return s.st_mtime > ref.st_mtime
    if kind in ("-mtime", "-mmin"):
        m = re.fullmatch(r"([-+]?)(\d+)", arg)
        if not m:
            raise CommandError(f"find: bad {kind} '{arg}'")
        unit = 86400 if kind == "-mtime" else 60
        age = int((sh.ctx.clock.now_ms() / 1000 - s.st_mtime) // unit)
        n = int(m.group(2))
        return age > n if m.group(1) == "+" else age < n if m.group(1) == "-" else age == n
    if kind == "-size":
        m = re.fullmatch(r"([-+]?)(\d+)([ckMG]?)", arg)
        if not m:
            raise CommandError(f"find: bad -size '{arg}'")
        unit = {"": 512, "c": 1, "k": 1024, "M": 1 << 20, "G": 1 << 30}[m.group(3)]
        size = -(-s.st_size // unit)
        n = int(m.group(2))
        return size > n if m.group(1) == "+" else size < n if m.group(1) == "-" else size == n
    return False
