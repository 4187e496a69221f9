"""The Linux device: what the rig and the agent see of a machine reached over SSH.

:class:`SshLinuxDevice` meets ``rig.world.LinuxDevice`` structurally (this
package never imports ``rig``). :meth:`shell` is the agent's terminal: one
persistent ``bash``, so ``cd`` and variables carry over between actions.
:meth:`exec` runs an isolated command on a fresh channel (readers, seeding,
infrastructure). The connection is the guest's ordinary user; privileged
steps go through ``sudo -n``.

:class:`LinuxVM` adds what only a QEMU VM has: its process, its serial
console and the record of how it booted.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shlex
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from linux_vm import readers, seeding
from linux_vm.errors import DeviceLost, GuestRefused, LinuxInputError, VMError
from linux_vm.guest import source
from linux_vm.helper import GuestPython
from linux_vm.qemu import QemuProcess
from linux_vm.serial import SerialConsole
from linux_vm.service_clients import SYNC_NOW
from linux_vm.snapshot import BootRecord
from linux_vm.ssh import DEFAULT_CAP, CommandResult, PersistentShell, SshSession
from linux_vm.terminal import Terminal

# The agent's shell may run this many processes (threads count too) of its user at once:
# room for builds and pipelines, too little for a fork bomb to starve a 1 GiB guest.
AGENT_MAX_PROCESSES = 256

_TZ = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$")


class SshLinuxDevice:
    """A Linux machine reached over SSH (an attached host, or the base of :class:`LinuxVM`)."""

    kind = "linux"

    def __init__(
        self,
        role: str,
        session: SshSession,
        *,
        shell_timeout: float = 60.0,
        output_cap: int = DEFAULT_CAP,
        helper_token: str | None = None,
        max_processes: int | None = AGENT_MAX_PROCESSES,
    ) -> None:
        self.role = role
        self.max_processes = max_processes
        self.session = session
        self.helper_token = helper_token
        self.shell_timeout = shell_timeout
        self.output_cap = output_cap
        self._shell: PersistentShell | None = None
        self._helper: GuestPython | None = None
        self._terminal: Terminal | None = None
        self.use_helper = True
        self.clock: tuple[datetime, str] | None = None
        self.clock_kept = False  # the guest's helper keeps the clock at a speed (run_clock)

    # -- commands ----------------------------------------------------------------------

    def shell(self, command: str, timeout: float | None = None) -> CommandResult:
        """Run ``command`` in the agent's persistent shell (cwd and variables persist).

        A command that ends the shell's SSH connection (``kill -9 -1`` kills the user's
        sshd process too) gets a result saying so and a new connection; only a machine
        that does not answer again raises :class:`DeviceLost`.
        """
        started = time.monotonic()
        try:
            if self._shell is None:
                self._shell = self.session.shell(self.output_cap, self.max_processes, self._confine)
            return self._shell.run(command, timeout if timeout is not None else self.shell_timeout)
        except DeviceLost as exc:
            self._reconnect_or_raise(exc)
        note = b"[clawrig: the command ended the shell's SSH connection; reconnected, new shell]\n"
        return CommandResult(b"", note, 255, seconds=time.monotonic() - started)

    def _reconnect_or_raise(self, exc: DeviceLost) -> None:
        """After :class:`DeviceLost` in an agent's action: connect again, or re-raise it."""
        if self._shell is not None:
            self._shell.close()
            self._shell = None
        if self._helper is not None:
            self._helper.close()
        if not self.session.reconnect():
            raise exc

    def terminal(self) -> Terminal:
        """The agent's terminal: a login shell on a pty, kept until :meth:`close`
        (:mod:`linux_vm.terminal`); the same user and machine as :meth:`shell`."""
        if self._terminal is None:
            self._terminal = Terminal(self.session, max_processes=self.max_processes)
        return self._terminal

    @property
    def prompt(self) -> str:
        """What a terminal would show before the next command, e.g. ``user@host:~/src$ ``."""
        if self._shell is None:
            self._shell = self.session.shell(self.output_cap, self.max_processes, self._confine)
        return self._shell.prompt

    def exec(
        self,
        command: str,
        timeout: float | None = None,
        output_cap: int | None = None,
        stdin: bytes | None = None,
    ) -> CommandResult:
        """Run ``command`` alone on a new channel (no state shared with :meth:`shell`)."""
        cap = output_cap if output_cap is not None else self.output_cap
        t = timeout if timeout is not None else self.shell_timeout
        return self.session.exec(command, timeout=t, output_cap=cap, stdin=stdin)

    def _confine(self, pid: int) -> str | None:
        """The agent shell ``pid`` in a cgroup of its own (``linux_vm/guest/confine_shell``);
        ``None`` where the guest has no cgroup2 (then its session alone bounds a kill)."""
        try:
            r = self.privileged_python(source("confine_shell"), stdin=f"{pid}".encode(), timeout=30)
        except DeviceLost:
            return None
        return r.stdout.strip() or None if r.exit_code == 0 else None

    def privileged(
        self, command: str, timeout: float | None = None, stdin: bytes | None = None
    ) -> CommandResult:
        """Run ``command`` as root (``sudo -n`` unless already connected as root)."""
        if self.session.user != "root":
            command = f"sudo -n bash -c {shlex.quote(command)}"
        return self._infra(command, timeout, stdin)

    def privileged_python(
        self, program: str, stdin: bytes | None = None, timeout: float | None = None
    ) -> CommandResult:
        """Run a Python program as root in the guest; ``stdin`` is its input.

        Programs go to one persistent root ``python3`` (:mod:`linux_vm.helper`); a
        program that reads ``sys.stdin`` and prints its answer works either way.
        """
        if self.use_helper:
            if self._helper is None:
                self._helper = GuestPython(self.session, self.helper_token)
            t = timeout if timeout is not None else self.shell_timeout
            return self._helper.run(program, stdin or b"", timeout=t)
        encoded = base64.b64encode(program.encode()).decode()
        boot = f"import base64;exec(base64.b64decode('{encoded}'))"
        sudo = "" if self.session.user == "root" else "sudo -n "
        return self._infra(f"{sudo}python3 -c {shlex.quote(boot)}", timeout, stdin)

    def _infra(self, command: str, timeout: float | None, stdin: bytes | None) -> CommandResult:
        # The rig's own commands: no `timeout` wrapper (each extra process costs tens of
        # ms under TCG); the deadline only bounds the wait before the machine counts as lost.
        t = timeout if timeout is not None else self.shell_timeout
        return self.session.exec(
            command, timeout=t, output_cap=1 << 30, stdin=stdin, remote_timeout=False
        )

    # -- clock, seeding, state ---------------------------------------------------------

    def set_clock(self, now: datetime, timezone: str) -> None:
        """Set the system clock to ``now`` and the zone to ``timezone`` (IANA name).

        The clock is set, not stopped: it runs on from ``now`` as a real laptop's would.
        """
        if now.tzinfo is None:
            raise LinuxInputError("set_clock: `now` must be timezone-aware")
        if not _TZ.match(timezone) or ".." in timezone:
            raise LinuxInputError(f"set_clock: {timezone!r} is not an IANA timezone name")
        # Through the root helper that seeding uses next, not a `sudo` of its own.
        r = self.privileged_python(
            source("set_clock"), stdin=json.dumps([timezone, now.timestamp()]).encode(), timeout=30
        )
        if r.exit_code == 3:
            raise LinuxInputError(f"set_clock: unknown timezone {timezone!r} on {self.role}")
        if r.exit_code != 0:
            raise DeviceLost(f"{self.role}: setting the clock failed: {r.stderr.strip()}")
        self.clock, self.clock_kept = (now, timezone), False

    def step_clock(
        self,
        seconds: float,
        rate: float = 0.0,
        since: float | None = None,
        keep: float | None = None,
    ) -> tuple[float, float]:
        """Move the system clock ``seconds`` from where it is when the guest applies it
        (a measured offset corrected without the transport's delay), plus ``rate`` seconds
        for each second the guest's clock ran since its reading ``since`` (a world clock
        faster than the kernel's, caught up to the instant of the step). Returns the
        guest's new clock and its ``CLOCK_MONOTONIC`` then (an anchor for :meth:`run_clock`).
        ``keep``: see :meth:`run_clock` (a clock the guest keeps is corrected where its
        reckoning is, with no catching up)."""
        stdin: dict[str, float] = {"step": float(seconds), "speed": 1.0 + float(rate)}
        if rate and since is not None:
            stdin |= {"rate": float(rate), "since": float(since)}
        return self._clock_program(stdin, "stepping", keep)

    def run_clock(
        self, world: float, mono: float, speed: float, keep: float | None = None
    ) -> tuple[float, float]:
        """Set the system clock to where a clock at ``speed`` that said ``world`` when the
        guest's ``CLOCK_MONOTONIC`` said ``mono`` is now — reckoned in the guest, so the way
        there adds nothing. Returns the new clock and the monotonic clock then.

        ``keep`` (seconds): the guest's root helper then sets it again that often by the
        same reckoning, until the next clock request (:attr:`clock_kept` says whether it
        does: a guest without the resident helper cannot)."""
        stdin = {"world": float(world), "mono": float(mono), "speed": float(speed)}
        return self._clock_program(stdin, "running", keep)

    def read_clock(self) -> float:
        """The system clock (epoch seconds); one the guest keeps at a speed is brought to
        its reckoning first, so the read does not catch it between two of its settings."""
        r = self.privileged_python(source("read_clock"), timeout=30)
        if r.exit_code != 0:
            raise DeviceLost(f"{self.role}: reading the clock failed: {r.stderr.strip()}")
        return float(r.stdout)

    def unkeep_clock(self) -> None:
        """Stop the guest keeping the clock at a speed; it runs on at the kernel's rate."""
        self._clock_program({"unkeep": True}, "releasing")

    def _clock_program(
        self, stdin: dict[str, Any], what: str, keep: float | None = None
    ) -> tuple[float, float]:
        if keep:
            stdin = stdin | {"keep": float(keep)}
        r = self.privileged_python(
            source("set_clock"), stdin=json.dumps(stdin).encode(), timeout=30
        )
        if r.exit_code != 0:
            raise DeviceLost(f"{self.role}: {what} the clock failed: {r.stderr.strip()}")
        value, mono, kept = json.loads(r.stdout)
        self.clock_kept = bool(kept)
        return float(value), float(mono)

    def run_periodic_jobs(self, timeout: float = 300.0) -> float:
        """Run now, to their end, the jobs the image's cron runs every minute (the mail and
        calendar sync, ``SYNC_CRON``): what a laptop does in the minute after its clock
        jumped. Returns the seconds it took."""
        started = time.monotonic()
        self.exec(SYNC_NOW, timeout=timeout)
        return time.monotonic() - started

    def seed(self, plan: Any) -> dict[str, Any]:
        """Apply a :class:`~linux_vm.seeding.LinuxSeedPlan`, verify it, return its digest."""
        return seeding.apply_plan(self, plan)

    def verify_seed(self, plan: Any) -> dict[str, Any]:
        """Read back a previously applied plan; raises ``SeedMismatch`` on the first miss."""
        return seeding.verify_plan(self, plan)

    def read_state(self, query: Any) -> Any:
        """Answer a :mod:`linux_vm.readers` query (file, sha256, list_dir, command, sqlite …)."""
        return readers.read(self, query)

    # -- files -------------------------------------------------------------------------

    def read_file(self, path: str, limit: int | None = None) -> bytes:
        """The file's bytes (at most ``limit``); falls back to root for files the user
        cannot read. For the rig's readers: the agent reads with :meth:`read_file_as_user`."""
        try:
            return self.session.read_file(path, limit)
        except PermissionError:
            quoted = shlex.quote(path)
            read = f"cat -- {quoted}" if limit is None else f"head -c {int(limit)} -- {quoted}"
            r = self.privileged(f"set -o pipefail; {read} | base64 -w0", timeout=120)
            if r.exit_code != 0:
                raise FileNotFoundError(f"{path}: {r.stderr.strip()}") from None
            return base64.b64decode(r.stdout_bytes)

    def read_file_as_user(self, path: str, limit: int | None = None) -> bytes:
        """What the connected user (the agent's identity) may read: at most ``limit``
        bytes, read on the guest side; no root fallback. Raises ``FileNotFoundError``,
        ``PermissionError``, ``IsADirectoryError`` or ``GuestRefused`` (all ``OSError``)."""
        try:
            return self.session.read_file(path, limit)
        except DeviceLost as exc:
            self._reconnect_or_raise(exc)
        raise GuestRefused(f"reading {path}: the SSH connection dropped; reconnected, try again")

    def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """Write as the connected user (the agent's identity), atomically."""
        try:
            self.session.write_file(path, data, mode)
            return
        except DeviceLost as exc:
            self._reconnect_or_raise(exc)
        raise GuestRefused(f"writing {path}: the SSH connection dropped; reconnected, try again")

    def list_dir(self, path: str) -> list[str]:
        return self.session.list_dir(path)

    def logs(self, cap: int = 2 * 1024 * 1024) -> dict[str, bytes]:
        """Logs for the record: none for a host reached only over SSH (a VM adds its own)."""
        return {}

    def close(self) -> None:
        """Close the connection (the machine itself is the backend's to stop)."""
        if self._terminal is not None:
            self._terminal.close()
            self._terminal = None
        if self._shell is not None:
            self._shell.close()
            self._shell = None
        if self._helper is not None:
            self._helper.close()
            self._helper = None
        self.session.close()


class LinuxVM(SshLinuxDevice):
    """A QEMU VM: the SSH device plus its process, serial console and boot record."""

    def __init__(
        self,
        role: str,
        session: SshSession,
        vm: QemuProcess,
        boot: BootRecord,
        *,
        console_password: str,
        overlay: Path,
        shell_timeout: float = 60.0,
        output_cap: int = DEFAULT_CAP,
        helper_token: str | None = None,
    ) -> None:
        super().__init__(
            role,
            session,
            shell_timeout=shell_timeout,
            output_cap=output_cap,
            helper_token=helper_token,
        )
        self.vm = vm
        self.boot = boot
        self.overlay = overlay
        self._console_password = console_password
        # A guest that shuts itself down is then told apart from a VM that died.
        with contextlib.suppress(VMError):
            vm.hold_on_guest_shutdown()
            session.guest_ended = vm.guest_shut_down

    # A stepped world pauses the VM between agent actions (rig/clock_pause.py).
    can_pause = True

    @property
    def ssh_port(self) -> int:
        return self.vm.ssh_port

    def pause(self) -> None:
        """Stop the VM, its clock with it (:meth:`QemuProcess.pause`)."""
        self.vm.pause()

    def resume(self) -> None:
        self.vm.resume()

    def close(self) -> None:
        """Resume a paused VM (its connections then close cleanly), then close them."""
        with contextlib.suppress(VMError, DeviceLost):
            self.vm.resume()
        super().close()

    def logs(self, cap: int = 2 * 1024 * 1024) -> dict[str, bytes]:
        """The serial console (kernel, boot, guest agent) and QEMU's own stderr: host
        files, so a VM that died still leaves them."""
        out: dict[str, bytes] = {}
        for name, path in (
            ("serial.log", self.vm.console_log),
            ("qemu-stderr.txt", self.vm.qemu_log),
        ):
            try:
                with open(path, "rb") as fh:
                    fh.seek(max(0, fh.seek(0, 2) - cap))
                    out[name] = fh.read()
            except OSError as exc:
                out[name] = f"(cannot read {path}: {exc})\n".encode()
        return out

    def serial_console(self, login: bool = True) -> SerialConsole:
        """A root shell on ``ttyS0`` over pexpect (works when SSH does not)."""
        console = SerialConsole(self.vm.serial_path)
        if login:
            console.login("root", self._console_password)
        return console

    def kill(self) -> None:
        """Kill the VM's QEMU at once (what a crash looks like to the rig)."""
        self.vm.kill()
