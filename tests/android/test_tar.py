"""The virtual phone's toybox ``tar``: what seeding relies on, its formats and its errors.

Archives come from the seeding's own builder (``seed_archive``) and from Python's
``tarfile`` in the other formats a client may send (pax, gzip); everything is read
back through the phone's filesystem.
"""

from __future__ import annotations

import gzip
import io
import os
import shlex
import subprocess
import tarfile

import pytest

from emulator.seeding import ArchiveEntry, seed_archive

HOSTILE_NAMES = [
    'it\'s "quoted".md',
    "$HOME $(id) ${x}.txt",
    "`id` back`tick`.txt",
    "50% off %s %d.txt",
    "😀 emoji 🎉.txt",
    "日本語のファイル名.txt",
    "  spaced  name .txt",
    "back\\slash;&|<>.txt",
]
T1 = 1_700_000_000  # 2023-11-14 22:13:20 UTC


def _stat(sim_shell, dev: str) -> os.stat_result:
    return os.lstat(sim_shell.vfs.host_path(dev, follow=False))


def _archive(members: list[tuple[str, bytes | None]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A tar made by Python's tarfile; ``None`` data makes a directory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8") as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = T1
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tf.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o640
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_extract_keeps_names_bytes_modes_and_times(sim_shell) -> None:
    long_dir = "/sdcard/Documents/" + "very long folder name 📁/" * 8
    entries = [
        ArchiveEntry(f"/sdcard/Documents/Notes/{n}", f"{n}\nline 2 $x `id`\n".encode(), 0o644, T1)
        for n in HOSTILE_NAMES
    ]
    entries += [
        ArchiveEntry(long_dir + "deep.bin", bytes(range(256)) * 3, 0o600, T1 + 60),
        ArchiveEntry("/data/local/tmp/run me.sh", b"echo hi\n", 0o755, T1 + 120),
    ]
    sim_shell.vfs.write_bytes("/data/local/tmp/seed.tar", seed_archive(entries))
    assert sim_shell("tar -x -o -f /data/local/tmp/seed.tar -C /") == (0, "", "")
    for e in entries:
        assert sim_shell.vfs.read_bytes(e.path) == e.data, e.path
        s = _stat(sim_shell, e.path)
        assert (s.st_mode & 0o777, int(s.st_mtime)) == (e.mode, e.mtime), e.path
    listed = sim_shell.out("tar -tf /data/local/tmp/seed.tar").splitlines()
    assert listed == [e.path.lstrip("/") for e in entries]
    # What seeding's verification reads: sizes, times and hashes through the phone's own tools.
    first = entries[0].path
    assert sim_shell.out(f"stat -c '%s %Y %n' {shlex.quote(first)}") == (
        f"{len(entries[0].data)} {T1} {first}\n"
    )


def test_pax_and_gzip_archives_extract(sim_shell) -> None:
    raw = _archive([("box/", None), ("box/日本 😀.txt", b"pax name\n"), ("box/plain.txt", b"x")])
    sim_shell.vfs.write_bytes("/data/local/tmp/a.tar", raw)
    sim_shell.vfs.write_bytes("/data/local/tmp/a.tgz", gzip.compress(raw))
    sim_shell.out("mkdir -p /data/local/tmp/p /data/local/tmp/z /data/local/tmp/zz")
    sim_shell.out("tar -xf /data/local/tmp/a.tar -C /data/local/tmp/p")
    sim_shell.out("tar xf /data/local/tmp/a.tgz -C /data/local/tmp/z")  # gzip detected
    sim_shell.out("tar -xzf /data/local/tmp/a.tgz -C /data/local/tmp/zz")
    for d in ("p", "z", "zz"):
        assert sim_shell.vfs.read_bytes(f"/data/local/tmp/{d}/box/日本 😀.txt") == b"pax name\n"
        # A directory's time is set after its contents are written, as toybox does.
        assert int(_stat(sim_shell, f"/data/local/tmp/{d}/box").st_mtime) == T1


def test_create_list_and_extract_round_trip(sim_shell) -> None:
    sim_shell.out("mkdir -p /sdcard/Src/sub")
    for i, name in enumerate(HOSTILE_NAMES[:4]):
        sim_shell.vfs.write_bytes(f"/sdcard/Src/sub/{name}", f"body {i}\n".encode(), 0o600)
    sim_shell.out("touch -d @1700000000 /sdcard/Src/sub/*")
    status, out, err = sim_shell("tar -cvf /data/local/tmp/c.tar -C /sdcard Src")
    assert (status, out) == (0, "")
    assert err.splitlines()[:2] == ["Src/", "Src/sub/"]  # verbose names go to stderr
    lines = sim_shell.out("tar -tvf /data/local/tmp/c.tar").splitlines()
    assert lines[0].startswith("drwxr-xr-x u0_a0/media_rw         0  ")
    assert lines[0].endswith(" Src/")
    files = [line for line in lines if not line.startswith("d")]
    # Sorted by name; a line: mode owner/group size, time on the phone's clock (UTC here).
    assert (
        files[0]
        == f"-rw------- u0_a0/media_rw         7  2023-11-14 22:13 Src/sub/{HOSTILE_NAMES[1]}"
    )
    sim_shell.out("mkdir /data/local/tmp/out")
    status, out, _ = sim_shell("tar -xvf /data/local/tmp/c.tar -C /data/local/tmp/out")
    assert status == 0 and out.splitlines()[:2] == ["Src/", "Src/sub/"]
    for i, name in enumerate(HOSTILE_NAMES[:4]):
        path = f"/data/local/tmp/out/Src/sub/{name}"
        assert sim_shell.vfs.read_bytes(path) == f"body {i}\n".encode()
        assert (_stat(sim_shell, path).st_mode & 0o777, int(_stat(sim_shell, path).st_mtime)) == (
            0o600,
            T1,
        )
    # Absolute operands lose their slash (with toybox's warning); stdout is the archive.
    status, out, err = sim_shell("tar -c /sdcard/Src/sub | tar -t")
    assert status == 0 and err == "removing leading '/' from member names\n"
    assert out.splitlines()[0] == "sdcard/Src/sub/"


def test_members_outside_the_directory_are_refused(sim_shell) -> None:
    raw = _archive([("../escape.txt", b"no"), ("/abs.txt", b"no"), ("ok.txt", b"yes")])
    sim_shell.vfs.write_bytes("/data/local/tmp/evil.tar", raw)
    sim_shell.out("mkdir /data/local/tmp/box")
    status, _, err = sim_shell("tar -xf /data/local/tmp/evil.tar -C /data/local/tmp/box")
    assert status == 1
    assert err.splitlines() == [
        "tar: '../escape.txt' /data/local/tmp/escape.txt not under '/data/local/tmp/box'",
        "tar: '/abs.txt' /abs.txt not under '/data/local/tmp/box'",
    ]
    assert sim_shell.vfs.read_bytes("/data/local/tmp/box/ok.txt") == b"yes"
    assert not sim_shell.vfs.exists("/data/local/tmp/escape.txt")
    assert not sim_shell.vfs.exists("/abs.txt")


def test_a_symlink_to_a_device_path_stays_inside_the_phone(sim_shell) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        link = tarfile.TarInfo("sdcard/Docs-link")
        link.type, link.linkname = tarfile.SYMTYPE, "/sdcard/Documents"
        tf.addfile(link)
    sim_shell.vfs.write_bytes("/data/local/tmp/l.tar", buf.getvalue())
    sim_shell.vfs.write_bytes("/sdcard/Documents/inside.txt", b"inside")
    sim_shell.out("tar -xf /data/local/tmp/l.tar -C /")
    assert sim_shell.out("cat /sdcard/Docs-link/inside.txt") == "inside"
    assert sim_shell.out("readlink /sdcard/Docs-link") == "/sdcard/Documents\n"


def test_existing_files_are_replaced_unless_kept(sim_shell) -> None:
    sim_shell.vfs.write_bytes("/data/local/tmp/x/ok.txt", b"old")
    sim_shell.vfs.write_bytes("/data/local/tmp/o.tar", _archive([("ok.txt", b"new")]))
    status, _, err = sim_shell("tar -xkf /data/local/tmp/o.tar -C /data/local/tmp/x")
    assert (status, err) == (1, "tar: can't open 'ok.txt': File exists\n")
    assert sim_shell.vfs.read_bytes("/data/local/tmp/x/ok.txt") == b"old"
    sim_shell.out("tar -xf /data/local/tmp/o.tar -C /data/local/tmp/x")
    assert sim_shell.vfs.read_bytes("/data/local/tmp/x/ok.txt") == b"new"


def test_a_file_where_a_folder_should_be_is_reported(sim_shell) -> None:
    sim_shell.vfs.write_bytes("/data/local/tmp/blocker", b"a file")
    sim_shell.vfs.write_bytes(
        "/data/local/tmp/b.tar", seed_archive([ArchiveEntry("/data/local/tmp/blocker/f", b"x")])
    )
    status, _, err = sim_shell("tar -xf /data/local/tmp/b.tar -C /")
    assert status == 1 and err.startswith("tar: :data/local/tmp/blocker/f: can't mkdir")


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("tar -f /data/local/tmp/t.tar", "tar: Needs one of -cxt"),
        ("tar -xt -f /data/local/tmp/t.tar", "tar: No 't' with 'x'"),
        ("tar -xq -f /data/local/tmp/t.tar", "tar: Unknown option 'q'"),
        (
            "tar -xf /data/local/tmp/none.tar",
            "tar: can't open '/data/local/tmp/none.tar': No such file or directory",
        ),
        (
            "tar -xf /data/local/tmp/t.tar -C /nowhere",
            "tar: chdir '/nowhere': No such file or directory",
        ),
        ("tar -xf /data/local/tmp/not.tar", "tar: Not tar"),
        ("tar -xf /data/local/tmp/empty.tar", "tar: Not tar"),
        ("tar -xf /data/local/tmp/cut.tar -C /data/local/tmp", "tar: EOF"),
        ("tar -cf /data/local/tmp/new.tar", "tar: empty archive"),
        (
            "tar -xf /data/local/tmp/t.tar -C /data/local/tmp missing.txt",
            "tar: 'missing.txt' not in archive",
        ),
    ],
)
def test_errors_read_like_toybox(sim_shell, command: str, message: str) -> None:
    good = _archive([("t.txt", b"t" * 2000)])
    sim_shell.vfs.write_bytes("/data/local/tmp/t.tar", good)
    sim_shell.vfs.write_bytes("/data/local/tmp/not.tar", b"this is not an archive\n" * 40)
    sim_shell.vfs.write_bytes("/data/local/tmp/empty.tar", b"")
    sim_shell.vfs.write_bytes("/data/local/tmp/cut.tar", good[:1536])  # headers + part of data
    status, _, err = sim_shell(command)
    assert (status, err.rstrip("\n").splitlines()[-1]) == (1, message)


@pytest.mark.integration
def test_an_archive_made_on_the_phone_reads_on_the_host(phone) -> None:
    """``tar -c`` over the real adb (``exec:``, binary-safe): names and bytes as seeded."""
    from emulator.seeding import FileItem, SeedPlan

    folder = "/sdcard/Download/tar out 'q' $x"
    files = [
        FileItem(f"{folder}/{n}", f"{n}\n\x00\xff".encode("utf-8", "surrogateescape"), mtime=T1)
        for n in HOSTILE_NAMES
    ]
    phone.seed(SeedPlan(files=files))
    raw = phone.exec_out(f"tar -c -f - -C {shlex.quote(folder)} .")
    with tarfile.open(fileobj=io.BytesIO(raw), encoding="utf-8") as tf:
        got = {
            m.name.removeprefix("./"): (tf.extractfile(m).read(), m.mtime)  # type: ignore[union-attr]
            for m in tf
            if m.isfile()
        }
    assert got == {f.path.rsplit("/", 1)[1]: (f.data, T1) for f in files}


def test_gnu_tar_reads_both_ways(sim_shell, tmp_path) -> None:
    """An independent tar (the host's GNU tar) agrees on the seed archive and on ``tar -c``."""
    entries = [
        ArchiveEntry(f"/sdcard/Documents/{n}", f"{n}\n".encode(), 0o640, T1 + i)
        for i, n in enumerate(HOSTILE_NAMES)
    ]
    entries.append(ArchiveEntry("/sdcard/" + "lång 📁/" * 20 + "f.txt", b"deep", 0o600, T1))
    out = tmp_path / "gnu"
    out.mkdir()
    subprocess.run(
        ["tar", "-x", "-f", "-", "-C", str(out)], input=seed_archive(entries), check=True
    )
    for e in entries:
        host = out / e.path.lstrip("/")
        s = host.stat()
        assert (host.read_bytes(), s.st_mode & 0o777, int(s.st_mtime)) == (e.data, e.mode, e.mtime)

    sim_shell.vfs.write_bytes("/data/local/tmp/seed.tar", seed_archive(entries))
    sim_shell.out(
        "tar -xf /data/local/tmp/seed.tar -C / && tar -cf /data/local/tmp/back.tar sdcard"
    )
    made = sim_shell.vfs.read_bytes("/data/local/tmp/back.tar")
    listed = subprocess.run(
        ["tar", "--quoting-style=literal", "-t", "-f", "-"],
        input=made,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for e in entries:
        assert e.path.lstrip("/") + "\n" in listed
