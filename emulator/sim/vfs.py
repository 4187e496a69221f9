"""The phone's filesystem: device paths kept inside one host directory.

Everything the phone stores lives under ``root`` so that a stopped phone
restarts with its data and a snapshot is a copy of one tree. Device paths are
normalised before they touch the host, so ``..`` and symlinks can never reach
outside ``root``; shared storage has the same three names as on Android.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

# Android's names for the primary shared storage, all one tree here.
SDCARD_ALIASES = ("/sdcard", "/storage/emulated/0", "/storage/self/primary", "/mnt/sdcard")

# Created on first use; what a fresh phone has and what apps and clients expect.
SKELETON = (
    "sdcard/Alarms",
    "sdcard/Android/data",
    "sdcard/Android/media",
    "sdcard/DCIM/Camera",
    "sdcard/Documents",
    "sdcard/Download",
    "sdcard/Movies",
    "sdcard/Music",
    "sdcard/Notifications",
    "sdcard/Pictures",
    "sdcard/Podcasts",
    "sdcard/Ringtones",
    "data/local/tmp",
    "data/data",
    "data/app",
    "data/system",
    "system/bin",
    "system/app",
    "system/priv-app",
    "system/etc",
    "system/framework",
    "vendor",
    "storage/emulated",
    "storage/self",
    "dev",
    "proc",
    "cache",
    "mnt",
    "product/app",
)


class FsError(OSError):
    """A device path the filesystem refuses (outside the root, wrong kind of file)."""


def normalize(device_path: str, cwd: str = "/") -> str:
    """An absolute, ``..``-free device path with shared-storage aliases folded to ``/sdcard``."""
    if not isinstance(device_path, str) or "\0" in device_path:
        raise FsError(f"invalid device path: {device_path!r}")
    joined = device_path if device_path.startswith("/") else posixpath.join(cwd, device_path)
    path = posixpath.normpath(joined)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    for alias in SDCARD_ALIASES[1:]:
        if path == alias or path.startswith(alias + "/"):
            return "/sdcard" + path[len(alias) :]
    return path


class LocalFS:
    """A :class:`~emulator.sim.contracts.VirtualFS` on a host directory."""

    def __init__(self, root: Path, clock: Any = None) -> None:
        self.root = Path(root)
        self.clock = clock
        self._real_root = ""
        self._lock = threading.Lock()
        self._fresh: list[Path] = []

    def attach_clock(self, clock: Any) -> None:
        """Use the phone's clock for the times of what the phone creates (once, at start)."""
        if self.clock is None:
            self.clock = clock
            for path in self._fresh:
                self._stamp(path)
            self._fresh.clear()

    def _stamp(self, host: Path) -> None:
        if self.clock is not None:
            t = self.clock.now_ms() / 1000
            try:
                os.utime(host, (t, t), follow_symlinks=False)
            except OSError:
                pass

    # -- the skeleton -------------------------------------------------------
    def _ensure(self) -> str:
        if self._real_root:
            return self._real_root
        with self._lock:
            if not self._real_root:
                self.root.mkdir(parents=True, exist_ok=True)
                for rel in SKELETON:
                    path = self.root / rel
                    if not path.exists():
                        path.mkdir(parents=True, exist_ok=True)
                        self._fresh.extend([path, path.parent])
                # Android's other names for shared storage, visible to `ls /storage`.
                for link, target in (
                    ("storage/emulated/0", "../../sdcard"),
                    ("storage/self/primary", "../../sdcard"),
                ):
                    p = self.root / link
                    if not p.is_symlink() and not p.exists():
                        p.symlink_to(target)
                        self._fresh.append(p)
                self._real_root = os.path.realpath(self.root)
                if self.clock is not None:
                    for path in self._fresh:
                        self._stamp(path)
                    self._fresh.clear()
        return self._real_root

    # -- paths --------------------------------------------------------------
    def host_path(self, device_path: str, follow: bool = True) -> Path:
        """The host path for a device path; raises :class:`FsError` if it would escape.

        With ``follow=False`` only the directories leading to the last component must
        stay inside (the last one may be a symlink to anywhere: it is not followed).
        """
        real_root = self._ensure()
        rel = normalize(device_path).lstrip("/")
        candidate = os.path.join(real_root, rel) if rel else real_root
        checked = candidate if follow or not rel else os.path.dirname(candidate)
        resolved = os.path.realpath(checked)
        if resolved != real_root and not resolved.startswith(real_root + os.sep):
            raise FsError(f"{device_path}: outside the phone's filesystem")
        return Path(candidate)

    def device_path(self, host: Path) -> str:
        """The device path of a host path under ``root`` (inverse of :meth:`host_path`)."""
        rel = os.path.relpath(os.path.realpath(host), self._ensure())
        if rel == "." or rel == "":
            return "/"
        if rel.startswith(".."):
            raise FsError(f"{host}: not inside the phone's filesystem")
        return "/" + rel.replace(os.sep, "/")

    # -- the VirtualFS contract --------------------------------------------
    def exists(self, device_path: str) -> bool:
        try:
            return self.host_path(device_path).exists()
        except FsError:
            return False

    def is_dir(self, device_path: str) -> bool:
        try:
            return self.host_path(device_path).is_dir()
        except FsError:
            return False

    def read_bytes(self, device_path: str) -> bytes:
        return self.host_path(device_path).read_bytes()

    def read_text(self, device_path: str) -> str:
        return self.read_bytes(device_path).decode("utf-8")

    def write_bytes(self, device_path: str, data: bytes, mode: int = 0o644) -> None:
        """Replace the file atomically (a crash leaves the old or the new file, never half)."""
        target = self.host_path(device_path)
        if target.is_dir():
            raise IsADirectoryError(f"{device_path}: Is a directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".vfs-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, mode & 0o7777)
            self._stamp(Path(tmp))
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def write_text(self, device_path: str, text: str, mode: int = 0o644) -> None:
        self.write_bytes(device_path, text.encode("utf-8"), mode)

    def append_bytes(self, device_path: str, data: bytes) -> None:
        target = self.host_path(device_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "ab") as fh:
            fh.write(data)

    def listdir(self, device_path: str) -> list[str]:
        return sorted(os.listdir(self.host_path(device_path)))

    def mkdir(self, device_path: str, parents: bool = True) -> None:
        target = self.host_path(device_path)
        existed = target.exists()
        if parents:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.mkdir()
        if not existed:
            self._stamp(target)

    def remove(self, device_path: str, recursive: bool = False) -> None:
        if normalize(device_path) in ("/", "/sdcard"):
            raise FsError(f"{device_path}: refusing to remove a filesystem root")
        target = self.host_path(device_path, follow=False)
        if target.is_symlink() or not target.is_dir():
            target.unlink()
        elif recursive:
            shutil.rmtree(target)
        else:
            target.rmdir()

    def rename(self, src: str, dst: str) -> None:
        os.replace(self.host_path(src), self.host_path(dst))

    def stat(self, device_path: str) -> os.stat_result:
        """``lstat``: a symlink is described, not followed."""
        return os.lstat(self.host_path(device_path, follow=False))
