"""The cached Debian base image: debootstrap once, boot many times from overlays.

An image lives in ``<cache>/linux/images/<name>-<key>/`` where ``key`` hashes
the recipe (its version, suite, package list and every file it writes into the
guest), so changing the recipe builds a new image instead of reusing a stale
one. Builders hold a per-image file lock, build in a private ``.build-*``
directory and publish with one ``rename``: a crashed or failed build leaves
nothing that looks like an image.

The guest boots a small busybox init (``/sbin/clawrig-init``) instead of
systemd: mounts, a static address on QEMU's user network, sshd, cron and a
login prompt on ``ttyS0``. That reaches SSH in a few seconds under TCG where
systemd needs over ten; systemd stays installed for tools that expect it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from linux_vm.errors import ImageBuildError, LinuxInputError
from linux_vm.helper import HELPER_PATH, HELPER_PORT, SERVER_SOURCE, TOKEN_PATH
from linux_vm.kernel import _INIT as INITRAMFS_INIT
from linux_vm.kernel import INITRAMFS_MODULES, build_initramfs, extract_vmlinux
from linux_vm.qemu import SERVICE_ADDR
from linux_vm.service_clients import SERVICE_HOSTS, SYNC_CRON

Progress = Callable[[str], None]

RECIPE_VERSION = 6  # bump when _build or _configure change what they write (6: matrix-commander)
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
IMAGE_SIZE_BYTES = 4 * 1024**3
GUEST_USER = "user"
# The user's login password, asked by ``sudo`` at a terminal (tasks tell the agent, as a
# person knows their own). Not a secret of the rig: SSH takes keys only.
GUEST_PASSWORD = "maple-Lantern-42"
KEY_FILE = "id_rsa"
HOSTNAME = "laptop"
GUEST_IP = "10.0.2.15"
GATEWAY_IP = "10.0.2.2"

PACKAGES = (
    "systemd",
    "openssh-server",
    "python3",
    "less",
    "gawk",
    "jq",
    "sqlite3",
    "curl",
    "git",
    "vim-tiny",
    "vim",
    "nano",
    "man-db",
    "mblaze",
    "msmtp",
    # The world's services with the tools people use (linux_vm/service_clients.py
    # writes their configuration at seed time): IMAP, SMTP, a local Maildir mirror,
    # CalDAV and CardDAV.
    "neomutt",
    "isync",
    "khal",
    "vdirsyncer",
    "khard",
    "python3-venv",  # the Matrix client's own venv (MATRIX_CLIENT below)
    "cron",
    "tzdata",
    "locales",
    "busybox-static",
    "linux-image-cloud-amd64",
    "procps",
    "iproute2",
    "sudo",
    "ca-certificates",
    "file",
)

# The chat client: matrix-commander (a real Matrix command-line client; Debian has none) in
# its own venv, every requirement pinned so the key names exactly what is installed. Its
# login (~/.config/matrix-commander/credentials.json) is written per world at seed time.
MATRIX_CLIENT_VENV = "/opt/matrix-commander"
MATRIX_CLIENT = (
    "matrix-commander==8.0.6",
    "matrix-nio==0.26.0",
    "vodozemac==0.10.0",
    "aiohttp==3.14.5",
    "aiohappyeyeballs==2.7.1",
    "aiosignal==1.4.0",
    "aiofiles==25.1.0",
    "aiohttp-socks==0.12.0",
    "python-socks==3.2.2",
    "async-timeout==5.0.1",
    "attrs==26.1.0",
    "frozenlist==1.8.0",
    "multidict==7.2.1",
    "propcache==0.5.4",
    "yarl==1.25.1",
    "idna==3.21",
    "h11==0.16.0",
    "h2==4.4.1",
    "hpack==4.2.0",
    "hyperframe==6.1.0",
    "jsonschema==4.26.0",
    "jsonschema-specifications==2025.9.1",
    "referencing==0.37.0",
    "rpds-py==2026.9.1",
    "typing-extensions==4.16.0",
    "unpaddedbase64==2.1.0",
    "pycryptodome==4.5.0",
    "cachetools==8.0.3",
    "peewee==3.19.0",
    "atomicwrites==1.4.1",
    "markdown==3.11.4",
    "emoji==2.16.0",
    "pillow==13.0.0",
    "python-magic==0.4.27",
    "pyxdg==0.28",
    "notify2==0.3.1",
    "argparse==1.4.0",
    "asyncio==4.0.0",
    "datetime==6.0",
    "pytz==2026.6",
    "zope-interface==8.7",
    "uuid==1.30",
)

_RC = f"""#!/bin/sh
# clawrig guest start-up: what systemd would do here, in a fraction of the time.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sys /sys 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts -o gid=5,mode=620,ptmxmode=666
mount -t tmpfs tmpfs /dev/shm -o mode=1777
mount -t tmpfs tmpfs /run -o mode=755,nosuid
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /run/sshd /run/lock
hostname -F /etc/hostname
modprobe virtio_net 2>/dev/null
ip link set lo up
ip link set eth0 up
ip addr add {GUEST_IP}/24 dev eth0
ip route add default via {GATEWAY_IP}
/usr/sbin/cron
# The rig's root helper (linux_vm/helper.py), on loopback, for the token's holder only.
setsid /usr/bin/python3 {HELPER_PATH} --listen {HELPER_PORT} {TOKEN_PATH} \
  </dev/null >/run/clawrig-helper.log 2>&1 &
echo clawrig-rc-done > /run/clawrig-ready
"""

# sshd is respawned by init: an agent with root (sudo) that kills it has not taken the
# machine away from the rig, which reconnects. -r: no re-exec of sshd per connection,
# which costs a whole program start under TCG.
_INITTAB = """::sysinit:/etc/clawrig/rc.sh
::respawn:/usr/sbin/sshd -D -r
::respawn:/sbin/agetty -L 115200 ttyS0 vt100
::ctrlaltdel:/bin/busybox poweroff -f
::shutdown:/bin/sync
"""

# What the agent runs as `mbsync` or `vdirsyncer` waits for the sync cron may be running
# (linux_vm/service_clients.py: same lock file), instead of failing on the tool's own lock
# or racing it. Cron calls the real programs by their full path.
_SYNC_WRAPPER = """#!/bin/sh
mkdir -p "$HOME/.cache"
exec flock -w 300 "$HOME/.cache/{name}.lock" /usr/bin/{name} "$@"
"""

_INIT = """#!/bin/sh
exec /bin/busybox init
"""

_SSHD = """UseDNS no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxSessions 100
MaxStartups 100:30:200
PrintMotd no
UsePAM no
"""

# sudo asks the user's password (as on a person's laptop: a terminal's prompt), except for
# the programs the rig itself runs as root with ``sudo -n`` (linux_vm/device.py, helper.py,
# snapshot.py, backends.py), which have no terminal to answer one.
_SUDOERS = f"""{GUEST_USER} ALL=(ALL:ALL) ALL
{GUEST_USER} ALL=(root) NOPASSWD: /usr/bin/bash, /usr/bin/python3, /usr/bin/tee, /usr/bin/date
"""

GUEST_FILES: dict[str, tuple[str, int]] = {
    "etc/clawrig/rc.sh": (_RC, 0o755),
    "etc/inittab": (_INITTAB, 0o644),
    "sbin/clawrig-init": (_INIT, 0o755),
    "etc/ssh/sshd_config.d/clawrig.conf": (_SSHD, 0o644),
    "etc/hostname": (HOSTNAME + "\n", 0o644),
    "etc/hosts": (
        f"127.0.0.1 localhost\n127.0.1.1 {HOSTNAME}\n{SERVICE_ADDR} {' '.join(SERVICE_HOSTS)}\n",
        0o644,
    ),
    "etc/cron.d/clawrig-sync": (SYNC_CRON, 0o644),
    "etc/fstab": ("/dev/vda / ext4 rw,noatime 0 1\n", 0o644),
    "etc/resolv.conf": ("nameserver 10.0.2.3\n", 0o644),
    "etc/sudoers.d/clawrig": (_SUDOERS, 0o440),
    "usr/local/bin/mbsync": (_SYNC_WRAPPER.format(name="mbsync"), 0o755),
    "usr/local/bin/vdirsyncer": (_SYNC_WRAPPER.format(name="vdirsyncer"), 0o755),
    "etc/profile.d/clawrig-editor.sh": ("export EDITOR=vim VISUAL=vim\n", 0o644),
    "etc/locale.gen": ("en_US.UTF-8 UTF-8\n", 0o644),
    "etc/default/locale": ("LANG=en_US.UTF-8\n", 0o644),
    "etc/timezone": ("Etc/UTC\n", 0o644),
    HELPER_PATH.lstrip("/"): (SERVER_SOURCE, 0o644),
}


def recipe_key() -> str:
    """Hash of everything that decides the image's contents."""
    recipe = {
        "version": RECIPE_VERSION,
        "suite": SUITE,
        "packages": PACKAGES,
        "pip": MATRIX_CLIENT,
        "files": GUEST_FILES,
        "initramfs": [INITRAMFS_INIT, INITRAMFS_MODULES],
        "size": IMAGE_SIZE_BYTES,
        "user": GUEST_USER,
        "password": GUEST_PASSWORD,
    }
    blob = json.dumps(recipe, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class Image:
    """A published base image; every path in it is read-only once built."""

    name: str
    key: str
    path: Path

    @property
    def base(self) -> Path:
        return self.path / "base.raw"

    @property
    def vmlinux(self) -> Path:
        return self.path / "vmlinux"

    @property
    def initrd(self) -> Path:
        return self.path / "initrd.img"

    @property
    def ssh_key(self) -> Path:
        return self.path / KEY_FILE

    @property
    def console_password(self) -> str:
        return (self.path / "console-password").read_text().strip()

    @property
    def helper_token(self) -> str:
        """What the resident root helper asks of a client (see linux_vm/helper.py)."""
        return (self.path / "helper-token").read_text().strip()

    @property
    def manifest(self) -> dict:
        return json.loads((self.path / "manifest.json").read_text())

    @property
    def build_id(self) -> str:
        """Unique per build: snapshots are valid only for these exact image bytes."""
        return str(self.manifest["build_id"])

    user: str = GUEST_USER


def images_root(cache: Path) -> Path:
    return Path(cache).expanduser() / "linux" / "images"


def _check_name(name: str) -> None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", name):
        raise LinuxInputError(
            f"image name {name!r}: use lowercase letters, digits, '.', '_' or '-' (max 64)"
        )


def find_image(cache: Path, name: str = SUITE) -> Image | None:
    """The published image for the current recipe, or None when it is not built."""
    _check_name(name)
    key = recipe_key()
    path = images_root(cache) / f"{name}-{key}"
    if (path / "manifest.json").is_file():
        return Image(name, key, path)
    return None


def apt_mirror(sources: Path = Path("/etc/apt")) -> str:
    """The Debian mirror this machine's apt uses (its reachable route to packages)."""
    files = [*sorted(sources.glob("sources.list.d/*")), sources / "sources.list"]
    for f in files:
        try:
            text = f.read_text()
        except OSError:
            continue
        uris = re.findall(r"^URIs:\s*(\S+)", text, re.M) + re.findall(
            r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+\S+", text, re.M
        )
        for uri in uris:
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    return DEFAULT_MIRROR


BUILD_STEPS = 4  # debootstrap, configure, kernel + initramfs, filesystem


def build_image(
    cache: Path,
    name: str = SUITE,
    *,
    mirror: str | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> Image:
    """Build the base image unless it is already published; safe to call concurrently."""
    _check_name(name)
    say = progress or (lambda _msg: None)
    root = images_root(cache)
    root.mkdir(parents=True, exist_ok=True)
    key = recipe_key()
    final = root / f"{name}-{key}"
    with FileLock(str(root / f"{name}-{key}.lock")):
        if (final / "manifest.json").is_file() and not force:
            return Image(name, key, final)
        for stale in root.glob(f".build-{name}-{key}-*"):
            say(f"removing the leftovers of an interrupted build: {stale.name}")
            remove_tree(stale)
        work = root / f".build-{name}-{key}-{os.getpid()}"
        work.mkdir()
        try:
            _build(work, mirror or apt_mirror(), say)
            if final.exists():
                remove_tree(final)
            os.rename(work, final)
        except BaseException as exc:
            remove_tree(work)
            if isinstance(exc, ImageBuildError | KeyboardInterrupt):
                raise
            raise ImageBuildError(f"building image {name!r} failed: {exc}") from exc
    say(f"[{BUILD_STEPS}/{BUILD_STEPS}] image ready: {final}")
    return Image(name, key, final)


def _run(cmd: list[str], say: Progress, what: str, timeout: float = 1800) -> None:
    """Run a build step, streaming its lines to ``say``; the error keeps the output's tail."""
    tail: list[str] = []
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"},
    )
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        tail = [*tail[-40:], line]
        if line:
            say(f"{what}: {line}")
        if time.monotonic() > deadline:
            proc.kill()
    if proc.wait() != 0:
        raise ImageBuildError(f"{what} failed (exit {proc.returncode})", log_tail="\n".join(tail))


def _build(work: Path, mirror: str, say: Progress) -> None:
    rootfs = work / "rootfs"
    if shutil.which("debootstrap") is None:
        raise ImageBuildError("debootstrap is not installed (scripts/setup.sh installs it)")
    if os.geteuid() != 0:
        raise ImageBuildError("building the image needs root (debootstrap, chroot)")
    started = time.monotonic()
    # "[i/n] what": i of the n build steps done, ``what`` now (the CLI draws a bar from it).
    say(f"[0/{BUILD_STEPS}] debootstrap {SUITE} from {mirror} ({len(PACKAGES)} extra packages)")
    _run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(rootfs),
            mirror,
        ],
        say,
        "debootstrap",
    )
    say(f"[1/{BUILD_STEPS}] configuring the guest")
    _configure(rootfs, work, say)
    say(f"[2/{BUILD_STEPS}] extracting the kernel and writing the initramfs")
    vmlinuz = sorted((rootfs / "boot").glob("vmlinuz-*"))
    if not vmlinuz:
        raise ImageBuildError("no kernel in /boot after debootstrap")
    kver = vmlinuz[-1].name.removeprefix("vmlinuz-")
    (work / "vmlinux").write_bytes(extract_vmlinux(vmlinuz[-1].read_bytes()))
    build_initramfs(rootfs, kver, work / "initrd.img")
    for initrd in (rootfs / "boot").glob("initrd.img-*"):
        initrd.unlink()
    say(f"[3/{BUILD_STEPS}] writing the ext4 filesystem")
    base = work / "base.raw"
    with open(base, "wb") as f:
        f.truncate(IMAGE_SIZE_BYTES)
    _run(
        ["mkfs.ext4", "-q", "-F", "-L", "clawrig-root", "-d", str(rootfs), str(base)],
        say,
        "mkfs.ext4",
    )
    remove_tree(rootfs)
    os.chmod(base, 0o444)
    manifest = {
        "recipe_version": RECIPE_VERSION,
        "key": recipe_key(),
        "build_id": uuid.uuid4().hex,
        "suite": SUITE,
        "mirror": mirror,
        "kernel": kver,
        "packages": list(PACKAGES),
        "user": GUEST_USER,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.monotonic() - started, 1),
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _configure(rootfs: Path, work: Path, say: Progress) -> None:
    for rel, (text, mode) in GUEST_FILES.items():
        target = rootfs / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_text(text)
        os.chmod(target, mode)
    localtime = rootfs / "etc" / "localtime"
    if localtime.exists() or localtime.is_symlink():
        localtime.unlink()
    localtime.symlink_to("/usr/share/zoneinfo/Etc/UTC")

    public = _write_keypair(work / KEY_FILE)
    password = secrets.token_urlsafe(12)
    (work / "console-password").write_text(password + "\n")
    os.chmod(work / "console-password", 0o600)
    token = secrets.token_urlsafe(24) + "\n"
    for target in (work / "helper-token", rootfs / TOKEN_PATH.lstrip("/")):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(token)
        os.chmod(target, 0o600)

    chroot = ["chroot", str(rootfs)]
    # A real password (never locked, "!", which sshd refuses without PAM); SSH still takes
    # keys only. PAM is off in sshd: its session stack (motd scripts …) cost seconds per
    # connection under TCG. The password is what sudo asks at the agent's terminal.
    _run(
        [*chroot, "useradd", "-m", "-s", "/bin/bash", "-G", "sudo", "-p", "*", GUEST_USER],
        say,
        "useradd",
    )
    proc = subprocess.run(
        [*chroot, "chpasswd"],
        input=f"root:{password}\n{GUEST_USER}:{GUEST_PASSWORD}\n",
        text=True,
        capture_output=True,
    )
    if proc.returncode != 0:
        raise ImageBuildError("chpasswd failed", log_tail=proc.stderr)
    _run([*chroot, "locale-gen"], say, "locale-gen")
    _install_matrix_client(rootfs, say)
    _install_settime(rootfs)
    for home, uid in (("root", 0), (f"home/{GUEST_USER}", 1000)):
        ssh_dir = rootfs / home / ".ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        (ssh_dir / "authorized_keys").write_text(public + "\n")
        os.chmod(ssh_dir / "authorized_keys", 0o600)
        os.chown(ssh_dir, uid, uid)
        os.chown(ssh_dir / "authorized_keys", uid, uid)
    # Space the guest does not need.
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (rootfs / junk).glob("*"):
            if entry.is_file():
                entry.unlink()


def _install_matrix_client(rootfs: Path, say: Progress) -> None:
    """matrix-commander into its own venv from PyPI, run inside the chroot (the guest's own
    Python and pip), with the host's resolver and CA bundle for the download only (a TLS
    proxy's CA is in the host's bundle, not in the guest's)."""
    resolv = rootfs / "etc" / "resolv.conf"
    guest_resolv = resolv.read_text()
    ca = next(
        (
            Path(v)
            for v in (
                os.environ.get("PIP_CERT"),
                os.environ.get("SSL_CERT_FILE"),
                os.environ.get("REQUESTS_CA_BUNDLE"),
                "/etc/ssl/certs/ca-certificates.crt",
            )
            if v and Path(v).is_file()
        ),
        None,
    )
    host_ca = rootfs / "tmp" / "clawrig-host-ca.pem"
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LC_ALL": "C",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_DEFAULT_TIMEOUT": "60",
        **{
            k: v
            for k, v in os.environ.items()
            if k.lower() in ("http_proxy", "https_proxy", "no_proxy")
            or (k == "PIP_INDEX_URL" and not v.startswith("file:"))
        },
    }
    if ca is not None:
        shutil.copyfile(ca, host_ca)
        env["PIP_CERT"] = "/tmp/clawrig-host-ca.pem"
    shutil.copyfile("/etc/resolv.conf", resolv)
    venv = MATRIX_CLIENT_VENV
    try:
        for what, cmd in (
            ("venv", ["python3", "-m", "venv", venv]),
            ("pip", [f"{venv}/bin/pip", "install", "--no-cache-dir", *MATRIX_CLIENT]),
        ):
            _run(["chroot", str(rootfs), "env", "-i", *_env_args(env), *cmd], say, what)
    finally:
        resolv.write_text(guest_resolv)
        host_ca.unlink(missing_ok=True)
    link = rootfs / "usr" / "local" / "bin" / "matrix-commander"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(f"{venv}/bin/matrix-commander")


def _env_args(env: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in env.items()]


SETTIME = "/usr/local/sbin/clawrig-settime"
_CAP_SYS_TIME = 25


def _install_settime(rootfs: Path) -> None:
    """A copy of ``date`` holding only CAP_SYS_TIME, for the rig's user (group ``sudo``).

    Restores set the clock on every episode; ``sudo`` alone costs over a second under
    TCG. The user can already become root, so this grants nothing new.
    """
    import struct

    target = rootfs / SETTIME.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(rootfs / "usr" / "bin" / "date", target)
    sudo_gid = next(
        int(line.split(":")[2])
        for line in (rootfs / "etc" / "group").read_text().splitlines()
        if line.startswith("sudo:")
    )
    os.chown(target, 0, sudo_gid)
    os.chmod(target, 0o750)
    # struct vfs_cap_data, revision 2, effective: permitted = {CAP_SYS_TIME}.
    cap = struct.pack("<IIIII", 0x02000001, 1 << _CAP_SYS_TIME, 0, 0, 0)
    os.setxattr(target, "security.capability", cap)


def _write_keypair(path: Path) -> str:
    """Generate the rig's RSA key (OpenSSH format) and return the public line.

    RSA, not ed25519: the guest's sshd verifies the login signature with OpenSSL,
    where an RSA check costs a few multiplications; OpenSSH's own ed25519 code
    takes ~100 ms of every login under TCG (measured, see bench_vm).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(private)
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    line = public.decode() + " clawrig"
    path.with_suffix(".pub").write_text(line + "\n")
    return line


def remove_tree(path: Path) -> None:
    """Delete a build directory, first detaching anything a chroot step left mounted in it.

    Never follows a mount point: a leftover bind mount of ``/dev`` or ``/proc``
    inside the tree must be unmounted, not emptied.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    real = os.path.realpath(path)
    mounts = []
    try:
        with open("/proc/mounts") as f:
            for line in f:
                point = line.split()[1].encode().decode("unicode_escape")
                if point == real or point.startswith(real + "/"):
                    mounts.append(point)
    except OSError:
        pass
    for point in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:
            if os.path.ismount(os.path.join(dirpath, d)):
                raise ImageBuildError(f"refusing to delete {path}: {d} is still a mount point")
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():
        subprocess.run(["rm", "-rf", "--one-file-system", str(path)], capture_output=True)
