"""One virtual phone: its parts composed around a :class:`PhoneContext`, and its ports.

``Phone(state_dir).start()`` in-process, or ``spawn_phone(state_dir)`` for a
separate process (``python -m emulator.sim``), which is what a crash-restart
test or a long-lived ``rig phone serve`` wants. Everything the phone keeps is
under ``state_dir``; a phone started again on the same directory has the
same files, databases, props, display, clock and app state.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from emulator.errors import BootError
from emulator.sim import due
from emulator.sim.adb import AdbServer
from emulator.sim.clock import PhoneClock, update_json
from emulator.sim.contracts import Display, PhoneContext
from emulator.sim.logbuf import LogBuffer
from emulator.sim.providers import SqliteProviders
from emulator.sim.vfs import LocalFS
from hostproc.labels import ENV as LABEL_ENV
from hostproc.labels import PREFIXES, owner_label
from hostproc.parent import die_with_parent

log = logging.getLogger("emulator.sim")

U2_PORT = 9008
U2_AGENT_MODES = ("boot", "on-request", "none")

# Props of a fresh phone: enough for adb's banner, getprop, adbutils and uiautomator2.
DEFAULT_PROPS = {
    "ro.product.name": "clawrig_sim",
    "ro.product.model": "Clawrig Virtual Phone",
    "ro.product.device": "clawrig_sim",
    "ro.product.brand": "clawrig",
    "ro.product.manufacturer": "clawrig",
    "ro.product.cpu.abi": "x86_64",
    "ro.product.cpu.abilist": "x86_64",
    "ro.build.version.sdk": "34",
    "ro.build.version.release": "14",
    "ro.build.version.security_patch": "2024-06-05",
    "ro.build.id": "CLAWRIG.SIM.1",
    "ro.build.display.id": "clawrig-sim 14 CLAWRIG.SIM.1",
    "ro.build.type": "user",
    "ro.build.tags": "release-keys",
    "ro.build.characteristics": "emulator",
    "ro.build.fingerprint": (
        "clawrig/clawrig_sim/clawrig_sim:14/CLAWRIG.SIM.1/1:user/release-keys"
    ),
    "ro.hardware": "ranchu",
    "ro.kernel.qemu": "0",
    "ro.boot.qemu": "0",
    "ro.debuggable": "0",
    "ro.secure": "1",
    "sys.boot_completed": "1",
    "dev.bootcomplete": "1",
    "init.svc.bootanim": "stopped",
    "service.bootanim.exit": "1",
    "persist.sys.locale": "en-US",
    "gsm.sim.operator.alpha": "Android",
    "gsm.operator.alpha": "Android",
}

# Props that always follow the phone's live state instead of system.json.
_DERIVED = ("ro.sf.lcd_density",)


def parse_size(size: str) -> tuple[int, int]:
    """``"1080x2400"`` -> (1080, 2400); ValueError naming the bad value."""
    width, sep, height = size.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise ValueError(f"screen size {size!r} is not WIDTHxHEIGHT (e.g. 1080x2400)")
    w, h = int(width), int(height)
    if not (100 <= w <= 10000 and 100 <= h <= 10000):
        raise ValueError(f"screen size {size!r} is out of range (100..10000 per side)")
    return w, h


def _check_density(density: int) -> int:
    if not 80 <= int(density) <= 800:
        raise ValueError(f"screen density {density} is out of range (80..800 dpi)")
    return int(density)


def _stop_agent_of(ctx: PhoneContext) -> None:
    try:
        from emulator.sim.ui.u2agent import stop_u2_agent
    except ImportError:
        return
    stop_u2_agent(ctx)


class Phone:
    """A virtual phone serving adb on ``adb_port`` and the emulator console on ``console_port``.

    Port 0 picks a free port. ``size``/``density`` default to what the state
    directory remembers (1080x2400 at 420 dpi for a new one); given
    explicitly they replace it. ``serial`` sets ``ro.serialno``; the name adb
    uses is :attr:`serial`, ``127.0.0.1:PORT``.
    """

    def __init__(
        self,
        state_dir: Path | str,
        adb_port: int = 0,
        console_port: int = 0,
        size: str | None = None,
        density: int | None = None,
        serial: str | None = None,
        *,
        console_token_path: Path | str | None = None,
        name: str | None = None,
        u2_agent: str = "boot",
        snapshot: str | None = None,
    ) -> None:
        if u2_agent not in U2_AGENT_MODES:
            raise ValueError(f"u2_agent must be one of {U2_AGENT_MODES}, not {u2_agent!r}")
        self.u2_agent = u2_agent
        self.state_dir = Path(state_dir).expanduser().resolve()
        # Like the emulator's ``-snapshot NAME``: start from a saved state, not load it later.
        self.boot_snapshot = snapshot
        # What the console's `avd stop` / `avd start` set and `avd status` reports.
        self.execution = "running"
        self.requested_adb_port = int(adb_port)
        self.requested_console_port = int(console_port)
        self._size = parse_size(size) if size is not None else None
        self._density = _check_density(density) if density is not None else None
        self._serialno = serial
        self.console_token_path = (
            Path(console_token_path).expanduser()
            if console_token_path is not None
            else Path.home() / ".emulator_console_auth_token"
        )
        self.name = name
        self.ctx: PhoneContext | None = None
        self.adb: AdbServer | None = None
        self.console: Any = None
        self.stopped = threading.Event()
        self._u2_stop: Callable[[], None] | None = None
        self.location: dict[str, float] | None = None
        self._lock = threading.RLock()
        self._started = False
        self._saver: threading.Thread | None = None
        self._saver_stop = threading.Event()
        self._saved_system: tuple[dict[str, str], dict[str, int]] | None = None

    # -- paths and names ----------------------------------------------------
    @property
    def system_json(self) -> Path:
        return self.state_dir / "system.json"

    @property
    def snapshots_dir(self) -> Path:
        return self.state_dir / "snapshots"

    @property
    def adb_port(self) -> int:
        if self.adb is None:
            raise RuntimeError("phone is not started")
        return self.adb.port

    @property
    def console_port(self) -> int:
        if self.console is None:
            raise RuntimeError("phone is not started")
        return self.console.port

    @property
    def serial(self) -> str:
        return f"127.0.0.1:{self.adb_port}"

    @property
    def avd_name(self) -> str:
        return self.name or self.state_dir.name

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> Phone:
        """Open the state, build the parts, then open the ports (adb last but one: console)."""
        with self._lock:
            if self._started:
                return self
            try:
                self._start()
            except BaseException:
                self._teardown()
                raise
            self._started = True
            self.stopped.clear()
            log.info("phone up: adb %s, console %d", self.serial, self.console_port)
            return self

    def _start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.boot_snapshot:
            self._load_snapshot_files(self.boot_snapshot)
        stored = self._read_system()
        display = Display(**{**asdict(Display()), **stored.get("display", {})})
        if self._size is not None:
            display.width, display.height = self._size
        if self._density is not None:
            display.density = self._density
        props = {**DEFAULT_PROPS, **stored.get("props", {})}
        if self._serialno:
            props["ro.serialno"] = self._serialno
        props.setdefault("ro.serialno", "SIM" + secrets.token_hex(5).upper())
        props["ro.boot.serialno"] = props["ro.serialno"]
        props["ro.sf.lcd_density"] = str(display.density)
        vfs = LocalFS(self.state_dir / "fs")
        clock = PhoneClock(self.system_json)
        providers = SqliteProviders(vfs, clock)
        syslog = LogBuffer(clock)
        providers.log = syslog
        self.ctx = PhoneContext(
            state_dir=self.state_dir,
            serial="",
            display=display,
            vfs=vfs,
            clock=clock,
            providers=providers,
            props=props,
            log=syslog,
        )
        self._write_system()
        self._build_shell_and_ui()
        if self.boot_snapshot:
            self._restore_ui()
        from emulator.sim.console import ConsoleServer

        try:
            self.adb = AdbServer(self.ctx, self.requested_adb_port)
        except OSError as exc:
            raise BootError(f"adb port {self.requested_adb_port} is not free: {exc}") from exc
        self.ctx.serial = f"127.0.0.1:{self.adb.port}"
        try:
            self.console = ConsoleServer(self, self.requested_console_port, self.console_token_path)
        except OSError as exc:
            raise BootError(
                f"console port {self.requested_console_port} is not free: {exc}"
            ) from exc
        self.ctx.u2_agent = self.u2_agent
        if self.u2_agent == "boot":
            self._start_u2()
        else:  # app_process may start it later: stop it with the phone all the same
            ctx = self.ctx
            self._u2_stop = lambda: _stop_agent_of(ctx)
        self.adb.start()
        self.console.start()
        self._saver_stop.clear()
        self._saver = threading.Thread(target=self._save_loop, name="phone-saver", daemon=True)
        self._saver.start()

    def _build_shell_and_ui(self) -> None:
        assert self.ctx is not None
        try:
            from emulator.sim.shell import Shell
        except ImportError as exc:
            raise BootError(f"the virtual phone's shell is not installed: {exc}") from exc
        from emulator.sim.sync import SyncManager
        from emulator.sim.ui import UiSystem

        self.ctx.sync = SyncManager(self.ctx)
        self.ctx.providers.on_change = self.ctx.sync.local_change  # type: ignore[attr-defined]
        self.ctx.ui = UiSystem(self.ctx)
        self.ctx.shell = Shell(self.ctx)

    def _start_u2(self) -> None:
        assert self.ctx is not None
        try:
            from emulator.sim.ui.u2agent import start_u2_agent, stop_u2_agent
        except ImportError as exc:
            log.warning("uiautomator2 agent not available (%s); tcp:9008 is closed", exc)
            return
        host, port = start_u2_agent(self.ctx)
        self.ctx.tcp_ports[U2_PORT] = (host, port)
        ctx = self.ctx
        self._u2_stop = lambda: stop_u2_agent(ctx)

    def stop(self) -> None:
        """Save state and close the ports. Safe to call twice, from any thread."""
        with self._lock:
            if self._started:
                try:
                    self.save_state()
                except Exception:
                    log.exception("phone %s: saving state on stop failed", self.state_dir)
            self._teardown()
            self._started = False
            self.stopped.set()

    def _save_loop(self) -> None:
        """Props (``setprop``) and display (``wm size``) change in memory; keep them on disk
        within half a second, so a crash loses nothing the phone acknowledged. The same
        tick fires what a running clock brings due (:mod:`emulator.sim.due`)."""
        while not self._saver_stop.wait(0.5):
            try:
                self._write_system()
            except Exception:
                log.exception("phone %s: saving system.json failed", self.state_dir)
            try:
                due.tick(self.ctx)  # a running clock rings alarms on its own
            except Exception:
                log.exception("phone %s: due alarms and reminders failed", self.state_dir)

    def _teardown(self) -> None:
        self._saver_stop.set()
        if self._saver is not None and self._saver is not threading.current_thread():
            self._saver.join(timeout=5)
        self._saver = None
        if self.console is not None:
            self.console.stop()
        if self.adb is not None:
            self.adb.stop()
        if self._u2_stop is not None:
            try:
                self._u2_stop()
            except Exception:
                log.exception("stopping the uiautomator2 agent failed")
            self._u2_stop = None
        if self.ctx is not None:
            close = getattr(self.ctx.providers, "close", None)
            if close is not None:
                close()
            if self.ctx.sync is not None:
                self.ctx.sync.close()

    def __enter__(self) -> Phone:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- persistent state ---------------------------------------------------
    def _read_system(self) -> dict[str, Any]:
        if not self.system_json.exists():
            return {}
        try:
            data = json.loads(self.system_json.read_text(encoding="utf-8") or "{}")
        except json.JSONDecodeError as exc:
            raise BootError(f"{self.system_json}: not valid JSON ({exc})") from exc
        return data if isinstance(data, dict) else {}

    def _write_system(self) -> None:
        """Write props and display to system.json when they differ from what is there."""
        assert self.ctx is not None
        with self._lock:
            props = {k: v for k, v in dict(self.ctx.props).items() if k not in _DERIVED}
            display = asdict(self.ctx.display)
            if self._saved_system == (props, display):
                return
            # The clock rewrites the same file under its own lock; take it so that
            # neither read-modify-write loses the other's key.
            with getattr(self.ctx.clock, "_lock", None) or contextlib.nullcontext():
                update_json(self.system_json, "props", props)
                update_json(self.system_json, "display", display)
            self._saved_system = (props, display)

    def save_state(self) -> None:
        """Write props, display and app state; the fs and databases are always on disk."""
        if self.ctx is None:
            return
        self._write_system()
        if self.ctx.ui is not None:
            _write_json(self.state_dir / "ui.json", self.ctx.ui.state())

    # -- snapshots (the console's ``avd snapshot``) ---------------------------
    def snapshot_save(self, name: str) -> None:
        """Copy the whole state (fs, system.json, ui.json) to ``snapshots/NAME``."""
        _check_snapshot_name(name)
        with self._lock:
            self._quiesce()
            target = self.snapshots_dir / name
            tmp = self.snapshots_dir / f".{name}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            if (self.state_dir / "fs").exists():
                shutil.copytree(self.state_dir / "fs", tmp / "fs", symlinks=True)
            for fname in ("system.json", "ui.json"):
                if (self.state_dir / fname).exists():
                    shutil.copy2(self.state_dir / fname, tmp / fname)
            _write_json(tmp / "snapshot.json", {"name": name, "saved_ms": int(time.time() * 1000)})
            shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)

    def snapshot_load(self, name: str) -> None:
        """Put the phone back exactly as it was when ``name`` was saved."""
        assert self.ctx is not None
        with self._lock:
            self._quiesce()
            self._load_snapshot_files(name)
            stored = self._read_system()
            self.ctx.props.clear()
            self.ctx.props.update({**DEFAULT_PROPS, **stored.get("props", {})})
            self.ctx.props["ro.sf.lcd_density"] = str(self.ctx.display.density)
            for key, value in stored.get("display", {}).items():
                setattr(self.ctx.display, key, value)
            # Reload the clock in place: the shell, UI and providers hold this object.
            reload = getattr(self.ctx.clock, "_load", None)
            if reload is not None:
                reload()
            else:
                self.ctx.clock = PhoneClock(self.system_json)
            # Memory, as in a phone started from the snapshot: what was logged, copied or
            # located since the save is gone with the rest of that state.
            self.ctx.log.clear()
            self.ctx.clipboard = ""
            self.location = None
            self._restore_ui()

    def _load_snapshot_files(self, name: str) -> None:
        """Replace fs, system.json and ui.json with snapshot ``name``'s (``KeyError``: none)."""
        _check_snapshot_name(name)
        source = self.snapshots_dir / name
        if not (source / "snapshot.json").exists():
            raise KeyError(name)
        fs = self.state_dir / "fs"
        staging = self.state_dir / ".fs-loading"
        shutil.rmtree(staging, ignore_errors=True)
        if (source / "fs").exists():
            shutil.copytree(source / "fs", staging, symlinks=True)
        else:
            staging.mkdir()
        old = self.state_dir / ".fs-old"
        shutil.rmtree(old, ignore_errors=True)
        if fs.exists():
            os.replace(fs, old)
        os.replace(staging, fs)
        shutil.rmtree(old, ignore_errors=True)
        for fname in ("system.json", "ui.json"):
            if (source / fname).exists():
                shutil.copy2(source / fname, self.state_dir / fname)
            else:
                (self.state_dir / fname).unlink(missing_ok=True)

    def _restore_ui(self) -> None:
        if self.ctx is not None and self.ctx.ui is not None:
            ui_path = self.state_dir / "ui.json"
            saved = {}
            if ui_path.exists():
                saved = json.loads(ui_path.read_text(encoding="utf-8"))
            self.ctx.ui.restore(saved)  # no saved UI state: a fresh home screen

    def snapshot_list(self) -> list[tuple[str, int, int]]:
        """``(name, size_bytes, saved_epoch_ms)`` of each saved snapshot, by name."""
        out = []
        if not self.snapshots_dir.is_dir():
            return out
        for entry in sorted(self.snapshots_dir.iterdir()):
            meta = entry / "snapshot.json"
            if entry.name.startswith(".") or not meta.exists():
                continue
            size = sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())
            saved = int(json.loads(meta.read_text(encoding="utf-8")).get("saved_ms", 0))
            out.append((entry.name, size, saved))
        return out

    def snapshot_delete(self, name: str) -> None:
        _check_snapshot_name(name)
        target = self.snapshots_dir / name
        if not (target / "snapshot.json").exists():
            raise KeyError(name)
        shutil.rmtree(target)

    def _quiesce(self) -> None:
        """Get everything onto disk and close the databases (they reopen on next use)."""
        self.save_state()
        close = getattr(self.ctx.providers, "close", None) if self.ctx else None
        if close is not None:
            close()
        if self.ctx is not None and self.ctx.sync is not None:
            self.ctx.sync.close()  # the mail cache is a database in fs/ too


def _check_snapshot_name(name: str) -> None:
    if not name or name.startswith(".") or "/" in name or "\\" in name or len(name) > 128:
        raise ValueError(f"bad snapshot name {name!r}")


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False), "utf-8")
    os.replace(tmp, path)


# -- running in the foreground ----------------------------------------------------
def serve_forever(
    phone: Phone, out: Callable[[str], None] = print, parent: int | None = None
) -> int:
    """Start ``phone``, print how to reach it, run until SIGINT/SIGTERM or console ``kill``
    — or, with ``parent`` (a pid), until that process is no longer this one's parent (it
    died and this one was handed to another): stopped the same way, state saved."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        phone.start()
        out(phone.serial)
        out(f"console 127.0.0.1:{phone.console_port}")
        out(f"state {phone.state_dir}")
        while not stop.is_set() and not phone.stopped.is_set():
            if parent is not None and os.getppid() != parent:
                log.info("the process that started the phone (%d) is gone: stopping", parent)
                break
            stop.wait(0.2)
    finally:
        phone.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


# -- running as a subprocess ----------------------------------------------------------
class SpawnedPhone:
    """A phone in its own process (``python -m emulator.sim``)."""

    def __init__(
        self, process: subprocess.Popen, adb_port: int, console_port: int, state_dir: Path
    ) -> None:
        self.process = process
        self.adb_port = adb_port
        self.console_port = console_port
        self.state_dir = state_dir
        self.log_path = state_dir / "phone.log"  # its stderr (spawn_phone may choose another)

    @property
    def serial(self) -> str:
        return f"127.0.0.1:{self.adb_port}"

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait (the phone saves its state); SIGKILL if it does not exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, for testing that nothing is lost."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def __enter__(self) -> SpawnedPhone:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn_phone(
    state_dir: Path | str,
    adb_port: int = 0,
    console_port: int = 0,
    size: str | None = None,
    density: int | None = None,
    *,
    console_token_path: Path | str | None = None,
    timeout: float = 60.0,
    log_path: Path | str | None = None,
    u2_agent: str = "boot",
    snapshot: str | None = None,
) -> SpawnedPhone:
    """Start a phone subprocess and return once its adb and console ports answer.

    ``snapshot`` names a saved state under ``STATE/snapshots`` to start from."""
    state = Path(state_dir).expanduser().resolve()
    cmd = [sys.executable, "-m", "emulator.sim", "--state-dir", str(state)]
    cmd += ["--parent-pid", str(os.getpid())]  # dies with us from any thread (below)
    cmd += ["--adb-port", str(adb_port), "--console-port", str(console_port)]
    if size:
        cmd += ["--size", size]
    if density:
        cmd += ["--density", str(density)]
    if console_token_path is not None:
        cmd += ["--console-token-file", str(console_token_path)]
    if u2_agent != "boot":
        cmd += ["--u2-agent", u2_agent]
    if snapshot:
        cmd += ["--snapshot", snapshot]
    state.mkdir(parents=True, exist_ok=True)
    log_file = Path(log_path) if log_path else state / "phone.log"
    # From the main thread the phone dies with its parent at once (a crashed run leaks
    # nothing); the kernel ties PDEATHSIG to the spawning *thread*, so a worker thread
    # cannot use it, and the phone's own watch of its parent (--parent-pid) stops it then.
    in_main = threading.current_thread() is threading.main_thread()
    # The label lets the one reaper (hostproc.reaper) stop a phone whose owner is gone.
    env = {**os.environ, LABEL_ENV: owner_label(PREFIXES["phone"], uuid.uuid4().hex[:12])}
    with open(log_file, "ab") as err:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
            # SIGTERM, not SIGKILL: the phone saves its state on the way out.
            preexec_fn=die_with_parent(signal.SIGTERM) if in_main else None,
        )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: _read_lines(proc, lines, 3), daemon=True)
    reader.start()
    reader.join(timeout)
    if len(lines) < 3:
        proc.kill()
        proc.wait(5)
        tail = log_file.read_text(errors="replace")[-4000:] if log_file.exists() else ""
        raise BootError(
            f"virtual phone on {state} did not start within {timeout:.0f}s",
            log_tail=tail,
        )
    adb = int(lines[0].rpartition(":")[2])
    console = int(lines[1].rpartition(":")[2])
    deadline = time.monotonic() + timeout
    for port in (adb, console):
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    proc.kill()
                    raise BootError(f"virtual phone port {port} does not answer") from None
                time.sleep(0.05)
    spawned = SpawnedPhone(proc, adb, console, state)
    spawned.log_path = log_file
    return spawned


def _read_lines(proc: subprocess.Popen, lines: list[str], count: int) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.strip())
        if len(lines) >= count:
            break
    # keep draining so the child never blocks on a full pipe
    threading.Thread(target=proc.stdout.read, daemon=True).start()
