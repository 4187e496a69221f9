"""Driving a Linux machine over SSH with paramiko: one-off commands, a persistent shell, SFTP.

Two ways to run a command, for two costs:

* :meth:`SshSession.exec` opens a fresh channel (~70 ms under TCG): isolated,
  with its own exit status; used for seeding, readers and infrastructure.
* :class:`PersistentShell` keeps one ``bash`` open on one channel (a few ms
  per command), so the working directory and variables carry over between an
  agent's actions. Commands travel in a quoted here-document and are
  ``eval``-ed with stdin from ``/dev/null``, and each ends with a random marker
  carrying its status and ``$PWD``; no extra process is spawned per command.

Every paramiko or socket failure becomes :class:`~linux_vm.errors.DeviceLost`,
so a VM killed mid-command is an infrastructure error, never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import posixpath
import re
import secrets
import select
import shlex
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from linux_vm.errors import BootError, DeviceLost, GuestRefused, GuestShutDown, LinuxInputError

DEFAULT_CAP = 64 * 1024
PATH_MAX = 4095  # bytes, without the terminating NUL (Linux's PATH_MAX is 4096 with it)
NAME_MAX = 255  # bytes in one path component
SFTP_TIMEOUT_S = 120.0
# paramiko logs every refused handshake with a traceback while a VM boots; the rig reports
# failures through its own errors, so its transport log stays quiet.
logging.getLogger("paramiko").addHandler(logging.NullHandler())
logging.getLogger("paramiko.transport").setLevel(logging.CRITICAL)
_KILL_GRACE_S = 3
# Asked for first, all others still allowed: a guest's sshd runs these through
# OpenSSL's tuned code, while its own curve25519/ed25519 code costs ~40 ms of every
# handshake under TCG (measured; see the README's Linux VMs section).
_PREFERRED = {"kex": "ecdh-sha2-nistp256", "key_types": "ecdsa-sha2-nistp256"}


@functools.lru_cache(maxsize=16)
def _load_key(path: str, mtime_ns: int, size: int) -> paramiko.PKey:
    """A private key, parsed once per process (keyed by path and the file's version).

    paramiko re-checks an RSA key's mathematics on every load, twice (~0.27 s in all):
    per connection, that was a third of a VM restore.
    """
    del mtime_ns, size  # part of the cache key only
    data = Path(path).read_bytes()
    if b"OPENSSH PRIVATE KEY" in data:
        try:
            key = serialization.load_ssh_private_key(
                data, password=None, unsafe_skip_rsa_key_validation=True
            )
        except (ValueError, TypeError, UnsupportedAlgorithm):
            key = None  # encrypted or unusual: paramiko says what is wrong with it
        if isinstance(key, rsa.RSAPrivateKey):
            return paramiko.RSAKey(key=key)
    return paramiko.PKey.from_path(path)


def _transport(sock: object, **kwargs: object) -> paramiko.Transport:
    transport = paramiko.Transport(sock, **kwargs)  # type: ignore[arg-type]
    options = transport.get_security_options()
    for field, first in _PREFERRED.items():
        offered = tuple(getattr(options, field))
        if first in offered:
            setattr(options, field, (first, *(a for a in offered if a != first)))
    return transport


@dataclass
class CommandResult:
    """A finished command. ``stdout``/``stderr`` are UTF-8 text (bad bytes replaced)."""

    stdout_bytes: bytes
    stderr_bytes: bytes
    exit_code: int
    timed_out: bool = False
    truncated: bool = False
    cwd: str | None = None
    seconds: float = 0.0
    stdout_cut: bool = False  # which stream ``truncated`` is about
    stderr_cut: bool = False

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8", errors="replace")

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class _Capped:
    """Keeps the first ``cap`` bytes of a stream and a window at its end for marker search."""

    def __init__(self, cap: int, window: int = 65536) -> None:
        self.cap = cap
        self.window = window
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self._spilled = False

    def add(self, data: bytes) -> None:
        self.total += len(data)
        self.tail += data
        if len(self.head) + len(self.tail) > self.cap + self.window:
            spill = len(self.tail) - self.window
            room = self.cap - len(self.head)
            if room > 0:
                self.head += self.tail[: min(room, spill)]
            del self.tail[:spill]
            self._spilled = True

    def value(self, end: int | None = None) -> tuple[bytes, bool]:
        """Captured bytes up to ``end`` (an offset into ``tail``), and whether they were cut."""
        tail = self.tail if end is None else self.tail[:end]
        if self._spilled:
            return bytes(self.head), True
        data = bytes(self.head + tail)
        if len(data) > self.cap:
            return data[: self.cap], True
        return data, False


class SshSession:
    """One authenticated SSH connection to ``user@host:port`` with the given private key."""

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        key_path: Path,
        *,
        connect_timeout: float = 10.0,
        on_lost: Callable[[], str] | None = None,
        machine_alive: Callable[[], bool] | None = None,
    ) -> None:
        self.host, self.port, self.user = host, port, user
        self.key_path = Path(key_path)
        self.on_lost = on_lost
        self.machine_alive = machine_alive
        # Set by a VM: how the guest ended itself (poweroff, reboot, panic), or None.
        self.guest_ended: Callable[[], str | None] | None = None
        self.reconnects = 0
        self._sftp: paramiko.SFTPClient | None = None
        # paramiko's SFTP client reads its replies unlocked: two threads on one client
        # take each other's replies (a hang, then 'Server connection dropped'). The
        # baseline, the snapshot, live deliveries and the agent share a session.
        self._sftp_lock = threading.RLock()
        self.client = paramiko.SSHClient()
        self.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            st = self.key_path.stat()
            pkey = _load_key(str(self.key_path), st.st_mtime_ns, st.st_size)
        except (OSError, ValueError, TypeError, paramiko.SSHException) as exc:
            # TypeError: cryptography's word for a passphrase-protected key.
            raise BootError(f"cannot load SSH key {self.key_path}: {exc}") from exc
        try:
            self.client.connect(
                host,
                port=port,
                username=user,
                pkey=pkey,
                timeout=connect_timeout,
                banner_timeout=connect_timeout,
                auth_timeout=connect_timeout,
                look_for_keys=False,
                allow_agent=False,
                transport_factory=_transport,
            )
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise BootError(f"SSH to {self.where} failed: {exc}") from exc
        transport = self.client.get_transport()
        assert transport is not None
        transport.set_keepalive(15)
        self.transport = transport
        self._reconnect_lock = threading.RLock()

    @property
    def where(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    @classmethod
    def wait_ready(
        cls,
        host: str,
        port: int,
        user: str,
        key_path: Path,
        *,
        timeout: float,
        alive: Callable[[], bool] = lambda: True,
        on_lost: Callable[[], str] | None = None,
    ) -> SshSession:
        """Poll until sshd answers and the key is accepted, or raise :class:`BootError`."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if not alive():
                raise BootError(f"the machine went away before SSH on port {port} answered")
            # Straight to paramiko: a separate banner probe would cost the guest a whole
            # extra sshd connection, which is what a restored VM spends most time on.
            try:
                wait = max(2.0, min(8.0, deadline - time.monotonic()))
                return cls(
                    host,
                    port,
                    user,
                    key_path,
                    connect_timeout=wait,
                    on_lost=on_lost,
                    machine_alive=alive,
                )
            except BootError as exc:
                last = exc
                time.sleep(0.1)
        raise BootError(f"SSH on {host}:{port} did not answer within {timeout:.0f} s ({last})")

    def lost(self, what: str, exc: BaseException | None = None) -> DeviceLost | GuestShutDown:
        ended = self.guest_ended() if self.guest_ended else None
        if ended:
            return GuestShutDown(f"the machine shut itself down ({ended}) during {what}")
        why = f": {exc}" if exc else ""
        extra = self.on_lost() if self.on_lost else ""
        msg = f"SSH connection to {self.where} lost during {what}{why}"
        return DeviceLost(msg + (f" ({extra})" if extra else ""))

    @contextlib.contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except DeviceLost:
            raise
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if isinstance(exc, FileNotFoundError | PermissionError) or (
                isinstance(exc, OSError) and exc.errno is not None and self.alive()
            ):
                raise
            raise self.lost(what, exc) from exc

    def alive(self) -> bool:
        return self.transport.is_active()

    def reconnect(self, timeout: float = 30.0) -> bool:
        """Connect again after the guest dropped this connection; False if it does not answer.

        The connection's sshd process runs as the user, so whatever the user runs can
        end it (``kill -9 -1``): that is the user's doing, not a machine gone.
        """
        with self._reconnect_lock:  # one at a time: each closes the connection there was
            self.close()
            alive = self.machine_alive or (lambda: True)
            if not alive() or (self.guest_ended is not None and self.guest_ended()):
                return False
            try:
                fresh = SshSession.wait_ready(
                    self.host,
                    self.port,
                    self.user,
                    self.key_path,
                    timeout=timeout,
                    alive=alive,
                    on_lost=self.on_lost,
                )
            except BootError:
                return False
            self.client, self.transport, self._sftp = fresh.client, fresh.transport, None
            self.reconnects += 1
            return True

    def revive(self, what: str) -> None:
        """Before an operation: a dropped connection is made again, or the machine is lost
        (a guest that shut itself down keeps its TCP connection open, paused: asked first)."""
        if self.guest_ended is not None and self.guest_ended():
            raise self.lost(what)
        if self.transport.is_active():
            return
        # Threads that find it dropped together (the agent's and a delivery's, the keeper's)
        # make one new connection: each would otherwise make its own, the extras left open.
        with self._reconnect_lock:
            if not self.transport.is_active() and not self.reconnect():
                raise self.lost(what)

    def ended_itself(self, last_check: list[float]) -> bool:
        """Polled while waiting on a command: has the guest shut itself down? (At most once
        a second; ``last_check`` holds the time of the last poll.)"""
        now = time.monotonic()
        if self.guest_ended is None or now - last_check[0] < 1.0:
            return False
        last_check[0] = now
        return self.guest_ended() is not None

    # -- one-off commands --------------------------------------------------------------

    def exec(
        self,
        command: str,
        timeout: float | None = None,
        output_cap: int | None = DEFAULT_CAP,
        stdin: bytes | None = None,
        remote_timeout: bool = True,
    ) -> CommandResult:
        """Run ``command`` on a new channel; a command past ``timeout`` s is killed (exit 124).

        Output beyond ``output_cap`` bytes per stream is dropped (``truncated``) while
        the command runs on to its real exit status. With ``remote_timeout=False`` the
        command is not wrapped in ``timeout`` (saves a process or two under TCG): the
        deadline then only bounds how long the host waits before declaring the machine lost.
        """
        started = time.monotonic()
        wrapped = command
        if timeout is not None and remote_timeout:
            wrapped = f"timeout -k {_KILL_GRACE_S} {timeout:g} bash -c {shlex.quote(command)}"
        cap = output_cap if output_cap is not None else 1 << 62
        out, err = _Capped(cap, 0), _Capped(cap, 0)
        what = f"`{_short(command)}`"
        self.revive(what)
        with self._guard(what):
            chan = self.transport.open_session(timeout=10)
            chan.exec_command(wrapped)
            if stdin:
                chan.sendall(stdin)
            chan.shutdown_write()
            hard = None if timeout is None else started + timeout + _KILL_GRACE_S + 10
            polled = [started]
            while True:
                select.select([chan], [], [], 0.2)
                while chan.recv_ready():
                    out.add(chan.recv(65536))
                while chan.recv_stderr_ready():
                    err.add(chan.recv_stderr(65536))
                if chan.exit_status_ready() and chan.eof_received:
                    break
                if chan.closed or not self.transport.is_active():
                    break
                if hard is not None and time.monotonic() > hard:
                    chan.close()
                    raise self.lost(f"{what}: no answer {timeout:g} s after its timeout")
                if self.ended_itself(polled):
                    chan.close()
                    raise self.lost(what)
            while chan.recv_ready():
                out.add(chan.recv(65536))
            while chan.recv_stderr_ready():
                err.add(chan.recv_stderr(65536))
            # paramiko reports -1 for a channel that closed without an exit status.
            code = chan.recv_exit_status() if chan.exit_status_ready() else -1
            if code < 0:
                raise self.lost(what)
            chan.close()
        elapsed = time.monotonic() - started
        stdout, cut_out = out.value()
        stderr, cut_err = err.value()
        timed_out = timeout is not None and code in (124, 137) and elapsed >= timeout * 0.98
        if timed_out:
            stderr += f"\n[clawrig: command timed out after {timeout:g} s]\n".encode()
        return CommandResult(
            stdout, stderr, code, timed_out, cut_out or cut_err, None, elapsed, cut_out, cut_err
        )

    def shell(
        self,
        output_cap: int = DEFAULT_CAP,
        max_processes: int | None = None,
        confine: Callable[[int], str | None] | None = None,
    ) -> PersistentShell:
        return PersistentShell(self, output_cap, max_processes, confine)

    # -- files -------------------------------------------------------------------------

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self.revive("opening SFTP")
            with self._guard("opening SFTP"):
                self._sftp = self.client.open_sftp()
                # paramiko waits for an SFTP reply forever: a hung guest must surface.
                self._sftp.get_channel().settimeout(SFTP_TIMEOUT_S)
        return self._sftp

    @contextlib.contextmanager
    def _file_guard(self, what: str, path: str) -> Iterator[None]:
        """SFTP failures on a machine that still answers are the caller's, not infra.

        An errno-mapped error (``FileNotFoundError``, ``PermissionError``) passes
        through; a bare SFTP failure or a closed SFTP channel becomes
        :class:`GuestRefused` once a fresh command proves the machine is fine (the
        next file operation opens a new SFTP channel). Only a machine that does not
        answer that probe is :class:`DeviceLost`.
        """
        check_path(path)
        with self._sftp_lock:
            self.revive(what)
            try:
                yield
            except DeviceLost:
                raise
            except (paramiko.SSHException, EOFError, OSError) as exc:
                if isinstance(exc, OSError) and exc.errno is not None and self.alive():
                    raise
                self._drop_sftp()
                if not self._answers():
                    raise self.lost(what, exc) from exc
                why = str(exc) or type(exc).__name__
                raise GuestRefused(f"{what}: the guest refused ({why})") from exc

    def _drop_sftp(self) -> None:
        sftp, self._sftp = self._sftp, None
        if sftp is not None:
            with contextlib.suppress(Exception):
                sftp.close()

    def _answers(self) -> bool:
        """Does the machine still run a command? (The probe after a failure.)"""
        if not self.alive():
            return False
        try:
            return self.exec("true", timeout=15, remote_timeout=False).exit_code == 0
        except DeviceLost:
            return False

    def read_file(self, path: str, limit: int | None = None) -> bytes:
        """The file's bytes; with ``limit``, at most that many (the guest reads no more).

        A directory raises ``IsADirectoryError``; a missing file ``FileNotFoundError``.
        """
        with self._file_guard(f"reading {path}", path), self.sftp.open(path, "rb") as f:
            st = f.stat()
            if stat.S_ISDIR(st.st_mode or 0):
                raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
            size = st.st_size or 0
            want = size if limit is None else min(size, limit)
            if want > 0:
                f.prefetch(want)
            return f.read() if limit is None else f.read(limit)

    def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """Write atomically: a temporary name beside ``path``, then rename over it.

        A failed write leaves no temporary file; writing over a directory raises
        ``IsADirectoryError``.
        """
        parent = posixpath.dirname(path) or "."
        tmp = f"{parent.rstrip('/')}/.clawrig-{secrets.token_hex(4)}"
        with self._file_guard(f"writing {path}", path):
            try:
                with self.sftp.open(tmp, "wb") as f:
                    f.set_pipelined(True)
                    f.write(data)
                self.sftp.chmod(tmp, mode)
                self.sftp.posix_rename(tmp, path)
            except (OSError, paramiko.SSHException, EOFError):
                is_dir = False
                with contextlib.suppress(Exception):
                    self.sftp.remove(tmp)
                with contextlib.suppress(Exception):
                    is_dir = stat.S_ISDIR(self.sftp.stat(path).st_mode or 0)
                if is_dir:
                    raise IsADirectoryError(errno.EISDIR, "Is a directory", path) from None
                raise

    def list_dir(self, path: str) -> list[str]:
        with self._sftp_lock, self._guard(f"listing {path}"):
            return sorted(self.sftp.listdir(path))

    def is_dir(self, path: str) -> bool:
        with self._sftp_lock, self._guard(f"stat {path}"):
            try:
                return stat.S_ISDIR(self.sftp.stat(path).st_mode or 0)
            except FileNotFoundError:
                return False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self._sftp is not None:
                self._sftp.close()
        with contextlib.suppress(Exception):
            self.client.close()


class PersistentShell:
    """One long-lived ``bash`` on one channel: the agent's terminal, minus the terminal.

    ``cwd`` and ``prompt`` reflect the shell after the last command. If a command
    ends the shell (``exit``, ``exec``, a signal), the next command starts a fresh one
    in the home dir. Whatever the shell runs stays in its session (sshd makes it a
    session leader) and, given ``confine``, in a cgroup of its own (so ``setsid`` does not
    leave it): a command past its timeout is killed with everything it started, fork
    bombs included, and ``max_processes`` (``ulimit -u``, soft and hard, so the
    shell cannot raise it) keeps such a command from starving the machine meanwhile.
    """

    def __init__(
        self,
        session: SshSession,
        output_cap: int = DEFAULT_CAP,
        max_processes: int | None = None,
        confine: Callable[[int], str | None] | None = None,
    ) -> None:
        self.session = session
        self.confine = confine
        self.output_cap = output_cap
        self.max_processes = max_processes
        self.cwd = "~"
        self.home = "~"
        self.pid = 0
        self.cgroup: str | None = None  # the cgroup ``confine`` put the shell in
        self.restarted = False
        self._chan: paramiko.Channel | None = None
        self._open()

    def _open(self) -> None:
        limit = f"ulimit -S -H -u {self.max_processes}; " if self.max_processes else ""
        boot = f"{limit}printf '%s\\n' \"$$\""
        # A login shell reads the user's profile; one the user (or an agent) broke so that
        # it exits or hangs must not cost the machine its shell: then no profile is read.
        for start in ("exec bash --login -s", "exec bash --noprofile --norc -s"):
            self.session.revive("starting the shell")
            with self.session._guard("starting the shell"):
                chan = self.session.transport.open_session(timeout=10)
                chan.exec_command(start)
                self._chan = chan
            first = self._round(boot, timeout=30)
            pid = first.stdout.strip()
            if first.exit_code == 0 and pid.isdigit() and self._chan is not None:
                self.pid = int(pid)
                self.home = first.cwd or "~"
                self.cwd = self.home
                self.cgroup = self.confine(self.pid) if self.confine else None
                return
            self.close()
        raise self.session.lost("starting the shell (bash did not start, even without a profile)")

    @property
    def prompt(self) -> str:
        where = self.cwd
        if where == self.home or where.startswith(self.home + "/"):
            where = "~" + where[len(self.home) :]
        sigil = "#" if self.session.user == "root" else "$"
        return f"{self.session.user}@{self.session.host}:{where}{sigil} "

    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        """Run ``command`` in the shell; on timeout its processes are killed (exit 124)."""
        if self._chan is None or self._chan.closed:
            self.restarted = True
            self._open()
        return self._round(command, timeout)

    def _round(self, command: str, timeout: float | None) -> CommandResult:
        chan = self._chan
        assert chan is not None
        tag = "__CLAWRIG_" + secrets.token_hex(8)
        script = (
            f"IFS= read -r -d '' __rig_c <<'{tag}'\n{command}\n{tag}\n"
            # `$?` as the command starts: 0 or 1 as the previous one ended (the status of
            # `read` otherwise; a bare `exit` exited 1), with builtins only (no fork), and
            # a `!` so that `set -e` cannot end the shell over it.
            f'! [ "${{__rig_s:-0}}" != 0 ]; eval "$__rig_c" </dev/null; __rig_s=$?\n'
            f'printf \'\\n{tag}:%s:%s\\n{tag}END\\n\' "$__rig_s" "$PWD"; '
            f"printf '\\n{tag}\\n' >&2\n"
        )
        out_end = re.compile(
            rb"\n" + tag.encode() + rb":(\d+):(.*?)\n" + tag.encode() + rb"END\n", re.S
        )
        err_end = b"\n" + tag.encode() + b"\n"
        out, err = _Capped(self.output_cap), _Capped(self.output_cap)
        started = time.monotonic()
        deadline = None if timeout is None else started + timeout
        timed_out = False
        what = f"`{_short(command)}`"
        polled = [started]
        with self.session._guard(what):
            chan.sendall(script.encode())
            m = None
            err_pos = -1
            while True:
                if m is None:
                    m = out_end.search(out.tail)
                if err_pos < 0:
                    err_pos = err.tail.find(err_end)
                if m is not None and err_pos >= 0:
                    break
                if chan.closed or (chan.exit_status_ready() and not chan.recv_ready()):
                    return self._ended(out, err, started, what)
                if not self.session.transport.is_active() or self.session.ended_itself(polled):
                    raise self.session.lost(what)
                if deadline is not None and time.monotonic() > deadline and not timed_out:
                    timed_out = True
                    self._interrupt()
                    deadline = time.monotonic() + _KILL_GRACE_S + 5
                elif deadline is not None and timed_out and time.monotonic() > deadline:
                    # The shell itself is stuck: end its session, leader included; the next
                    # command gets a new shell.
                    self._kill_session(leader=True)
                    chan.close()
                    self._chan = None
                    stdout, cut = out.value()
                    note = f"\n[clawrig: command timed out after {timeout:g} s; shell restarted]\n"
                    stderr = err.value()[0] + note.encode()
                    elapsed = time.monotonic() - started
                    return CommandResult(
                        stdout, stderr, 124, True, cut, self.cwd, elapsed, cut, False
                    )
                select.select([chan], [], [], 0.05)
                while chan.recv_ready():
                    out.add(chan.recv(65536))
                while chan.recv_stderr_ready():
                    err.add(chan.recv_stderr(65536))
        stdout, cut_out = out.value(m.start())
        stderr, cut_err = err.value(err_pos)
        code = int(m.group(1))
        self.cwd = m.group(2).decode("utf-8", errors="replace")
        if timed_out:
            code = 124
            stderr += f"\n[clawrig: command timed out after {timeout:g} s]\n".encode()
        return CommandResult(
            stdout,
            stderr,
            code,
            timed_out,
            cut_out or cut_err,
            self.cwd,
            time.monotonic() - started,
            cut_out,
            cut_err,
        )

    def _ended(self, out: _Capped, err: _Capped, started: float, what: str) -> CommandResult:
        """The shell exited (the command ran ``exit``): report it; the next run reopens."""
        chan = self._chan
        assert chan is not None
        while chan.recv_ready():
            out.add(chan.recv(65536))
        while chan.recv_stderr_ready():
            err.add(chan.recv_stderr(65536))
        code = chan.recv_exit_status() if chan.exit_status_ready() else -1
        self._chan = None
        if not self.session._answers():
            raise self.session.lost(what)
        # What the shell left running goes with it, as when a terminal closes: a fork
        # bomb whose shell gave up forking must not outlive it.
        self._kill_session(leader=True)
        stdout, cut_out = out.value()
        stderr, cut_err = err.value()
        if code < 0:  # killed by a signal: sshd sends no exit status (ssh(1) says 255)
            code = 255
            stderr += b"\n[clawrig: the shell was killed; the next command starts a new one]\n"
        else:
            stderr += b"\n[clawrig: the shell exited; the next command starts a new one]\n"
        elapsed = time.monotonic() - started
        return CommandResult(
            stdout, stderr, code, False, cut_out or cut_err, self.cwd, elapsed, cut_out, cut_err
        )

    def _interrupt(self) -> None:
        """Kill what the shell is running (everything in its session), leaving the shell."""
        self._kill_session(leader=False)

    def _kill_session(self, leader: bool) -> None:
        """Kill every process in the shell's session and cgroup (``leader``: the shell too).

        TERM first, then KILL in rounds until nothing is left, so processes forked
        while the previous round ran (a fork bomb) are caught by the next. Runs on a
        fresh channel, outside the shell's process limit.
        """
        if self.pid <= 1:
            return
        # Zombies are dead already (and stay listed until reaped): only live ones count.
        keep = "" if leader else f" && $1 != {self.pid}"
        pick = f"($2 == {self.pid} || $1 in cg) && $3 !~ /^Z/{keep} {{print $1}}"
        procs = f"{shlex.quote(self.cgroup)}/cgroup.procs" if self.cgroup else "/dev/null"
        script = (
            f"pids() {{ ps -e -o pid=,sid=,stat= | awk -v in_cg=\"$(tr '\\n' ' ' <{procs})\" "
            f"'BEGIN {{ split(in_cg, a); for (i in a) cg[a[i]] }} {pick}'; }}; "
            'p=$(pids); [ -n "$p" ] && kill -TERM $p 2>/dev/null && sleep 0.5; '
            'for _ in $(seq 50); do p=$(pids); [ -z "$p" ] && exit 0; '
            "kill -STOP $p 2>/dev/null; kill -KILL $p 2>/dev/null; done; exit 1"
        )
        with contextlib.suppress(DeviceLost):
            self.session.exec(script, timeout=30, remote_timeout=False)

    def close(self) -> None:
        if self._chan is not None:
            with contextlib.suppress(Exception):
                self._chan.close()
            self._chan = None


def check_path(path: str) -> None:
    """Refuse what no Linux file operation accepts, before it reaches the guest's SFTP
    server (a NUL byte or an over-long path made it drop the channel)."""
    if "\0" in path:
        raise LinuxInputError(f"path contains a NUL byte: {path!r}")
    try:
        raw = path.encode("utf-8")
    except UnicodeEncodeError:
        raise LinuxInputError(f"path is not valid UTF-8 text: {path!r}") from None
    if len(raw) > PATH_MAX:
        raise LinuxInputError(f"path is {len(raw):,} bytes long; Linux allows {PATH_MAX:,}")
    longest = max((len(part) for part in raw.split(b"/")), default=0)
    if longest > NAME_MAX:
        raise LinuxInputError(
            f"a path component is {longest:,} bytes long; Linux allows {NAME_MAX}"
        )


def _short(command: str, width: int = 60) -> str:
    line = command.strip().splitlines()[0] if command.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"
