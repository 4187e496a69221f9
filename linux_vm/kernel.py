"""The guest kernel as QEMU boots it fastest: an uncompressed ``vmlinux`` plus a tiny initramfs.

Under TCG, decompressing a bzImage costs seconds of emulated CPU, so the ELF
inside Debian's ``vmlinuz`` is extracted once at build time and booted through
PVH. Debian's kernels keep ``virtio_blk`` as a module, so a small busybox
initramfs loads it and switches to the real root; Debian's own initrd (udev,
scripts) is far slower to get there.
"""

from __future__ import annotations

import gzip
import lzma
import os
import shutil
import stat
import subprocess
import zlib
from pathlib import Path

from linux_vm.errors import ImageBuildError

# Modules the initramfs loads, in this order (dependencies first); names not
# present as modules are assumed built in.
INITRAMFS_MODULES = (
    "virtio",
    "virtio_ring",
    "virtio_pci_legacy_dev",
    "virtio_pci_modern_dev",
    "virtio_pci",
    "virtio_blk",
    "crc32c_generic",
    "crc16",
    "mbcache",
    "jbd2",
    "ext4",
)

_XZ_MAGIC = b"\xfd7zXZ\x00"
_LZ4_LEGACY_MAGIC = b"\x02\x21\x4c\x18"
_GZIP_MAGIC = b"\x1f\x8b\x08"
_ELF_MAGIC = b"\x7fELF"


def extract_vmlinux(vmlinuz: bytes) -> bytes:
    """The ELF kernel inside a compressed ``vmlinuz`` (XZ, LZ4 legacy frames or gzip)."""
    openers = ((_XZ_MAGIC, _unxz), (_LZ4_LEGACY_MAGIC, _unlz4), (_GZIP_MAGIC, _gunzip))
    for magic, opener in openers:
        start = vmlinuz.find(magic)
        while start != -1:
            try:
                data = opener(vmlinuz[start:])
            except (lzma.LZMAError, zlib.error, OSError, EOFError):
                data = b""
            if data.startswith(_ELF_MAGIC):
                return data
            start = vmlinuz.find(magic, start + 1)
    raise ImageBuildError("no XZ- or gzip-compressed ELF kernel found inside vmlinuz")


def _unxz(blob: bytes) -> bytes:
    # The payload is followed by other data; the decompressor stops at the stream's end.
    return lzma.LZMADecompressor().decompress(blob)


def _unlz4(blob: bytes) -> bytes:
    # The kernel appends its size after the last LZ4 block, which the lz4 tool then
    # reports as a bad block: the output before it is complete, so the status is ignored.
    if shutil.which("lz4") is None:
        raise ImageBuildError("the kernel is LZ4-compressed and `lz4` is not installed")
    proc = subprocess.run(["lz4", "-dc"], input=blob, capture_output=True)
    return proc.stdout


def _gunzip(blob: bytes) -> bytes:
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(blob)


def module_paths(rootfs: Path, kver: str, names: tuple[str, ...]) -> list[Path]:
    """Absolute paths of the named modules (those that exist as modules), in load order."""
    base = rootfs / "lib" / "modules" / kver
    dep_file = base / "modules.dep"
    if not dep_file.is_file():
        raise ImageBuildError(f"{dep_file} is missing: the kernel package did not install")
    by_name: dict[str, str] = {}
    deps: dict[str, list[str]] = {}
    for line in dep_file.read_text().splitlines():
        path, _, rest = line.partition(":")
        name = Path(path).name.split(".ko")[0].replace("-", "_")
        by_name[name] = path
        deps[path] = rest.split()
    ordered: list[str] = []

    def visit(path: str) -> None:
        if path in ordered:
            return
        # modules.dep lists dependencies so that the last one must load first.
        for dep in reversed(deps.get(path, [])):
            visit(dep)
        ordered.append(path)

    for name in names:
        if name in by_name:
            visit(by_name[name])
    return [base / p for p in ordered]


def _read_module(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        return lzma.decompress(data)
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    if path.name.endswith(".zst"):
        raise ImageBuildError(f"{path}: zstd-compressed modules are not supported")
    return data


_INIT = """#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
for m in $(/bin/busybox cat /modules.order); do /bin/busybox insmod /lib/$m 2>/dev/null; done
if [ -n "$CLAWRIG_PROBE" ]; then
  echo "CLAWRIG-PROBE-USERSPACE" > /dev/ttyS0
  /bin/busybox poweroff -f
fi
i=0
while [ ! -b /dev/vda ] && [ $i -lt 500 ]; do /bin/busybox usleep 10000; i=$((i+1)); done
/bin/busybox mkdir -p /newroot
/bin/busybox mount -t ext4 -o rw,noatime /dev/vda /newroot || {
  echo "clawrig initramfs: cannot mount /dev/vda" > /dev/ttyS0; /bin/busybox poweroff -f; }
/bin/busybox umount /proc /sys
/bin/busybox mount --move /dev /newroot/dev
exec /bin/busybox switch_root /newroot /sbin/clawrig-init
"""


def build_initramfs(rootfs: Path, kver: str, out: Path) -> None:
    """Write a newc cpio initramfs: static busybox, the block/ext4 modules, and /init."""
    busybox = rootfs / "bin" / "busybox"
    if not busybox.is_file():
        raise ImageBuildError(f"{busybox} is missing (the image needs busybox-static)")
    modules = module_paths(rootfs, kver, INITRAMFS_MODULES)
    writer = _Cpio()
    for d in ("bin", "dev", "proc", "sys", "lib", "newroot"):
        writer.add_dir(d)
    writer.add_char_device("dev/console", 5, 1)
    writer.add_file("bin/busybox", busybox.read_bytes(), 0o755)
    writer.add_file("init", _INIT.encode(), 0o755)
    names = []
    for path in modules:
        name = path.name.removesuffix(".xz").removesuffix(".gz")
        writer.add_file(f"lib/{name}", _read_module(path), 0o644)
        names.append(name)
    writer.add_file("modules.order", ("\n".join(names) + "\n").encode(), 0o644)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(writer.finish())
    os.replace(tmp, out)


class _Cpio:
    """A minimal "newc" (SVR4, no CRC) archive writer, the format the kernel unpacks."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._ino = 1

    def _entry(self, name: str, mode: int, data: bytes, rdev: tuple[int, int] = (0, 0)) -> None:
        encoded = name.encode() + b"\x00"
        fields = [self._ino, mode, 0, 0, 1, 0, len(data), 0, 0, *rdev, len(encoded), 0]
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        self._ino += 1
        blob = header + encoded
        blob += b"\x00" * (-len(blob) % 4)
        blob += data + b"\x00" * (-len(data) % 4)
        self._parts.append(blob)

    def add_dir(self, name: str) -> None:
        self._entry(name, stat.S_IFDIR | 0o755, b"")

    def add_char_device(self, name: str, major: int, minor: int) -> None:
        self._entry(name, stat.S_IFCHR | 0o600, b"", (major, minor))

    def add_file(self, name: str, data: bytes, perm: int) -> None:
        self._entry(name, stat.S_IFREG | perm, data)

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0, b"")
        out = b"".join(self._parts)
        return out + b"\x00" * (-len(out) % 512)
