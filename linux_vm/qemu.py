"""Launching QEMU: command line, QMP control, runtime folders and their cleanup.

Every QEMU the rig starts carries ``-name guest=clawrig-vm:<run>:<owner pid>:<owner start>``
in its command line (a :mod:`hostproc.labels` label) and writes a ``-pidfile``. It is
started with ``PR_SET_PDEATHSIG`` so it dies with its parent where the kernel allows it;
when that is not enough (a parent killed between fork and exec, a VM started
from a worker thread), :func:`reap_orphans` has the one reaper (:mod:`hostproc.reaper`)
stop labelled QEMUs whose owner is gone, and removes their runtime folders.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hostproc.labels import PREFIXES, labelled_processes, owner_alive, owner_label
from hostproc.parent import die_with_parent
from hostproc.ports import free_port
from hostproc.reaper import reap_orphans as reap
from linux_vm.errors import BootError, DeviceLost, LinuxInputError, VMError
from linux_vm.service_clients import GUEST_PORTS, MAP_FILE

LABEL = PREFIXES["vm"]
OWNER_FILE = "owner"
QEMU = "qemu-system-x86_64"
# The guest reaches the world's services here (QEMU reserves 10.0.2.2 for the host alias,
# which restrict=on closes).
SERVICE_ADDR = "10.0.2.100"
KERNEL_CMDLINE = "console=ttyS0 root=/dev/vda rw quiet loglevel=3 panic=-1 tsc=reliable"
_RELAY = Path(__file__).with_name("relay.py")


def reap_orphans(grace_s: float = 120.0) -> list[int]:
    """Stop labelled QEMUs whose owning process is gone (:mod:`hostproc.reaper`); returns
    their pids.

    Also removes what crashed runs left in the temp dir: socket dirs of runs with no
    QEMU left, and throwaway VM dirs (with an ``owner`` file) whose owner is dead,
    once they are ``grace_s`` old (so a run that is just starting is never touched).
    """
    orphans = [q for q in labelled_processes(LABEL) if not q.owner_alive()]
    killed = reap(["vm"])
    live_runs = {q.run_id[:12] for q in labelled_processes(LABEL)}
    for q in orphans:
        shutil.rmtree(runtime_dir(q.run_id), ignore_errors=True)
    now = time.time()
    tmp = Path(tempfile.gettempdir())
    for path in [*tmp.glob(f"{RUNTIME_PREFIX}*"), *tmp.glob("clawrig-vm-*")]:
        try:
            if now - path.stat().st_mtime < grace_s:
                continue
        except OSError:
            continue
        if path.name.startswith(RUNTIME_PREFIX):
            if path.name.removeprefix(RUNTIME_PREFIX) not in live_runs:
                shutil.rmtree(path, ignore_errors=True)
        elif (path / OWNER_FILE).is_file() and not owner_alive(path / OWNER_FILE):
            shutil.rmtree(path, ignore_errors=True)
    return killed


RUNTIME_PREFIX = "clawrig-qemu-"


def runtime_dir(run_id: str) -> Path:
    """Where a VM's QMP and serial sockets live (short: Unix socket paths max 108 bytes)."""
    return Path(tempfile.gettempdir()) / f"{RUNTIME_PREFIX}{run_id[:12]}"


class QMP:
    """A synchronous QMP client: one command at a time (a lock: a teardown's ``quit`` may
    meet a late live delivery's ``query-status``), events kept aside."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._sock.connect(str(path))
        self._buf = b""
        self.events: list[dict[str, Any]] = []
        greeting = self._read()
        if "QMP" not in greeting:
            raise VMError(f"unexpected QMP greeting: {greeting}")
        self.execute("qmp_capabilities")

    def _read(self) -> dict[str, Any]:
        while b"\n" not in self._buf:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise DeviceLost("QMP socket closed (QEMU exited)")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return json.loads(line)

    def execute(self, command: str, **arguments: Any) -> Any:
        msg: dict[str, Any] = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        try:
            with self._lock:
                return self._exchange(command, msg)
        except (OSError, json.JSONDecodeError) as exc:
            raise DeviceLost(f"QMP {command} failed: {exc}") from exc

    def _exchange(self, command: str, msg: dict[str, Any]) -> Any:
        self._sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise VMError(f"QMP {command}: {reply['error'].get('desc', reply['error'])}")
            return reply.get("return")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()


@dataclass
class VMSpec:
    """What to boot. ``forwards`` maps a guest port on SERVICE_ADDR to a host loopback port."""

    vmlinux: Path
    initrd: Path
    disk: Path
    workdir: Path
    memory_mb: int = 1024
    cpus: int = 1
    accel: str = "tcg"
    forwards: Mapping[int, int] = field(default_factory=dict)
    # Guest ports on SERVICE_ADDR whose host port is looked up per connection in
    # ``service_map`` (see linux_vm/service_clients.py): the world's services.
    service_ports: tuple[int, ...] = tuple(GUEST_PORTS.values())
    service_map: Path | None = None  # default: WORKDIR/services.json
    incoming: Path | None = None
    # Guest RAM in a file: ``shared`` writes it through (the VM a snapshot is saved
    # from); otherwise the file is mapped copy-on-write, so restored VMs start with its
    # contents without loading them and share its unwritten pages in the host's cache.
    memory_file: Path | None = None
    memory_shared: bool = False
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    extra_append: str = ""


class QemuProcess:
    """One running QEMU. ``ssh_port`` is its loopback SSH forward."""

    def __init__(self, spec: VMSpec) -> None:
        self.spec = spec
        self.workdir = Path(spec.workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Unix socket paths are limited to 108 bytes: keep them short, outside workdir.
        self.runtime = runtime_dir(spec.run_id)
        self.runtime.mkdir(mode=0o700, exist_ok=True)
        self.qmp_path = self.runtime / "qmp.sock"
        self.serial_path = self.runtime / "serial.sock"
        self.console_log = self.workdir / "console.log"
        self.qemu_log = self.workdir / "qemu.log"
        self.pidfile = self.workdir / "qemu.pid"
        self.ssh_port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._qmp: QMP | None = None
        self._guest_lock = threading.Lock()
        self._guest_ended: str | None = None
        self.paused = False  # by :meth:`pause` (a stepped world between two steps)

    def command(self, ssh_port: int) -> list[str]:
        """The QEMU command line. Disks use ``cache=unsafe``: every overlay is thrown away
        with its VM, so guest flushes need not reach the host disk."""
        s = self.spec
        if s.accel == "kvm":
            accel = ["-accel", "kvm", "-cpu", "host"]
        elif s.accel == "tcg":
            accel = ["-accel", "tcg,tb-size=64"]
        else:
            raise LinuxInputError(f"accel {s.accel!r}: expected 'kvm' or 'tcg'")
        net = f"user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{ssh_port}-:22"
        for guest_port, host_port in sorted(s.forwards.items()):
            relay = f"{sys.executable} {_RELAY} {int(host_port)}".replace(",", ",,")
            net += f",guestfwd=tcp:{SERVICE_ADDR}:{int(guest_port)}-cmd:{relay}"
        mapping = shlex.quote(str(s.service_map or self.workdir / MAP_FILE))
        for guest_port in sorted(set(s.service_ports) - set(s.forwards)):
            relay = f"{sys.executable} {_RELAY} --map {mapping} {int(guest_port)}"
            net += f",guestfwd=tcp:{SERVICE_ADDR}:{int(guest_port)}-cmd:{relay.replace(',', ',,')}"
        append = KERNEL_CMDLINE + (" " + s.extra_append if s.extra_append else "")
        machine = "q35"
        memory: list[str] = []
        if s.memory_file is not None:
            machine += ",memory-backend=ram0"
            share = "on" if s.memory_shared else "off"
            memory = [
                "-object",
                f"memory-backend-file,id=ram0,size={s.memory_mb}M,"
                f"mem-path={_escape(s.memory_file)},share={share}",
            ]
        cmd = [
            QEMU,
            "-name",
            f"guest={owner_label(LABEL, s.run_id)},process=clawrig-vm",
            "-machine",
            machine,
            *memory,
            *accel,
            "-m",
            str(s.memory_mb),
            "-smp",
            str(s.cpus),
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-no-reboot",
            "-kernel",
            str(s.vmlinux),
            "-initrd",
            str(s.initrd),
            "-append",
            append,
            "-drive",
            f"file={_escape(s.disk)},if=none,id=d0,format=qcow2,cache=unsafe",
            "-device",
            "virtio-blk-pci,drive=d0",
            "-netdev",
            net,
            "-device",
            "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56",
            "-chardev",
            f"socket,id=ser0,path={self.serial_path},server=on,wait=off,"
            f"logfile={_escape(self.console_log)},logappend=on",
            "-serial",
            "chardev:ser0",
            "-qmp",
            f"unix:{self.qmp_path},server=on,wait=off",
            "-pidfile",
            str(self.pidfile),
        ]
        if s.incoming is not None:
            # Loaded once QMP is up (see _begin_incoming): migration capabilities have no
            # command-line form in QEMU 7.2.
            cmd += ["-incoming", "defer"]
        return cmd

    def ignore_shared_memory(self) -> None:
        """Leave RAM in a file out of the migration stream (both ends must agree)."""
        self.qmp.execute(
            "migrate-set-capabilities",
            capabilities=[{"capability": "x-ignore-shared", "state": True}],
        )

    def _begin_incoming(self) -> None:
        s = self.spec
        if s.incoming is None:
            return
        if s.memory_file is not None:
            self.ignore_shared_memory()  # the stream carries no RAM: the file has it
        self.qmp.execute("migrate-incoming", uri=f"exec:cat {shlex.quote(str(s.incoming))}")

    def start(self) -> None:
        """Launch QEMU and connect QMP; retries when the chosen SSH port was taken meanwhile."""
        if shutil.which(QEMU) is None:
            raise BootError(f"{QEMU} is not installed (scripts/setup.sh installs qemu-system-x86)")
        try:
            self._start()
        except BaseException:
            self.kill()  # no QEMU and no socket dir outlive a start that failed
            raise

    def _start(self) -> None:
        last = ""
        for _attempt in range(4):
            self.ssh_port = free_port()
            self.runtime.mkdir(mode=0o700, exist_ok=True)
            for p in (self.qmp_path, self.serial_path):
                p.unlink(missing_ok=True)
            main = threading.current_thread() is threading.main_thread()
            with open(self.qemu_log, "ab") as log:
                self.proc = subprocess.Popen(
                    self.command(self.ssh_port),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                    preexec_fn=die_with_parent() if main else None,
                )
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if self.qmp_path.exists():
                    try:
                        self._qmp = QMP(self.qmp_path)
                    except (OSError, VMError):
                        # Not listening yet, or QEMU died right after opening the
                        # socket (e.g. it could not allocate guest memory).
                        if self.proc.poll() is not None:
                            break
                        time.sleep(0.02)
                        continue
                    self._begin_incoming()
                    return
                time.sleep(0.005)  # QEMU is up in ~50 ms: poll finely
            last = self.log_tail()
            why = self.exit_description()
            self.kill()
            if "Could not set up host forwarding rule" not in last:
                break
        raise BootError(f"QEMU did not start ({why}): {_last_line(last)}", log_tail=last)

    @property
    def qmp(self) -> QMP:
        if self._qmp is None:
            raise DeviceLost("QEMU is not running")
        return self._qmp

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exit_description(self) -> str:
        if self.proc is None:
            return "QEMU was never started"
        try:
            # A dropped connection usually means QEMU is dying: give it a moment to be reaped.
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            return "QEMU is still running"
        if code < 0:
            return f"QEMU was killed by signal {-code}"
        return f"QEMU exited with status {code}"

    def log_tail(self, lines: int = 30) -> str:
        out = []
        for path in (self.qemu_log, self.console_log):
            try:
                text = path.read_bytes()[-8000:].decode(errors="replace")
            except OSError:
                continue
            if text.strip():
                out.append(f"[{path.name}]\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(out)

    def wait_status(self, want: set[str], timeout: float, poll: float = 0.02) -> str:
        """Poll ``query-status`` until one of ``want`` (used while an incoming migration loads)."""
        deadline = time.monotonic() + timeout
        status = ""
        while time.monotonic() < deadline:
            if not self.alive():
                raise BootError(f"{self.exit_description()}", log_tail=self.log_tail())
            status = self.qmp.execute("query-status")["status"]
            if status in want:
                return status
            time.sleep(poll)
        raise BootError(f"QEMU stayed in status {status!r}", log_tail=self.log_tail())

    def hold_on_guest_shutdown(self) -> None:
        """From now on a guest that powers off or reboots (a panic reboots) is paused, not
        ended: QEMU exits with status 0 on a host SIGTERM too, so only a QEMU still there
        can tell what the guest did to itself (:meth:`guest_shut_down`)."""
        self.qmp.execute("set-action", shutdown="pause", reboot="shutdown")

    def guest_shut_down(self) -> str | None:
        """The reason QEMU gave if the guest ended itself (``guest-shutdown``,
        ``guest-reset``, ``guest-panic``), else None."""
        with self._guest_lock:  # asked from the threads that drive the guest
            if self._guest_ended is not None or not self.alive() or self._qmp is None:
                return self._guest_ended
            try:
                status = self._qmp.execute("query-status")["status"]
            except VMError:
                return None
            for event in reversed(self._qmp.events):
                data = event.get("data") or {}
                if event.get("event") == "SHUTDOWN" and data.get("guest"):
                    self._guest_ended = str(data.get("reason") or "guest-shutdown")
                    break
            else:
                if status == "shutdown":
                    self._guest_ended = "guest-shutdown"
            return self._guest_ended

    def pause(self) -> None:
        """Stop the guest's CPUs (QMP ``stop``). Its clocks stand with them: under TCG and
        KVM the guest's TSC and timers count only while the VM runs, so ``date`` in the
        guest reads, after :meth:`resume`, what it read before. Connections stay open:
        QEMU's user network holds their packets until the guest takes them again."""
        if not self.paused:
            self.qmp.execute("stop")
            self.paused = True

    def resume(self) -> None:
        """Undo :meth:`pause` (QMP ``cont``); nothing when this process did not pause it."""
        if self.paused:
            self.qmp.execute("cont")
            self.paused = False

    def stop(self, timeout: float = 5.0) -> None:
        """Ask QEMU to quit (it flushes the disk), then terminate, then kill. Never raises."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(VMError, OSError):
                self.qmp.execute("quit")
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.kill()

    def kill(self) -> None:
        """Kill QEMU at once and remove its runtime sockets. Never raises."""
        if self._qmp is not None:
            self._qmp.close()
            self._qmp = None
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        shutil.rmtree(self.runtime, ignore_errors=True)
        self.pidfile.unlink(missing_ok=True)


def _last_line(log_tail: str) -> str:
    """The last line QEMU wrote to its own log: usually the reason it exited."""
    section = log_tail.split("[console.log]")[0]
    lines = [ln for ln in section.splitlines() if ln.strip() and not ln.startswith("[")]
    return lines[-1].strip() if lines else "no output"


def _escape(path: Path | str) -> str:
    """QEMU option values escape commas by doubling them."""
    return str(path).replace(",", ",,")


def create_overlay(backing: Path, overlay: Path, backing_format: str = "raw") -> None:
    """A copy-on-write qcow2 over ``backing``; the backing file is never written."""
    overlay.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [
            "qemu-img",
            "create",
            "-q",
            "-f",
            "qcow2",
            "-b",
            str(Path(backing).resolve()),
            "-F",
            backing_format,
            str(overlay),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BootError(f"qemu-img create {overlay} failed: {proc.stderr.strip()}")


# The binary's identity (path, inode, size, mtime, ctime) -> what it said: any
# replacement or upgrade of the binary changes its ctime, so it is asked again.
_VERSIONS: dict[tuple[Any, ...], str] = {}


def qemu_version() -> str:
    """The first line of ``qemu-system-x86_64 --version``, asked once per binary."""
    path = shutil.which(QEMU)
    try:
        st = os.stat(path) if path else None
    except OSError:
        st = None
    ident = (path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) if st else None
    if ident is not None and ident in _VERSIONS:
        return _VERSIONS[ident]
    try:
        out = subprocess.run([QEMU, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    version = out.stdout.splitlines()[0] if out.stdout else "unknown"
    if ident is not None and out.returncode == 0 and version != "unknown":
        _VERSIONS[ident] = version
    return version
