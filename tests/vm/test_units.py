"""The Linux layer's host-side parts, without booting anything: kernel, cpio, image recipe,
mail rendering, seed plan validation, the guestfwd relay, the reaper, QMP-free pieces."""

from __future__ import annotations

import gzip
import json
import lzma
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostproc.labels import labelled_processes
from linux_vm import image as image_mod
from linux_vm.errors import BootError, ImageBuildError, LinuxInputError
from linux_vm.kernel import _Cpio, extract_vmlinux
from linux_vm.qemu import LABEL, QEMU, reap_orphans
from linux_vm.seeding import MailRecord, as_plan, bundle, compile_plan
from linux_vm.snapshot import stale_cache

FAKE_ELF = b"\x7fELF" + os.urandom(4096)

text_no_surrogates = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def test_extract_vmlinux_from_xz_gzip_and_lz4():
    junk = b"MZ" + os.urandom(3000)
    assert (
        extract_vmlinux(junk + lzma.compress(FAKE_ELF, check=lzma.CHECK_CRC32) + b"tail")
        == FAKE_ELF
    )
    assert extract_vmlinux(junk + gzip.compress(FAKE_ELF) + b"\x00" * 16) == FAKE_ELF
    if shutil.which("lz4"):
        lz = subprocess.run(["lz4", "-l", "-c"], input=FAKE_ELF, capture_output=True).stdout
        assert extract_vmlinux(junk + lz + b"\x10\x00\x00\x00") == FAKE_ELF
    with pytest.raises(ImageBuildError, match="no XZ"):
        extract_vmlinux(junk)


def _parse_cpio(blob: bytes) -> dict[str, tuple[int, bytes]]:
    out, pos = {}, 0
    while True:
        assert blob[pos : pos + 6] == b"070701"
        fields = [int(blob[pos + 6 + 8 * i : pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name_start = pos + 110
        name = blob[name_start : name_start + namesize - 1].decode()
        data_start = (name_start + namesize + 3) & ~3
        data = blob[data_start : data_start + size]
        pos = (data_start + size + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out[name] = (mode, data)


def test_cpio_writer_is_newc_the_kernel_can_unpack():
    w = _Cpio()
    w.add_dir("bin")
    w.add_char_device("dev/console", 5, 1)
    w.add_file("init", b"#!/bin/sh\n", 0o755)
    w.add_file("odd", b"abc", 0o644)
    blob = w.finish()
    assert len(blob) % 512 == 0
    entries = _parse_cpio(blob)
    assert entries["init"] == (0o100755, b"#!/bin/sh\n")
    assert entries["odd"] == (0o100644, b"abc")
    assert entries["bin"][0] == 0o040755
    assert entries["dev/console"][0] & 0o170000 == 0o020000


def test_recipe_key_changes_with_the_recipe(monkeypatch):
    key = image_mod.recipe_key()
    assert key == image_mod.recipe_key() and len(key) == 16
    monkeypatch.setattr(image_mod, "RECIPE_VERSION", image_mod.RECIPE_VERSION + 1)
    assert image_mod.recipe_key() != key
    monkeypatch.undo()
    monkeypatch.setattr(image_mod, "PACKAGES", (*image_mod.PACKAGES, "htop"))
    assert image_mod.recipe_key() != key


def test_apt_mirror_reads_deb822_and_one_line_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "deb [arch=amd64] http://mirror.test/debian bookworm main\n"
    )
    assert image_mod.apt_mirror(tmp_path) == "http://mirror.test/debian"
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://deb.example/debian/\nSuites: bookworm\n"
    )
    assert image_mod.apt_mirror(tmp_path) == "http://deb.example/debian"
    assert image_mod.apt_mirror(tmp_path / "nothing") == image_mod.DEFAULT_MIRROR


def test_bad_image_name_is_an_input_error(tmp_path):
    with pytest.raises(LinuxInputError, match="image name"):
        image_mod.find_image(tmp_path, "../etc")


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("debootstrap"), reason="needs root")
def test_failed_build_leaves_no_half_image(tmp_path):
    """debootstrap against a loopback port nobody serves fails; nothing is published."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ImageBuildError, match="debootstrap failed"):
        image_mod.build_image(tmp_path, "broken", mirror=f"http://127.0.0.1:{port}/debian")
    root = image_mod.images_root(tmp_path)
    assert [p.name for p in root.iterdir() if not p.name.endswith(".lock")] == []
    assert image_mod.find_image(tmp_path, "broken") is None


def test_builders_wait_for_the_lock_and_reuse_the_published_image(tmp_path, monkeypatch):
    root = image_mod.images_root(tmp_path)
    key = image_mod.recipe_key()
    final = root / f"demo-{key}"
    final.mkdir(parents=True)
    from filelock import FileLock

    lock = FileLock(str(root / f"demo-{key}.lock"))
    lock.acquire()
    built = []
    monkeypatch.setattr(image_mod, "_build", lambda *a: built.append(a))
    result = {}
    t = threading.Thread(
        target=lambda: result.setdefault("img", image_mod.build_image(tmp_path, "demo"))
    )
    t.start()
    time.sleep(0.3)
    assert t.is_alive(), "a second builder must wait for the first"
    (final / "manifest.json").write_text("{}")  # the first builder publishes
    lock.release()
    t.join(10)
    assert result["img"].path == final and built == []


@settings(max_examples=300, deadline=None)
@given(subject=text_no_surrogates, body=text_no_surrogates, name=text_no_surrogates)
def test_mail_renders_to_bytes_that_parse_back_exactly(subject, body, name):
    subject = " ".join(subject.splitlines())
    name = " ".join(name.splitlines())
    try:
        rec = MailRecord(
            sender="a@example.org",
            to=["user@laptop"],
            subject=subject,
            body=body,
            date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            headers={"X-Label": name} if name.strip() else {},
        )
    except Exception as exc:  # the only refusals are stray line breaks
        assert "line breaks" in str(exc)
        return
    msg = BytesParser(policy=policy.default).parsebytes(rec.render())
    assert str(msg["Subject"]) == subject.strip(" \t")
    assert msg.get_body(("plain",)).get_content() == body
    assert rec.target(rec.render()).startswith("~/Maildir/cur/1767323045.")


def test_plan_validation_names_the_problem():
    with pytest.raises(LinuxInputError, match="must be absolute"):
        as_plan([{"kind": "file", "path": "notes.txt", "content": "x"}])
    with pytest.raises(LinuxInputError, match=r"\.\."):
        as_plan([{"kind": "file", "path": "/home/user/../../etc/passwd", "content": "x"}])
    with pytest.raises(LinuxInputError, match="timezone"):
        as_plan(
            [{"kind": "file", "path": "/tmp/x", "content": "x", "mtime": "2026-01-01T00:00:00"}]
        )
    with pytest.raises(LinuxInputError, match="kind"):
        as_plan([{"kind": "registry", "path": "/x"}])


def test_payloads_travel_in_tar_members_not_commands():
    plan = as_plan([{"kind": "file", "path": "/tmp/$(reboot)", "content": "`rm -rf /`\n"}])
    ops, expect = compile_plan(plan)
    blob = bundle(ops)
    import io
    import json
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        manifest = json.load(tar.extractfile("ops.json"))
        assert manifest[0]["path"] == "/tmp/$(reboot)" and "data" not in manifest[0]
        assert tar.extractfile(manifest[0]["blob"]).read() == b"`rm -rf /`\n"
    assert expect[0]["size"] == 11


def test_mail_folders_are_made_once_however_many_mails_land_there():
    when = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    mails = [
        {
            "kind": "mail",
            "subject": f"s{i}",
            "body": "b",
            "sender": "a@x.org",
            "to": ["me@x.org"],
            "date": when,
        }
        for i in range(40)
    ]
    ops, expect = compile_plan(as_plan([*mails, {**mails[0], "folder": ".Archive"}]))
    dirs = [op["path"] for op in ops if op["op"] == "dir"]
    assert len(dirs) == len(set(dirs)) == 6  # cur/new/tmp of the inbox and of Archive
    assert sum(op["op"] == "file" for op in ops) == len(expect) == 41


def test_relay_forwards_one_connection_to_a_loopback_port():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve():
        conn, _ = server.accept()
        with conn:
            data = b""
            while not data.endswith(b"\n"):
                data += conn.recv(100)
            conn.sendall(data.upper())

    threading.Thread(target=serve, daemon=True).start()
    guest, qemu_side = socket.socketpair()
    relay = Path(__file__).parents[2] / "linux_vm" / "relay.py"
    proc = subprocess.Popen(
        [sys.executable, str(relay), str(server.getsockname()[1])],
        stdin=qemu_side.fileno(),
        stdout=qemu_side.fileno(),
    )
    qemu_side.close()
    guest.sendall("ping 日本\n".encode())
    guest.shutdown(socket.SHUT_WR)
    reply = b""
    while chunk := guest.recv(100):
        reply += chunk
    assert reply == "PING 日本\n".encode()
    assert proc.wait(10) == 0
    server.close()


@pytest.mark.integration
@pytest.mark.skipif(not shutil.which(QEMU), reason="QEMU not installed")
def test_reaper_kills_labelled_qemu_whose_owner_died():
    """A labelled QEMU left behind by a process that died is found and killed."""
    run_id = uuid.uuid4().hex
    spawner = (
        "import subprocess, sys\n"
        "from hostproc.labels import owner_label\n"
        f"label = 'guest=' + owner_label('clawrig-vm', {run_id!r}) + ',process=x'\n"
        f"p = subprocess.Popen([{QEMU!r}, '-name', label, '-S', '-nodefaults', '-display',"
        " 'none', '-machine', 'none'], start_new_session=True,"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(p.pid, flush=True)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", spawner], capture_output=True, text=True, check=True
    )
    orphan = int(out.stdout.strip())
    try:
        deadline = time.monotonic() + 10
        while (
            orphan not in {q.pid for q in labelled_processes(LABEL)} and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        found = {q.pid: q for q in labelled_processes(LABEL)}
        assert orphan in found and found[orphan].run_id == run_id
        killed = reap_orphans()
        # Every episode on the machine reaps when it starts: another may have been first.
        assert orphan in killed or _gone(orphan)
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{orphan}") and time.monotonic() < deadline:
            time.sleep(0.05)
        stat = Path(f"/proc/{orphan}/stat")
        assert not stat.exists() or stat.read_text().split()[2] == "Z"
    finally:
        with contextlib_suppress():
            os.kill(orphan, 9)


def _gone(pid: int) -> bool:
    """No such process, or only its zombie (an empty command line) is left."""
    try:
        return not Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def test_reaper_spares_qemu_of_living_owners():
    mine = [q for q in labelled_processes(LABEL) if q.owner_pid == os.getpid()]
    killed = reap_orphans()
    assert not set(killed) & {q.pid for q in mine}
    assert LABEL == "clawrig-vm"


def contextlib_suppress():
    import contextlib

    return contextlib.suppress(ProcessLookupError)


def test_rig_key_is_parsed_once_and_a_protected_key_is_a_clear_error(tmp_path):
    import paramiko

    from linux_vm.ssh import SshSession, _load_key

    plain, locked = tmp_path / "plain", tmp_path / "locked"
    for path, passphrase in ((plain, ""), (locked, "secret")):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", passphrase, "-f", str(path)],
            check=True,
        )
    st = plain.stat()
    key = _load_key(str(plain), st.st_mtime_ns, st.st_size)
    assert isinstance(key, paramiko.RSAKey)
    assert _load_key(str(plain), st.st_mtime_ns, st.st_size) is key  # cached
    with pytest.raises(BootError, match=r"cannot load SSH key .*locked"):
        SshSession("127.0.0.1", 9, "user", locked, connect_timeout=1)


def test_prune_removes_old_recipes_and_orphaned_snapshots_only(tmp_path):
    from linux_vm.image import images_root, recipe_key
    from linux_vm.snapshot import snapshot_key, snapshots_root

    cache = tmp_path / "cache"
    current = images_root(cache) / f"bookworm-{recipe_key()}"
    old = images_root(cache) / "bookworm-0123456789abcdef"
    for path, build in ((current, "b-now"), (old, "b-old")):
        path.mkdir(parents=True)
        (path / "manifest.json").write_text(json.dumps({"build_id": build}))
        (path / "base.raw").write_bytes(b"\0" * 8192)
        Path(f"{path}.lock").touch()
    image = image_mod.Image("bookworm", recipe_key(), current)

    def snapshot(image_key: str, build: str, key: str) -> Path:
        path = snapshots_root(cache) / key
        path.mkdir(parents=True)
        meta = {"key": key, "image": image_key, "image_build": build}
        (path / "meta.json").write_text(
            json.dumps(meta | {"accel": "tcg", "memory_mb": 1024, "cpus": 1})
        )
        return path

    live = snapshot(recipe_key(), "b-now", snapshot_key(image, "tcg", 1024, 1))
    of_old = snapshot("0123456789abcdef", "b-old", "1111111111111111")
    of_rebuilt = snapshot(recipe_key(), "b-before", "2222222222222222")

    listed = {path for path, _size in stale_cache(cache)}
    assert listed == {old, of_old, of_rebuilt}
    assert old.exists()  # listing deletes nothing
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rig.cli",
            "--config",
            str(_config(tmp_path, cache)),
            "vm",
            "image",
            "prune",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("removed ") == 3 and "3 stale entries" in out.stderr
    assert current.exists() and live.exists()
    assert not old.exists() and not Path(f"{old}.lock").exists()
    assert not of_old.exists() and not of_rebuilt.exists()


def _config(tmp_path: Path, cache: Path) -> Path:
    path = tmp_path / "rig.toml"
    path.write_text(f'[paths]\ncache = "{cache}"\n')
    return path
