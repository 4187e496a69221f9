"""``tar`` as toybox has it: create (``-c``), extract (``-x``) and list (``-t``) archives.

Seeding pushes a batch of files as one archive and unpacks it with one command,
as it does on a real phone (``tar -x -o -f FILE -C /``). Every member goes
through the phone's filesystem: paths are confined to it, members that would
land outside ``-C DIR`` are refused with toybox's message, and modes and
modification times come from the archive (``-m`` keeps the phone's time
instead). Python's ``tarfile`` reads ustar, GNU (long names) and pax headers;
archives are written in GNU format, as toybox writes them, with UTF-8 names.
"""

from __future__ import annotations

import io as iolib
import os
import stat as st
import tarfile
from dataclasses import dataclass, field
from typing import IO

from emulator.sim.shell.commands import command, options
from emulator.sim.shell.commands.files import owner, phone_time
from emulator.sim.shell.interp import CommandError, Interp, Io
from emulator.sim.vfs import FsError, normalize

_LONG = {
    "create": "c",
    "extract": "x",
    "list": "t",
    "verbose": "v",
    "gzip": "z",
    "file": "f",
    "directory": "C",
    "to-stdout": "O",
    "touch": "m",
    "no-same-owner": "o",
    "same-permissions": "p",
    "keep-old": "k",
    "dereference": "h",
}
_ENCODING = {"encoding": "utf-8", "errors": "surrogateescape"}


@dataclass
class _Run:
    """One ``tar`` invocation: options, the directory members are relative to, failures."""

    sh: Interp
    io: Io
    opts: dict[str, str | bool]
    base: str  # device path of -C DIR (or the working directory)
    failed: bool = False
    dir_times: list[tuple[str, int]] = field(default_factory=list)

    def warn(self, message: str) -> None:
        """A per-member error: reported, the rest goes on, tar exits 1."""
        self.io.err(f"tar: {message}\n")
        self.failed = True


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


@command("tar")
def tar(sh: Interp, io: Io, argv: list[str]) -> int:
    args = list(argv)
    if len(args) > 1 and args[1] and not args[1].startswith("-"):
        args[1] = "-" + args[1]  # toybox reads the first word as options: `tar xvf a.tar`
    opts, names = options.parse(args, flags="cxtvzmOokhp", valued="fC", long=_LONG)
    modes = [m for m in "cxt" if opts.get(m)]
    if len(modes) > 1:
        raise CommandError(f"tar: No '{modes[1]}' with '{modes[0]}'")
    if not modes:
        raise CommandError("tar: Needs one of -cxt")
    archive = str(opts.get("f", "-"))
    base = sh.path(str(opts["C"])) if isinstance(opts.get("C"), str) else sh.cwd
    if isinstance(opts.get("C"), str) and not sh.vfs.is_dir(base):
        raise CommandError(f"tar: chdir '{opts['C']}': No such file or directory")
    run = _Run(sh, io, opts, base)
    if modes[0] == "c":
        _create(run, archive, names)
    else:
        _read(run, archive, names)
    return 1 if run.failed else 0


# -- reading: -x and -t -------------------------------------------------------------
def _open_archive(run: _Run, archive: str) -> IO[bytes]:
    if archive == "-":
        return iolib.BytesIO(run.io.read())
    try:
        host = run.sh.host(archive)
        if host.is_dir():
            raise IsADirectoryError(21, "Is a directory")
        return open(host, "rb")
    except FsError:
        raise CommandError(f"tar: can't open '{archive}': No such file or directory") from None
    except OSError as exc:
        raise CommandError(f"tar: can't open '{archive}': {_reason(exc)}") from None


def _read(run: _Run, archive: str, wanted: list[str]) -> None:
    raw = _open_archive(run, archive)
    try:
        mode = "r:gz" if run.opts.get("z") else "r:*"  # toybox also detects gzip by itself
        try:
            tf = tarfile.open(fileobj=raw, mode=mode, **_ENCODING)  # noqa: SIM115
        except (tarfile.ReadError, EOFError, OSError):
            raise CommandError("tar: Not tar") from None
        seen: set[str] = set()
        with tf:
            try:
                for member in tf:
                    name = _member_name(member)
                    hit = _selected(name, wanted)
                    if wanted and hit is None:
                        continue
                    if hit is not None:
                        seen.add(hit)
                    if run.opts.get("t"):
                        _list_one(run, member, name)
                    else:
                        _extract_one(run, tf, member, name)
            except (tarfile.ReadError, EOFError) as exc:
                msg = "tar: EOF" if "end of" in str(exc) else "tar: bad header"
                raise CommandError(msg) from None
        _flush_dir_times(run)
        for name in wanted:
            if name.rstrip("/") not in seen:
                run.warn(f"'{name}' not in archive")
    finally:
        raw.close()


def _member_name(member: tarfile.TarInfo) -> str:
    return member.name.rstrip("/") if member.isdir() else member.name


def _selected(name: str, wanted: list[str]) -> str | None:
    """The operand that selects ``name`` (itself or a directory above it), if any."""
    for w in wanted:
        w = w.rstrip("/")
        if name == w or name.startswith(w + "/"):
            return w
    return None


def _list_one(run: _Run, m: tarfile.TarInfo, name: str) -> None:
    line = name + "/" if m.isdir() else name  # as stored: directories end in a slash
    if run.opts.get("v"):
        kind = {tarfile.DIRTYPE: st.S_IFDIR, tarfile.SYMTYPE: st.S_IFLNK}.get(m.type, st.S_IFREG)
        when = phone_time(run.sh, m.mtime).strftime("%Y-%m-%d %H:%M")
        user = m.uname or str(m.uid)
        group = m.gname or str(m.gid)
        line = f"{st.filemode(kind | (m.mode & 0o7777))} {user}/{group} {m.size:9d}  {when} {line}"
    if m.issym() or m.islnk():
        line += f" -> {m.linkname}"
    run.io.out(line + "\n")


def _target(run: _Run, name: str) -> str | None:
    """The device path a member extracts to, or None (reported) when it may not go there."""
    dev = normalize(name, run.base)
    under = run.base == "/" or dev == run.base or dev.startswith(run.base.rstrip("/") + "/")
    if not under:
        run.warn(f"'{name}' {dev} not under '{run.base}'")
        return None
    try:
        run.sh.vfs.host_path(dev, follow=False)
    except FsError:
        run.warn(f"'{name}' {dev} not under '{run.base}'")
        return None
    return dev


def _extract_one(run: _Run, tf: tarfile.TarFile, m: tarfile.TarInfo, name: str) -> None:
    sh, opts = run.sh, run.opts
    if opts.get("v"):
        run.io.out(name + ("/\n" if m.isdir() else "\n"))  # the name as stored
    if opts.get("O"):
        if m.isfile():
            data = tf.extractfile(m)
            run.io.out(data.read() if data else b"")
        return
    dev = _target(run, name)
    if dev is None or dev == "/":  # "./" of an archive made at the root: nothing to create
        return
    vfs = sh.vfs
    parent = dev.rsplit("/", 1)[0] or "/"
    try:
        vfs.mkdir(parent)
    except (OSError, FsError) as exc:
        run.warn(f":{name}: can't mkdir: {getattr(exc, 'strerror', None) or exc}")
        return
    host = vfs.host_path(dev, follow=False)
    exists = host.exists() or host.is_symlink()
    if exists and not m.isdir():
        if opts.get("k"):
            run.warn(f"can't open '{name}': File exists")
            return
        try:
            vfs.remove(dev, recursive=False)
        except (OSError, FsError) as exc:
            run.warn(f"can't remove: {name}: {getattr(exc, 'strerror', None) or exc}")
            return
    mode = m.mode & (0o7777 if opts.get("p") else 0o777)
    try:
        if m.isfile():
            data = tf.extractfile(m)
            vfs.write_bytes(dev, data.read() if data else b"", mode)
        elif m.isdir():
            if host.exists() and not host.is_dir():
                run.warn(f"{name}: can't create: File exists")
                return
            vfs.mkdir(dev)
            os.chmod(host, mode)
            if not opts.get("m"):
                run.dir_times.append((dev, int(m.mtime)))  # after its contents, as toybox does
            return
        elif m.issym():
            link = m.linkname
            if link.startswith("/"):  # a device path: kept relative on the host, as `ln -s` does
                link = os.path.relpath(vfs.host_path(normalize(link), follow=False), host.parent)
            os.symlink(link, host)
            if not opts.get("m"):
                os.utime(host, (m.mtime, m.mtime), follow_symlinks=False)
            return
        elif m.islnk():
            src = _target(run, m.linkname)
            if src is None:
                return
            os.link(vfs.host_path(src, follow=False), host)
        else:
            run.warn(f"can't create '{name}': Operation not permitted")
            return
    except tarfile.ReadError as exc:
        raise CommandError("tar: EOF" if "end of" in str(exc) else "tar: bad header") from None
    except (OSError, FsError) as exc:
        run.warn(f"can't open '{name}': {getattr(exc, 'strerror', None) or exc}")
        return
    if not opts.get("m"):
        os.utime(host, (m.mtime, m.mtime))


def _flush_dir_times(run: _Run) -> None:
    for dev, mtime in reversed(run.dir_times):
        try:
            os.utime(run.sh.vfs.host_path(dev), (mtime, mtime))
        except (OSError, FsError) as exc:
            run.warn(f"settime {mtime} {dev}: {getattr(exc, 'strerror', None) or exc}")
    run.dir_times.clear()


# -- writing: -c --------------------------------------------------------------------
def _create(run: _Run, archive: str, names: list[str]) -> None:
    if not names:
        raise CommandError("tar: empty archive")
    sh, opts = run.sh, run.opts
    gz = bool(opts.get("z")) or archive.endswith((".tgz", ".tar.gz"))
    # The archive is opened before -C applies, as toybox does.
    archive_dev = sh.path(archive) if archive != "-" else None
    if archive_dev is not None:
        try:
            archive_host = sh.vfs.host_path(archive_dev)
        except FsError:
            raise CommandError(f"tar: can't open '{archive}': Permission denied") from None
        if not archive_host.parent.is_dir():
            raise CommandError(f"tar: can't open '{archive}': No such file or directory")
    buf = iolib.BytesIO()
    warned = False
    with tarfile.open(
        fileobj=buf, mode="w:gz" if gz else "w", format=tarfile.GNU_FORMAT, **_ENCODING
    ) as tf:
        for operand in names:
            dev = normalize(operand, run.base)
            stored = operand.lstrip("/")
            if stored != operand and not warned:
                lead = operand[: len(operand) - len(stored)]
                run.io.err(f"removing leading '{lead}' from member names\n")
                warned = True
            try:
                os.lstat(sh.vfs.host_path(dev, follow=False))
            except (OSError, FsError):
                run.warn(f"{operand}: No such file or directory")
                continue
            _add(run, tf, dev, stored.rstrip("/") or ".", archive_dev)
    data = buf.getvalue()
    if archive_dev is None:
        run.io.out(data)
        return
    try:
        sh.vfs.write_bytes(archive_dev, data, 0o644)
    except (OSError, FsError) as exc:
        raise CommandError(
            f"tar: can't open '{archive}': {getattr(exc, 'strerror', None) or exc}"
        ) from None


def _add(run: _Run, tf: tarfile.TarFile, dev: str, stored: str, archive_dev: str | None) -> None:
    sh = run.sh
    if dev == archive_dev:
        run.warn(f"'{stored}' file is the archive; not dumped")
        return
    host = sh.vfs.host_path(dev, follow=False)
    follow = bool(run.opts.get("h"))
    try:
        s = os.stat(host) if follow else os.lstat(host)
    except OSError as exc:
        run.warn(f"can't open '{stored}': {_reason(exc)}")
        return
    info = tarfile.TarInfo(stored + ("/" if st.S_ISDIR(s.st_mode) else ""))
    info.mode = s.st_mode & 0o7777
    info.mtime = int(s.st_mtime)
    user, group = owner(dev)
    info.uname, info.gname = user, group
    info.uid = 2000 if user == "shell" else 0
    info.gid = 2000 if group == "shell" else 0
    if run.opts.get("v"):
        run.io.err(info.name + "\n")
    if st.S_ISLNK(s.st_mode):
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(host)
        tf.addfile(info)
    elif st.S_ISDIR(s.st_mode):
        info.type = tarfile.DIRTYPE
        tf.addfile(info)
        for child in sorted(os.listdir(host)):
            _add(run, tf, f"{dev.rstrip('/')}/{child}", f"{stored}/{child}", archive_dev)
    elif st.S_ISREG(s.st_mode):
        try:
            with open(host, "rb") as fh:
                info.size = s.st_size
                tf.addfile(info, fh)
        except OSError as exc:
            run.warn(f"can't open '{stored}': {_reason(exc)}")
    else:
        run.warn(f"unknown file type '{st.S_IFMT(s.st_mode):o}'")
