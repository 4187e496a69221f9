"""How the parts of the virtual phone fit together.

The phone is four parts around one :class:`PhoneContext`:

* the **transport** (``emulator/sim/adb``) speaks the device side of the ADB
  protocol and calls :meth:`ShellRunner.run` for ``shell:``/``exec:``, the
  :class:`VirtualFS` for ``sync:``, and :meth:`PhoneContext.open_tcp` for
  ``tcp:PORT`` streams;
* the **system** (``vfs.py``, ``clock.py``, ``providers/``, ``shell/``) is the
  filesystem, the clock, the SQLite content providers and the shell with its
  Android commands;
* the **UI** (``ui/``) is the apps: each screen renders to pixels and to a
  ``uiautomator dump`` hierarchy and reacts to input;
* the **console** (``console.py``) is the emulator-console port.

Everything persistent lives under the phone's state directory, so a phone
stopped and started again on the same directory has the same data:

``STATE/fs/``          the device's root filesystem (``/sdcard`` is ``STATE/fs/sdcard``)
``STATE/system.json``  properties, clock, display
``STATE/ui.json``      app state (current screen, back stack, drafts)
``STATE/snapshots/``   console ``avd snapshot save`` copies of the above

Coordinates are pixels of the phone's display, origin top-left. Times are
timezone-aware ``datetime`` objects or epoch milliseconds, as Android uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

# ``write(fd, data)``: fd 1 is stdout, 2 is stderr. Output must be written in
# the order it is produced (clients append ``; echo X4EXIT:$?`` and parse it).
OutputSink = Callable[[int, bytes], None]


@runtime_checkable
class VirtualFS(Protocol):
    """The phone's filesystem, rooted at ``STATE/fs`` on the host.

    Device paths are absolute POSIX paths (``/sdcard/Download/a.txt``).
    ``host_path`` never returns a path outside the root (``..`` and symlinks
    are confined); ``/sdcard`` and ``/storage/emulated/0`` are the same tree.
    """

    root: Path

    def host_path(self, device_path: str) -> Path: ...

    def exists(self, device_path: str) -> bool: ...

    def read_bytes(self, device_path: str) -> bytes: ...

    def write_bytes(self, device_path: str, data: bytes, mode: int = 0o644) -> None: ...

    def listdir(self, device_path: str) -> list[str]: ...

    def mkdir(self, device_path: str, parents: bool = True) -> None: ...

    def remove(self, device_path: str, recursive: bool = False) -> None: ...


@runtime_checkable
class Clock(Protocol):
    """The phone's clock: frozen at a settable instant, or running from an offset."""

    def now(self) -> datetime:
        """Current phone time, aware, in the phone's timezone."""
        ...

    def now_ms(self) -> int: ...

    def set(self, when: datetime, frozen: bool = True) -> None: ...

    @property
    def timezone(self) -> str: ...

    def set_timezone(self, name: str) -> None: ...


@runtime_checkable
class Providers(Protocol):
    """Android content providers on SQLite, addressed by ``content://`` URIs.

    Values are Python ``str``/``int``/``float``/``bytes``/``None``; rows are
    dicts in projection (or table) column order. Semantics match the real
    providers closely enough that ``content`` output matches Android's.
    """

    def query(
        self,
        uri: str,
        projection: Sequence[str] | None = None,
        where: str | None = None,
        args: Sequence[Any] = (),
        sort: str | None = None,
    ) -> list[dict[str, Any]]: ...

    def insert(self, uri: str, values: Mapping[str, Any]) -> str:
        """Insert one row; returns the new row's URI (``content://sms/12``)."""
        ...

    def update(
        self,
        uri: str,
        values: Mapping[str, Any],
        where: str | None = None,
        args: Sequence[Any] = (),
    ) -> int: ...

    def delete(self, uri: str, where: str | None = None, args: Sequence[Any] = ()) -> int: ...


@runtime_checkable
class Ui(Protocol):
    """The phone's screen and apps.

    ``keyevent`` takes Android ``KEYCODE_*`` numbers (3 HOME, 4 BACK, 66 ENTER,
    67 DEL, 187 APP_SWITCH ...). ``text`` is what ``input text`` delivers after
    the shell has unquoted it (``%s`` already turned into spaces).
    """

    def screenshot(self) -> Any:
        """The screen as an RGB ``PIL.Image.Image`` of the display size."""
        ...

    def hierarchy_xml(self) -> str:
        """The current screen as ``uiautomator dump`` XML (bounds match the pixels)."""
        ...

    def tap(self, x: int, y: int) -> None: ...

    def long_press(self, x: int, y: int, duration_ms: int) -> None: ...

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int) -> None: ...

    def text(self, text: str) -> None: ...

    def keyevent(self, code: int) -> None: ...

    def start(self, package: str, activity: str | None = None) -> bool:
        """Bring an app to the front; False if no such package/activity."""
        ...

    def force_stop(self, package: str) -> None: ...

    def focus(self) -> tuple[str, str]:
        """``(package, fully.qualified.Activity)`` of the focused window."""
        ...

    def packages(self) -> list[tuple[str, str]]:
        """Installed ``(package, apk_path)`` pairs, for ``pm list packages -f``."""
        ...

    def state(self) -> dict[str, Any]:
        """JSON-able app state, saved to ``STATE/ui.json`` and in snapshots."""
        ...

    def restore(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class ShellRunner(Protocol):
    """The phone's ``/system/bin/sh``."""

    def run(self, command: str, stdin: bytes, write: OutputSink) -> int:
        """Run a command line; stream output through ``write``; return the exit status.

        Unknown commands print ``/system/bin/sh: X: inaccessible or not found``
        to stderr and return 127, as Android's shell does.
        """
        ...


@dataclass
class Display:
    width: int = 1080
    height: int = 2400
    density: int = 420


@dataclass
class PhoneContext:
    """Everything one phone's parts share. Built by ``emulator.sim.phone.Phone``.

    ``ui`` and ``shell`` are set after construction (each needs the context).

    ``tcp_ports`` maps a device-side TCP port to the host loopback address of
    the server that plays it: a ``tcp:9008`` stream from adb (``adb forward``,
    uiautomator2) is piped to ``tcp_ports[9008]``; an unknown port is refused
    (the stream is closed), as on a phone with nothing listening.

    ``reverse_connect`` is set by the transport: ``reverse_connect(port)``
    returns a connected socket-like object for a device-side connection to a
    port registered with ``adb reverse`` (the transport OPENs ``tcp:Y`` towards
    the host), or raises ``ConnectionRefusedError``.
    """

    state_dir: Path
    serial: str
    display: Display
    vfs: VirtualFS
    clock: Clock
    providers: Providers
    props: dict[str, str] = field(default_factory=dict)
    ui: Ui | None = None
    shell: ShellRunner | None = None
    tcp_ports: dict[int, tuple[str, int]] = field(default_factory=dict)
    reverse_connect: Callable[[int], Any] | None = None
    clipboard: str = ""
    # The accounts and their syncs (emulator.sim.sync.SyncManager); set with the UI.
    sync: Any = None
    # The system log (emulator.sim.logbuf.LogBuffer): what ``logcat -d`` prints.
    log: Any = None
    # uiautomator2's agent: "boot" (serving from the start), "on-request" (started by
    # uiautomator2's own setup, ``app_process``, as on an AVD) or "none" (cannot start).
    u2_agent: str = "boot"
