"""Carrying out agent actions on a world: validation, execution, observation, limits.

Every front end (the Python API, MCP, the built-in agents) goes through
:meth:`Env.step`, so an action means the same thing everywhere and a bad one
is always an error observation, never the end of the episode. Infrastructure
failures (a device that went away) are not the agent's doing: they propagate
as exceptions for the runner to record as ``infra_error``.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from linux_vm.terminal_keys import canonical as canonical_key
from linux_vm.terminal_keys import encode_key
from rig import actions as A
from rig import uitree
from rig.errors import ActionInvalid, is_infra
from rig.observation import Observation
from rig.world import AndroidDevice, LinuxDevice, World

DEFAULT_LINUX_ROOTS = ("/home", "/tmp", "/srv", "/opt", "/var/tmp")
DEFAULT_ANDROID_ROOTS = ("/sdcard", "/storage", "/data/local/tmp")


@dataclass
class Limits:
    max_steps: int = 60
    max_seconds: float = 900.0
    shell_timeout_s: float = 60.0
    shell_output_cap: int = 64 * 1024


@dataclass
class Message:
    """Something the agent told the user; proactive tasks are judged on these."""

    kind: str  # "answer" | "notify"
    text: str
    step: int
    at: str
    world_time: str | None = None  # the world clock's time (running/stepped clocks)


@dataclass
class Question:
    """The agent asked its person (``ask_user``) and what came back, from where."""

    question: str
    answer: str
    source: str  # "script" | "model" | "default"
    step: int
    at: str  # host time
    world_time: str | None = None  # the world clock's time (running/stepped clocks)


@dataclass
class StepRecord:
    """What the recorder receives for each step (before/after screens for GUI actions)."""

    index: int
    action: Any
    observation: Observation
    started: float
    duration_s: float
    before_png: bytes | None = None
    touch: tuple[int, int] | None = None
    ui_tree_xml: str | None = None
    agent_message: str | None = None
    usage: Mapping[str, Any] | None = None
    beat: int | None = None  # the heartbeat this step was taken in (rig/heartbeats.py)
    beat_start: Mapping[str, Any] | None = None  # on a beat's first step: when it opened


@dataclass
class Env:
    """One episode's action interface over a :class:`World`.

    ``on_step`` receives a :class:`StepRecord` after every step (the recorder).
    ``record_before`` takes a screenshot before each GUI action for the record.
    ``auto_ui_tree`` adds the compact UI tree to the observation after each GUI
    action, so element ids stay current without a separate ``ui_tree`` step.
    ``on_terminal`` receives ``(role, terminal)`` when a device's terminal is first
    used (the recorder subscribes to its output).
    """

    world: World
    instruction: str
    limits: Limits = field(default_factory=Limits)
    allowed_roots: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    on_step: Callable[[StepRecord], None] | None = None
    record_before: bool = False
    auto_ui_tree: bool = True
    on_terminal: Callable[[str, Any], None] | None = None
    user: Any = None  # answers ask_user: .answer(question) -> Reply(text, source)
    clock: Any = None  # rig.world_clock.WorldTime: a stepped world advances on `wait`
    live: Any = None  # rig.live_events.LiveEvents: what a `wait` delivers on the way
    beats: Any = None  # rig.heartbeats.Heartbeats: `finish` ends a beat, not the episode

    steps: int = 0
    done: bool = False
    done_reason: str | None = None
    messages: list[Message] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    _started: float = field(default_factory=time.monotonic)
    _elements: dict[str, list[uitree.Element]] = field(default_factory=dict)
    _terminals: set[str] = field(default_factory=set)
    _screen_sizes: dict[int, tuple[int, int]] = field(default_factory=dict)
    _pending_note: str | None = None
    _pending_usage: Mapping[str, Any] | None = None
    _beat_finished: bool = False
    first_observation: Observation | None = None

    # -- public API -------------------------------------------------------------------------

    def running(
        self, roles: tuple[str, ...] | None = None
    ) -> contextlib.AbstractContextManager[None]:
        """Devices run inside (``roles``: only these; default all): a stepped world pauses
        those that can (a QEMU VM, an AVD) between actions, so their clocks stand while the
        agent thinks (:meth:`rig.world_clock.WorldTime.running`). Every action is taken
        inside it, holding the device it acts on."""
        hold = getattr(self.clock, "running", None)
        return hold(roles) if hold is not None else contextlib.nullcontext()

    def reset(self) -> tuple[Observation, str]:
        """The first observation (a screenshot of the first phone, if any) and the instruction."""
        with self.running():
            return self._reset()

    def _reset(self) -> tuple[Observation, str]:
        self._started = time.monotonic()
        self.steps, self.done, self.done_reason = 0, False, None
        self.messages.clear()
        self.questions.clear()
        roles = ", ".join(f"{r} ({self.world[r].kind})" for r in self.world)
        obs = Observation(text=f"devices: {roles}")
        phone = next((r for r in self.world if self.world[r].kind == "android"), None)
        if phone is not None:
            obs = self._screen(phone, self.world[phone], "screenshot")
            obs.text = f"devices: {roles}"
        if self.beats is not None:
            obs.text += "\n" + self.beats.begin().text()
        self.first_observation = obs
        return obs, self.instruction

    def elements(self, role: str) -> list[uitree.Element]:
        """Elements of the last UI tree seen on ``role`` (what ``tap(element=…)`` targets)."""
        return list(self._elements.get(role, []))

    def annotate(self, message: str | None = None, usage: Mapping[str, Any] | None = None) -> None:
        """Attach the agent's own words and token usage to the next recorded step."""
        self._pending_note, self._pending_usage = message, usage

    def step(self, action: Any) -> tuple[Observation, bool, dict[str, Any]]:
        """Carry out one action; returns ``(observation, done, info)``."""
        with self.running(self._needs(action)):
            return self._step(action)

    def _needs(self, action: Any) -> tuple[str, ...] | None:
        """The devices an action runs on: its own (the others stay paused), none for what
        only talks to the user, all for the rest (a `wait`, a `finish` that opens the next
        heartbeat: clock steps and deliveries, which hold every device themselves too)."""
        get = action.get if isinstance(action, dict) else lambda k: getattr(action, k, None)
        kind, device = get("action"), get("device")
        if kind in ("answer", "notify", "ask_user"):
            return ()
        if kind in ("wait", "finish") or not isinstance(device, str):
            return None
        return (device,)

    def _step(self, action: Any) -> tuple[Observation, bool, dict[str, Any]]:
        if self.done:
            obs = Observation.failure(f"the episode is over ({self.done_reason})")
            return obs, True, self._info()
        started = time.monotonic()
        record = StepRecord(self.steps, action, Observation(), time.time(), 0.0)
        if self.beats is not None:
            record.beat, record.beat_start = self.beats.current.index, self.beats.take_pending()
        try:
            if not isinstance(action, A._Action):
                action = A.parse_action(action)
                record.action = action
            obs = self._dispatch(action, record)
        except ActionInvalid as exc:
            kind = getattr(action, "action", None) if not isinstance(action, dict) else None
            obs = Observation.failure(str(exc), getattr(action, "device", None), kind)
        except Exception as exc:
            if is_infra(exc):
                # Recorded before the runner ends the episode: the action and its cause.
                self._record_infra(record, exc, started)
                raise
            if isinstance(exc, ValueError):  # device layers' input errors
                kind = getattr(action, "action", None)
                obs = Observation.failure(str(exc), getattr(action, "device", None), kind)
            else:
                raise
        self.steps += 1
        record.observation = obs
        record.duration_s = time.monotonic() - started
        record.agent_message, record.usage = self._pending_note, self._pending_usage
        self._pending_note = self._pending_usage = None
        if self.beats is not None:
            self._beat_boundary(obs)
        if not self.done:
            if self.steps >= self.limits.max_steps:
                self._end("step limit")
            elif time.monotonic() - self._started >= self.limits.max_seconds:
                self._end("time limit")
        if self.on_step is not None:
            self.on_step(record)
        return obs, self.done, self._info()

    def _beat_boundary(self, obs: Observation) -> None:
        """After a step in a heartbeat episode: a beat that is over (``finish``, or its own
        limit) gives way to the next one, whose prompt and world time the agent reads in
        this step's observation; the last beat's end ends the episode."""
        self.beats.count_step()
        why = "finish" if self._beat_finished else self.beats.over()
        self._beat_finished = False
        if why is None or self.done:
            return
        if self.beats.last:
            self._end(why)
            return
        beat = self.beats.next(why)
        lead = "" if why == "finish" else f"[{why}: this heartbeat is over] "
        obs.text = "\n".join(t for t in (obs.text, lead + beat.text()) if t)

    def _record_infra(self, record: StepRecord, exc: BaseException, started: float) -> None:
        device = getattr(record.action, "device", None)
        record.observation = Observation.failure(
            f"infrastructure failure: {type(exc).__name__}: {exc}", device
        )
        record.duration_s = time.monotonic() - started
        record.agent_message, record.usage = self._pending_note, self._pending_usage
        self._pending_note = self._pending_usage = None
        if self.on_step is not None:
            with contextlib.suppress(Exception):  # the record must not hide the cause
                self.on_step(record)

    # -- dispatch ---------------------------------------------------------------------------

    def _info(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "elapsed_s": round(time.monotonic() - self._started, 3),
            "done_reason": self.done_reason,
        }

    def _end(self, reason: str) -> None:
        self.done, self.done_reason = True, reason

    def _dispatch(self, action: Any, record: StepRecord) -> Observation:
        kind = action.action
        if kind in ("answer", "notify"):
            world = self.clock.now() if self.clock is not None else None
            self.messages.append(
                Message(
                    kind,
                    action.text,
                    self.steps,
                    datetime.now(UTC).isoformat(),
                    world.isoformat() if world is not None else None,
                )
            )
            return Observation(action=kind, text="delivered to the user")
        if kind == "ask_user":
            return self._ask(action.question)
        if kind == "finish":
            if self.beats is not None and not self.beats.last:
                self._beat_finished = True  # the next beat opens after this step is counted
                return Observation(action=kind, text="")
            self._end("finish")
            return Observation(action=kind, text="episode finished")
        if kind == "wait":
            from rig.live_events import wait

            if action.device is not None:
                try:
                    self.world[action.device]
                except KeyError as exc:
                    raise ActionInvalid(str(exc.args[0])) from None
            text = wait(self.clock, self.live, action.seconds)
            return Observation(device=action.device, action=kind, text=text)
        role = action.device
        try:
            device = self.world[role]
        except KeyError as exc:
            raise ActionInvalid(str(exc.args[0])) from None
        allowed = A.ANDROID_ACTIONS if device.kind == "android" else A.LINUX_ACTIONS
        if kind not in allowed:
            raise ActionInvalid(
                f"{kind!r} is not an action for {role!r} ({device.kind}); "
                f"use one of {', '.join(sorted(allowed))}"
            )
        keep = getattr(self.clock, "keep", None)
        if keep is not None:  # a clock faster than its kernel's (a VM, an AVD): world time first
            keep(role)
        if device.kind == "linux":
            return self._linux(role, device, action)  # type: ignore[arg-type]
        return self._android(role, device, action, record)  # type: ignore[arg-type]

    def _ask(self, question: str) -> Observation:
        if self.user is None:
            from rig.simulated_user import SimulatedUser
            from tasks.user import UserSpec

            self.user = SimulatedUser(UserSpec())
        reply = self.user.answer(question)
        world = self.clock.now() if self.clock is not None else None
        self.questions.append(
            Question(
                question,
                reply.text,
                reply.source,
                self.steps,
                datetime.now(UTC).isoformat(),
                world.isoformat() if world is not None else None,
            )
        )
        return Observation(action="ask_user", text=f"the user replies: {reply.text}")

    # -- Linux ------------------------------------------------------------------------------

    def _check_path(self, role: str, kind: str, path: str) -> str:
        roots = self.allowed_roots.get(role) or (
            DEFAULT_LINUX_ROOTS if kind == "linux" else DEFAULT_ANDROID_ROOTS
        )
        if "\0" in path:
            raise ActionInvalid(f"path contains a NUL byte: {path!r}")
        if not path.startswith("/"):
            raise ActionInvalid(f"path must be absolute: {path!r}")
        norm = posixpath.normpath(path)
        if not any(norm == r or norm.startswith(r.rstrip("/") + "/") for r in roots):
            raise ActionInvalid(f"path {path!r} is outside the allowed roots ({', '.join(roots)})")
        return norm

    def _linux(self, role: str, device: LinuxDevice, action: Any) -> Observation:
        if action.action in A.TERMINAL_ACTIONS:
            return self._terminal(role, device, action)
        cap = self.limits.shell_output_cap
        if action.action == "shell":
            timeout = min(action.timeout, self.limits.shell_timeout_s)
            run = getattr(device, "agent_shell", None) or device.shell
            out = run(action.command, timeout=timeout)
            return Observation(
                device=role,
                action="shell",
                stdout=_capped(out.stdout_bytes, cap, getattr(out, "stdout_cut", False)),
                stderr=_capped(out.stderr_bytes, cap, getattr(out, "stderr_cut", False)),
                exit_code=out.exit_code,
            )
        path = self._check_path(role, "linux", action.path)
        kind = action.action
        try:
            if kind == "read_file":
                # As the agent's user, and never more than the cap (+1 byte: is there more?).
                read_as_user = getattr(device, "read_file_as_user", None)
                if read_as_user is not None:
                    data = read_as_user(path, cap + 1)
                else:
                    data = device.read_file(path)
                return Observation(device=role, action=kind, text=_capped(data, cap, False, "file"))
            data = action.content.encode("utf-8")
            device.write_file(path, data)
        except OSError as exc:  # the guest said no; the machine is fine (DeviceLost is not OSError)
            return Observation.failure(_file_error(kind, path, exc), role, kind)
        return Observation(device=role, action=kind, text=f"wrote {len(data):,} bytes to {path}")

    def _terminal(self, role: str, device: LinuxDevice, action: Any) -> Observation:
        """Type and/or read the device's terminal. A shell that ended since the last action
        gets a fresh terminal and an error observation (the keys are not sent into it)."""
        opener = getattr(device, "terminal", None)
        if opener is None:
            raise ActionInvalid(f"{role!r} has no terminal (its backend offers none)")
        term = opener()
        if role not in self._terminals:
            self._terminals.add(role)
            if self.on_terminal is not None:
                self.on_terminal(role, term)
        quiet, kind = action.quiet_ms / 1000, action.action
        error = None
        if not term.alive:
            status = term.exit_status
            term.restart()  # returns once the new prompt is up
            settled = term.wait(quiet=quiet, timeout=action.timeout)
            error = (
                f"the terminal's shell had ended (exit status {status}); a fresh terminal "
                "was started" + ("; the keys were not typed" if kind == "terminal_keys" else "")
            )
        elif kind == "terminal_keys":
            # An `until` already on the screen (an old prompt, an earlier answer) is stale:
            # only one printed or drawn after these keys counts.
            stale = action.until is not None and term.shows(action.until)
            mark = term.mark()
            term.keys(action.items())
            entered, echo = _entered_line(action.items())
            settled = term.wait(
                quiet=quiet,
                timeout=action.timeout,
                since=mark,
                first=action.timeout if entered else 1.0,
                until=action.until,
                line=entered,
                stale=stale,
                echo=echo,
            )
        else:
            settled = term.wait(quiet=quiet, timeout=action.timeout, until=action.until)
        shot = term.screen_shot(getattr(action, "scrollback", 0))
        text = shot.text
        if not shot.alive:
            text += (
                f"\n[the shell exited (status {term.exit_status}); "
                "the next terminal action starts a fresh one]"
            )
        if action.until is not None and not settled and shot.alive:
            text += f"\n[{action.until!r} did not show within {action.timeout:g} s]"
        return Observation(
            ok=error is None,
            error=error,
            device=role,
            action=kind,
            text=text,
            cursor=shot.cursor,
            scrollback="\n".join(shot.scrollback) if shot.scrollback else None,
            settled=settled,
            alternate_screen=shot.alternate,
        )

    # -- Android ----------------------------------------------------------------------------

    def _point(self, role: str, device: AndroidDevice, action: Any) -> tuple[int, int]:
        if action.element is not None:
            elements = self._elements.get(role)
            if elements is None:
                raise ActionInvalid("no UI tree yet: call ui_tree before targeting an element")
            if action.element >= len(elements):
                raise ActionInvalid(
                    f"element {action.element} is not in the last UI tree (0-{len(elements) - 1})"
                )
            return elements[action.element].center
        self._on_screen(device, action.x, action.y)
        return action.x, action.y

    def _on_screen(self, device: AndroidDevice, *xy: int) -> None:
        pairs = list(zip(xy[::2], xy[1::2], strict=True))
        seen = self._screen_sizes.get(id(device))  # from the last screenshot of this device
        if seen is not None and all(0 <= x < seen[0] and 0 <= y < seen[1] for x, y in pairs):
            return
        width, height = device.window_size()  # none yet, or the screen may have rotated since
        for x, y in pairs:
            if not (0 <= x < width and 0 <= y < height):
                raise ActionInvalid(f"({x}, {y}) is off the screen ({width}x{height})")

    def _screen(self, role: str, device: AndroidDevice, kind: str) -> Observation:
        shot_png = getattr(device, "screenshot_png", None)
        if shot_png is not None:  # the device's own PNG, not decoded and encoded again
            png, size = shot_png()
        else:
            image = device.screenshot()
            buf = io.BytesIO()
            image.save(buf, format="PNG", compress_level=1)
            png, size = buf.getvalue(), image.size
        self._screen_sizes[id(device)] = size
        return Observation(device=role, action=kind, screenshot_png=png, screen_size=size)

    def _android(
        self, role: str, device: AndroidDevice, action: Any, record: StepRecord
    ) -> Observation:
        kind = action.action
        if kind == "screenshot":
            return self._screen(role, device, kind)
        if kind == "ui_tree":
            xml = device.ui_tree()
            elements = uitree.parse(xml)
            self._elements[role] = elements
            record.ui_tree_xml = xml
            return Observation(device=role, action=kind, text=uitree.render(elements))
        if kind == "swipe":
            self._on_screen(device, action.x1, action.y1, action.x2, action.y2)
        if self.record_before:
            record.before_png = self._screen(role, device, kind).screenshot_png
        if kind == "tap":
            x, y = self._point(role, device, action)
            record.touch = (x, y)
            device.tap(x, y)
        elif kind == "long_press":
            x, y = self._point(role, device, action)
            record.touch = (x, y)
            device.long_press(x, y, action.duration_ms)
        elif kind == "swipe":
            record.touch = (action.x1, action.y1)
            device.swipe(action.x1, action.y1, action.x2, action.y2, action.duration_ms)
        elif kind == "type":
            device.type_text(action.text)
        elif kind == "key":
            device.key(action.key.lower())
        elif kind == "launch":
            device.launch(action.app)
        settle = getattr(device, "settle", None)
        settled = None if settle is None else bool(settle())
        obs = self._screen(role, device, kind)
        obs.settled = settled
        if self.auto_ui_tree:
            xml = device.ui_tree()
            elements = uitree.parse(xml)
            self._elements[role] = elements
            record.ui_tree_xml = xml
            obs.text = uitree.render(elements)
        else:
            self._elements.pop(role, None)  # element ids refer to the screen before the action
        return obs


def _capped(data: bytes, cap: int, cut: bool, what: str = "output") -> str:
    """``data`` as text, at most ``cap`` bytes; a cut says so (the agent and the record see it).

    The device layer caps a stream itself (``cut``) and may then add its own note
    (``[clawrig: command timed out …]``) past the cap: that note is kept, after ours.
    """
    note = b""
    if len(data) > cap:
        data, rest, cut = data[:cap], data[cap:], True
        if rest.startswith(b"\n[clawrig: "):
            note = rest
    if not cut:
        return data.decode("utf-8", errors="replace")
    text = _whole_chars(data).decode("utf-8", errors="replace")
    return text + f"\n[{what} cut at {cap:,} bytes]" + note.decode("utf-8", errors="replace")


def _whole_chars(data: bytes) -> bytes:
    """Drop a UTF-8 character cut in half at the end (it would decode as U+FFFD)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # an ASCII byte or the lead byte of a sequence
            need = 1 if byte < 0x80 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return data[:-back] if need > back else data
    return data


def _file_error(kind: str, path: str, exc: OSError) -> str:
    """What the agent is told when the guest refuses a file action."""
    if isinstance(exc, IsADirectoryError):
        return f"{path} is a directory"
    if isinstance(exc, PermissionError):
        return f"permission denied: {path}"
    if isinstance(exc, FileNotFoundError):
        if kind == "read_file":
            return f"no such file: {path}"
        return f"cannot write {path}: no such directory {posixpath.dirname(path)}"
    return f"{kind} {path} failed: {exc}"


def _entered_line(items: list[str | tuple[str, str]]) -> tuple[bool, str]:
    """Whether the keys end a line with Enter, and the text typed just before that Enter."""
    entered, echo, text = False, "", ""
    for item in items:
        if isinstance(item, tuple) or encode_key(item) is None:
            text += item[1] if isinstance(item, tuple) else item
        elif canonical_key(item) == "enter":
            entered, echo, text = True, text, ""
        else:
            text = ""
    return entered, echo
