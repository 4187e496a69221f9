"""A client for the emulator console (``telnet localhost CONSOLE_PORT``).

The console answers each command with zero or more lines of output and then
one status line: ``OK`` (possibly ``OK: text``) or ``KO: reason``. Since
emulator 27 it first asks for ``auth <token>``, the token being the contents of
``~/.emulator_console_auth_token`` (an empty file disables auth).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from emulator.errors import ConsoleError

TOKEN_FILE = Path.home() / ".emulator_console_auth_token"


def read_token(path: Path | None = None) -> str | None:
    """The console auth token, or None when there is no token file."""
    target = path or TOKEN_FILE
    try:
        return target.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


class Console:
    """One console connection; a context manager. Raises :class:`ConsoleError` on ``KO``."""

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        token: str | None = None,
        token_path: Path | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.port = port
        self.host = host
        self.timeout = timeout
        self._token = token if token is not None else read_token(token_path)
        self._sock: socket.socket | None = None
        self._buf = b""

    def __enter__(self) -> Console:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ConsoleError(f"console port {self.port}: cannot connect ({exc})") from exc
        banner = self._read_reply("(banner)")
        if "Authentication required" in "\n".join(banner):
            if self._token is None:
                raise ConsoleError(
                    f"console port {self.port} requires auth and there is no token "
                    f"(expected in {TOKEN_FILE})"
                )
            self.command(f"auth {self._token}")

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.sendall(b"quit\r\n")
            except OSError:
                pass
            self._sock.close()
            self._sock = None

    def _readline(self, what: str) -> str:
        assert self._sock is not None
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self._buf:
            if time.monotonic() > deadline:
                raise ConsoleError(f"console port {self.port}: no answer to {what!r}")
            try:
                chunk = self._sock.recv(4096)
            except TimeoutError as exc:
                raise ConsoleError(f"console port {self.port}: no answer to {what!r}") from exc
            except OSError as exc:
                raise ConsoleError(f"console port {self.port}: {exc} during {what!r}") from exc
            if not chunk:
                raise ConsoleError(f"console port {self.port}: closed during {what!r}")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode("utf-8", "replace").rstrip("\r")

    def _read_reply(self, what: str) -> list[str]:
        lines: list[str] = []
        while True:
            line = self._readline(what)
            if line == "OK" or line.startswith("OK:"):
                if line.startswith("OK:"):
                    lines.append(line[3:].strip())
                return lines
            if line.startswith("KO"):
                reason = line[3:].strip() if line.startswith("KO:") else line[2:].strip()
                raise ConsoleError(f"console: {what!r} failed: {reason or 'KO'}")
            lines.append(line)

    def command(self, line: str) -> list[str]:
        """Send one command; its output lines (without the status line)."""
        if self._sock is None:
            self.open()
        if "\n" in line or "\r" in line:
            raise ConsoleError(f"console command must be one line: {line!r}")
        assert self._sock is not None
        try:
            self._sock.sendall(line.encode("utf-8") + b"\r\n")
        except OSError as exc:
            raise ConsoleError(f"console port {self.port}: {exc} sending {line!r}") from exc
        shown = "auth ***" if line.startswith("auth ") else line
        return self._read_reply(shown)

    # Verbs the rig uses.
    def snapshot_save(self, name: str) -> None:
        self.command(f"avd snapshot save {name}")

    def snapshot_load(self, name: str) -> None:
        self.command(f"avd snapshot load {name}")

    def snapshot_list(self) -> list[str]:
        return [ln for ln in self.command("avd snapshot list") if ln.strip()]

    def avd_name(self) -> str:
        out = self.command("avd name")
        return out[0].strip() if out else ""

    def sms_send(self, sender: str, text: str) -> None:
        self.command(f"sms send {sender} {text}")

    def kill(self) -> None:
        """Ask the emulator to exit; the console closes as it goes."""
        if self._sock is None:
            self.open()
        assert self._sock is not None
        try:
            self._sock.sendall(b"kill\r\n")
            self._read_reply("kill")
        except ConsoleError as exc:
            if "closed" not in str(exc):
                raise
        finally:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
