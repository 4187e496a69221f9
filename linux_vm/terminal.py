"""A real terminal on a Linux machine: a pty over SSH, with the screen kept on the host.

The shell action (:class:`~linux_vm.ssh.PersistentShell`) has no terminal, so programs
that want one (``vim``, ``less``, ``top``, ``sudo``'s password prompt, a ``read -p``)
hang or refuse there. :class:`Terminal` opens an interactive login shell on a channel
with a pty (``TERM=xterm-256color``, 120x40 by default), and a reader thread feeds
everything the guest prints into a pyte screen, so the current screen, the cursor and
a bounded scrollback are always at hand. Listeners receive the same decoded text (the
rig records it as an asciicast).

Robustness, since an agent can run anything in it:

* memory is bounded: a small SSH window (the guest blocks once the host is behind),
  a bounded scrollback, a fixed screen size (a program asking for 132 columns or a
  resize gets the same 120x40);
* bytes that are not UTF-8 decode to U+FFFD, never an exception;
* a shell that exits (``exit``, ``C-d``) leaves a terminal that is not ``alive``;
  :meth:`restart` opens a fresh one. Only a lost SSH connection is
  :class:`~linux_vm.errors.DeviceLost`.
"""

from __future__ import annotations

import codecs
import contextlib
import inspect
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import paramiko
import pyte

from linux_vm.ssh import SshSession
from linux_vm.terminal_keys import encode_key

COLUMNS, LINES = 120, 40
TERM = "xterm-256color"
LANG = "C.UTF-8"
SCROLLBACK_LINES = 2000
# The SSH window: how far the guest may run ahead of the host's screen. Small, so that
# after C-c on a flood the backlog still to be drawn is a fraction of a second.
WINDOW_BYTES = 128 * 1024
OPEN_WAIT_S = 15.0
_LOOK_EVERY_S = 0.005
_RECENT_CHARS = 16384
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_()].?)")
_VISIBLE = re.compile(r"[^\s\x00-\x1f\x7f]")
_ALT_MODES = frozenset({47 << 5, 1047 << 5, 1049 << 5})
_DECCKM = 1 << 5

Listener = Callable[[float, str], None]


class TerminalScreen(pyte.Screen):
    """pyte's screen plus what a real xterm does that agents' programs rely on.

    * the alternate screen (``ESC [?1049h``: vim, less, top) with the main screen
      restored on exit;
    * a bounded scrollback of lines scrolled off the main screen;
    * a fixed size: DECCOLM (132 columns) only clears, as xterm does by default;
    * answers to the program's queries (cursor position, device attributes) go to
      ``reply``.
    """

    def __init__(
        self,
        columns: int = COLUMNS,
        lines: int = LINES,
        scrollback: int = SCROLLBACK_LINES,
        reply: Callable[[str], None] | None = None,
    ) -> None:
        self.scrollback: deque[str] = deque(maxlen=scrollback)
        self.alternate = False
        self._saved_main: tuple | None = None
        self._reply = reply
        super().__init__(columns, lines)

    def write_process_input(self, data: str) -> None:
        if self._reply is not None:
            self._reply(data)

    def index(self) -> None:
        top, bottom = self.margins or pyte.screens.Margins(0, self.lines - 1)
        if self.cursor.y == bottom and top == 0 and not self.alternate:
            self.scrollback.append(self._render(self.buffer[top]))
        super().index()

    def set_mode(self, *modes: int, **kwargs) -> None:
        private = kwargs.get("private", False)
        if private and any(m << 5 in _ALT_MODES for m in modes) and not self.alternate:
            self._enter_alternate(save_cursor=1049 in modes)
        kept = [m for m in modes if not (private and (m << 5 in _ALT_MODES or m == 3))]
        if private and 3 in modes:  # DECCOLM: clear and home, keep the size
            self.erase_in_display(2)
            self.cursor_position()
        if kept:
            super().set_mode(*kept, **kwargs)

    def reset_mode(self, *modes: int, **kwargs) -> None:
        private = kwargs.get("private", False)
        if private and any(m << 5 in _ALT_MODES for m in modes) and self.alternate:
            self._leave_alternate()
        kept = [m for m in modes if not (private and (m << 5 in _ALT_MODES or m == 3))]
        if private and 3 in modes:
            self.erase_in_display(2)
            self.cursor_position()
        if kept:
            super().reset_mode(*kept, **kwargs)

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """A no-op: the pty's size is fixed (programs cannot resize the agent's terminal)."""

    def reset(self) -> None:
        super().reset()
        self.alternate = False
        self._saved_main = None

    def _enter_alternate(self, save_cursor: bool) -> None:
        cursor = (self.cursor.x, self.cursor.y, self.cursor.attrs) if save_cursor else None
        self._saved_main = (self.buffer, cursor)
        self.buffer = type(self.buffer)(lambda: pyte.screens.StaticDefaultDict(self.default_char))
        self.alternate = True
        self.dirty.update(range(self.lines))

    def _leave_alternate(self) -> None:
        assert self._saved_main is not None
        self.buffer, cursor = self._saved_main
        self._saved_main = None
        self.alternate = False
        if cursor is not None:
            self.cursor.x, self.cursor.y, self.cursor.attrs = cursor
        self.dirty.update(range(self.lines))

    def _render(self, line) -> str:
        # A wide character's second cell holds "" in pyte, so joining the cells is the text
        # (and is what the report's player draws); no per-character width lookups.
        return "".join([line[x].data for x in range(self.columns)]).rstrip()

    @property
    def app_cursor(self) -> bool:
        return _DECCKM in self.mode

    def lines_text(self) -> list[str]:
        """The screen's lines, right-stripped (``lines`` of them)."""
        return [self._render(self.buffer[y]) for y in range(self.lines)]

    def repaint(self) -> str:
        """Text that draws this screen's characters (no colours) on a cleared terminal."""
        rows = "\r\n".join(self.lines_text())
        return f"\x1b[0m\x1b[H\x1b[2J{rows}\x1b[{self.cursor.y + 1};{self.cursor.x + 1}H"


def _ignore_private(name: str):
    """A screen method that drops the private form of its sequence (``ESC [ > 4 ; 2 m``,
    vim's modifyOtherKeys), which pyte would pass it as a keyword it does not take."""
    method = getattr(pyte.Screen, name)

    def handler(self, *params, private: bool = False):
        if not private:
            method(self, *params)

    handler.__name__ = name
    return handler


for _name in set(pyte.Stream.csi.values()):
    _params = inspect.signature(getattr(pyte.Screen, _name)).parameters
    takes = any(p == "private" or v.kind is v.VAR_KEYWORD for p, v in _params.items())
    if not takes and _name not in TerminalScreen.__dict__:
        setattr(TerminalScreen, _name, _ignore_private(_name))


@dataclass
class ScreenShot:
    """The terminal as a person sees it: ``lines`` rows of text, the cursor (0-based
    ``(row, column)``), whether a full-screen program holds the alternate screen, and
    the last lines scrolled off the top (oldest first) when asked for."""

    lines: list[str]
    cursor: tuple[int, int]
    alternate: bool
    title: str
    columns: int
    scrollback: list[str] = field(default_factory=list)
    alive: bool = True

    @property
    def text(self) -> str:
        """The screen without its trailing empty lines."""
        rows = list(self.lines)
        while rows and not rows[-1]:
            rows.pop()
        return "\n".join(rows)


class Terminal:
    """An interactive login shell on a pty, its screen mirrored on the host.

    ``send``/``keys`` type; ``wait`` lets output settle; ``screen`` reads. Thread-safe:
    the reader thread and callers meet under one condition variable.
    """

    def __init__(
        self,
        session: SshSession,
        columns: int = COLUMNS,
        lines: int = LINES,
        *,
        scrollback: int = SCROLLBACK_LINES,
        window: int = WINDOW_BYTES,
        max_processes: int | None = None,
    ) -> None:
        self.session = session
        self.max_processes = max_processes
        self.columns, self.lines = columns, lines
        self.scrollback_lines = scrollback
        self.window = window
        self.listeners: list[Listener] = []
        self.exit_status: int | None = None
        self.started = 0  # how many pty sessions this terminal has had
        self.bytes_in = 0  # bytes received from the guest, all sessions
        self._cond = threading.Condition()
        self._chan: paramiko.Channel | None = None
        self._reader: threading.Thread | None = None
        self._last_output = 0.0
        self._chars = 0  # characters received, all sessions (marks count in these)
        self._recent = ""  # the last characters received, to see what came after a mark
        self._open()

    def _open(self) -> None:
        """A new shell on a new pty, once its prompt is up (bounded: a slow guest's
        late prompt still lands on the screen, just after this returns)."""
        mark = self.mark()
        self._start()
        self.wait(quiet=0.2, timeout=OPEN_WAIT_S, since=mark, first=OPEN_WAIT_S, line=False)

    # -- life cycle ------------------------------------------------------------------------

    def _start(self) -> None:
        self.screen = TerminalScreen(self.columns, self.lines, self.scrollback_lines, self._reply)
        self.stream = _stream(self.screen)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        # A connection the last shell ended (`kill -9 -1` kills the user's sshd) is made
        # again; only a machine that does not answer is DeviceLost.
        self.session.revive("opening a terminal")
        with self.session._guard("opening a terminal"):
            chan = self.session.transport.open_session(window_size=self.window, timeout=10)
            chan.get_pty(term=TERM, width=self.columns, height=self.lines)
            # sshd passes LANG (AcceptEnv) where PAM would have set it: programs draw UTF-8.
            chan.update_environment({"LANG": LANG})
            if self.max_processes:
                # The agent's shell's process limit (soft and hard: it cannot raise it),
                # set before the login shell starts, as PersistentShell does.
                chan.exec_command(f"ulimit -S -H -u {self.max_processes}; exec bash --login")
            else:
                chan.invoke_shell()
        self._chan = chan
        self.exit_status = None
        self.started += 1
        self._last_output = time.monotonic()
        self._reader = threading.Thread(
            target=self._read, args=(chan,), name=f"terminal-{self.session.port}", daemon=True
        )
        self._reader.start()

    @property
    def alive(self) -> bool:
        chan = self._chan
        return chan is not None and not chan.closed and self.exit_status is None

    def restart(self) -> None:
        """A fresh shell on a fresh pty (the old one, if any, is closed); listeners get a
        terminal reset first, so a recording starts the new screen clean."""
        self.close()
        self._emit("\x1bc")
        self._open()

    def close(self) -> None:
        chan, self._chan = self._chan, None
        if chan is not None:
            with contextlib.suppress(Exception):
                chan.close()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=5)
        self._reader = None

    # -- output ----------------------------------------------------------------------------

    def _read(self, chan: paramiko.Channel) -> None:
        while True:
            try:
                data = chan.recv(32768)
            except (OSError, EOFError, paramiko.SSHException):
                data = b""
            if not data:
                break
            text = self._decoder.decode(data)
            with self._cond:
                self.bytes_in += len(data)
                if chan is self._chan and text:
                    _feed(self.stream, text)
                self._last_output = time.monotonic()
                self._chars += len(text)
                self._recent = (self._recent + text)[-_RECENT_CHARS:]
                self._cond.notify_all()
            if text and chan is self._chan:
                self._emit(text)
        # The exit status follows the EOF on the wire (sshd sends EOF, then the status, then
        # closes): wait for it, bounded, so an `exit 3` reads as 3, not as unknown.
        chan.status_event.wait(timeout=5)
        with self._cond:
            if chan is self._chan:
                self.exit_status = chan.exit_status if chan.status_event.is_set() else -1
            self._cond.notify_all()

    def _emit(self, text: str) -> None:
        now = time.time()
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):  # a recorder's trouble never stops the terminal
                listener(now, text)

    def _reply(self, data: str) -> None:
        # Called by pyte inside feed() (reader thread, lock held): answer without blocking.
        chan = self._chan
        if chan is not None and not chan.closed:
            with contextlib.suppress(Exception):
                chan.send(data.encode())

    # -- input -----------------------------------------------------------------------------

    def send(self, data: str | bytes) -> None:
        """Type raw text or bytes; raises :class:`~linux_vm.errors.DeviceLost` only when the
        SSH connection itself is gone (a dead shell is the caller's to check: ``alive``)."""
        chan = self._chan
        if chan is None or chan.closed:
            if not self.session.alive():
                raise self.session.lost("typing into the terminal")
            return
        raw = data.encode() if isinstance(data, str) else data
        with self.session._guard("typing into the terminal"):
            try:
                chan.sendall(raw)
            except OSError:
                if self.session.alive():
                    return  # the shell went away between our look and our typing
                raise

    def keys(self, items: Iterable[str | tuple[str, str]]) -> None:
        """Type a sequence: a string that names a key (``Enter``, ``C-c``, ``PageDown``) is
        that key, any other string is text; ``("text", s)`` is always text."""
        out = []
        for item in items:
            if isinstance(item, tuple):
                out.append(item[1])
                continue
            seq = encode_key(item, self.screen.app_cursor)
            out.append(item if seq is None else seq)
        self.send("".join(out))

    # -- waiting and reading ---------------------------------------------------------------

    def mark(self) -> int:
        """A token for :meth:`wait`: output that arrives after it counts as an answer."""
        with self._cond:
            return self._chars

    def wait(
        self,
        quiet: float = 0.15,
        timeout: float = 5.0,
        since: int | None = None,
        first: float = 1.0,
        until: str | None = None,
        line: bool = False,
        stale: bool = False,
        echo: str = "",
    ) -> bool:
        """Wait until output has been quiet for ``quiet`` s (or ``until`` shows: see
        :meth:`_shows`; ``stale`` says it was on the screen before, so only a new one counts),
        at most ``timeout`` s. With ``since`` (a :meth:`mark`), wait up to ``first`` s for
        an answer to start before quiet counts: any output, or with ``line`` (a line was
        entered) visible text after the echoed line break, since the echo of what was
        typed is not yet the program's answer (the next prompt is, if nothing else); ``echo``
        (the text typed before that Enter) lets a late prompt of an earlier command, printed
        before the echo, not pass for the answer. True
        when it settled; False when output was still arriving (a flood, ``top``) at the
        deadline.
        """
        start = next_look = time.monotonic()
        deadline = start + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                if until is not None and now >= next_look:
                    if self._shows(until, since, stale):
                        return True
                    next_look = now + _LOOK_EVERY_S  # a flood must not cost a render per chunk
                if not self.alive:
                    return True
                waiting_first = (
                    until is None
                    and since is not None
                    and not self._answered(since, line, echo)
                    and now - start < first
                )
                if until is None and not waiting_first and now - self._last_output >= quiet:
                    return True
                if now >= deadline:
                    return until is not None and self._shows(until, since, stale)
                if until is not None:
                    step = min(deadline, next_look) - now
                elif waiting_first:
                    step = min(start + first, deadline) - now
                else:
                    step = min(self._last_output + quiet, deadline) - now
                self._cond.wait(max(0.001, step))

    def shows(self, text: str) -> bool:
        """Whether ``text`` is on the screen now."""
        with self._cond:
            return text in "\n".join(self.screen.lines_text())

    def _shows(self, until: str, since: int | None, stale: bool) -> bool:
        """``until`` is on the screen (and was not already, when ``stale``), or is in the
        text printed since the mark ``since`` (escape sequences and CRs taken out)."""
        if (not stale or since is None) and until in "\n".join(self.screen.lines_text()):
            return True
        if since is None:
            return False
        new = self._chars - since
        if new <= 0:
            return False
        printed = _ESCAPES.sub("", self._recent[-new:]).replace("\r", "")
        return until in printed

    def _answered(self, since: int, line: bool, echo: str = "") -> bool:
        new = self._chars - since
        if new <= 0:
            return False
        if not line or new > len(self._recent):
            return True
        text = _ESCAPES.sub("", self._recent[-new:]).replace("\r", "")
        # The line break that counts follows the echo of what was typed, when it is echoed
        # (a password prompt is not): output before it is an earlier command's late tail.
        tail = echo.rstrip("\r\n")[-8:]
        start = text.find(tail) + len(tail) if tail and tail in text else 0
        cut = text.find("\n", start)
        return cut >= 0 and bool(_VISIBLE.search(text[cut + 1 :]))

    def screen_shot(self, scrollback: int = 0) -> ScreenShot:
        with self._cond:
            screen = self.screen
            history = list(screen.scrollback)[-scrollback:] if scrollback > 0 else []
            return ScreenShot(
                lines=screen.lines_text(),
                cursor=(screen.cursor.y, screen.cursor.x),
                alternate=screen.alternate,
                title=screen.title or "",
                columns=screen.columns,
                scrollback=history,
                alive=self.alive,
            )

    def repaint(self) -> str:
        with self._cond:
            return self.screen.repaint()


def _stream(screen: TerminalScreen) -> pyte.Stream:
    stream = pyte.Stream(screen)
    # The text is already decoded; "not UTF-8" here only tells pyte to honour charset
    # switches (``ESC ( 0`` line drawing, as ncurses draws boxes), as xterm does.
    stream.use_utf8 = False
    return stream


def feed_screen(chunks: Iterable[str], columns: int = COLUMNS, lines: int = LINES):
    """A fresh screen after ``chunks`` of output: how a recording plays back."""
    screen = TerminalScreen(columns, lines)
    stream = _stream(screen)
    for chunk in chunks:
        _feed(stream, chunk)
    return screen


def _feed(stream: pyte.Stream, text: str) -> None:
    """Feed the screen; a sequence pyte cannot take loses the rest of its chunk, never the
    terminal (pyte resets its parser before raising)."""
    with contextlib.suppress(Exception):
        stream.feed(text)
