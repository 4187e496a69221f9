"""A checkpoint's saved files are hashed once per process while they stay untouched."""

from __future__ import annotations

import hashlib
import os
import time

from rig import checkpoint as ckpt


def test_an_untouched_file_is_not_read_again_and_any_change_is_seen(tmp_path, monkeypatch):
    folder = tmp_path / "laptop"
    folder.mkdir()
    state = folder / "state.bin"
    state.write_bytes(b"ram " * 1000)
    reads = []
    real = hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda f, d: reads.append(f.name) or real(f, d))
    first = ckpt._file_hashes(folder)
    assert first == {"state.bin": hashlib.sha256(b"ram " * 1000).hexdigest()}
    # Just written: a change in the same tick of the file clock could keep its ctime, so
    # the hash is not kept yet; once the file has settled, it is.
    assert ckpt._file_hashes(folder) == first and len(reads) == 2
    monkeypatch.setattr(ckpt, "_SETTLED_NS", 0)
    time.sleep(0.05)  # past the file clock's tick
    ckpt._file_hashes(folder)
    reads.clear()
    assert ckpt._file_hashes(folder) == first and reads == []

    # Same size, same mtime put back: the write still moved ctime, so it is read again.
    st = state.stat()
    state.write_bytes(b"RAM " + b"ram " * 999)
    os.utime(state, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert ckpt._file_hashes(folder) != first and reads == [str(state)]
    # A file put in its place (another inode) is read too.
    (folder / "new").write_bytes(b"ram " * 1000)
    os.replace(folder / "new", state)
    time.sleep(0.05)
    assert ckpt._file_hashes(folder) == first and len(reads) == 2
