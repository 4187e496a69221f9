"""The one action schema every agent front end uses (Python API, MCP, built-in agents).

Actions are JSON objects discriminated by ``action``; every device action
names the device's role. Validation here covers shape and ranges that do not
need a device; what needs the device (coordinates on its screen, the role's
kind, allowed paths) is checked by the environment, and both kinds of failure
become an error observation rather than ending the episode.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from emulator.keys import key_names, keycode
from rig.errors import ActionInvalid

MAX_TEXT = 10_000
MAX_COMMAND = 8_192
MAX_WAIT_S = 30.0  # the longest real sleep (running and frozen clocks)
MAX_ADVANCE_S = 86_400.0  # the longest a stepped world clock moves in one wait (a day)
MAX_KEY_ITEMS = 200
MAX_SCROLLBACK = 2000

# Key names come from the device layer's table, so every name an agent may use is pressable.
KEY_NAMES = key_names()


def _not_bool(value: Any) -> Any:
    # pydantic's lax mode reads true/false as 1/0; a tap at `{"x": true}` is a bad action.
    if isinstance(value, bool):
        raise ValueError("Input should be a valid number, not a boolean")
    return value


Int = Annotated[int, BeforeValidator(_not_bool)]
Float = Annotated[float, BeforeValidator(_not_bool)]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _DeviceAction(_Action):
    device: str = Field(min_length=1, description="role of the device, e.g. 'phone' or 'laptop'")


class _Point(_DeviceAction):
    """A screen point given either as pixels or as an element id from the last UI tree."""

    x: Int | None = Field(default=None, ge=0)
    y: Int | None = Field(default=None, ge=0)
    element: Int | None = Field(default=None, ge=0, description="id from the last ui_tree")

    @model_validator(mode="after")
    def _one_target(self) -> _Point:
        has_xy = self.x is not None and self.y is not None
        if self.element is None and not has_xy:
            raise ValueError("give x and y, or element")
        if self.element is not None and (self.x is not None or self.y is not None):
            raise ValueError("give x and y, or element, not both")
        return self


class Tap(_Point):
    action: Literal["tap"] = "tap"


class LongPress(_Point):
    action: Literal["long_press"] = "long_press"
    duration_ms: Int = Field(default=800, ge=100, le=10_000)


class Swipe(_DeviceAction):
    action: Literal["swipe"] = "swipe"
    x1: Int = Field(ge=0)
    y1: Int = Field(ge=0)
    x2: Int = Field(ge=0)
    y2: Int = Field(ge=0)
    duration_ms: Int = Field(default=300, ge=10, le=10_000)


class Type(_DeviceAction):
    """Type text into the focused field (any Unicode)."""

    action: Literal["type"] = "type"
    text: str = Field(max_length=MAX_TEXT)


class Key(_DeviceAction):
    action: Literal["key"] = "key"
    key: str

    @model_validator(mode="after")
    def _known_key(self) -> Key:
        if keycode(self.key) is None:
            raise ValueError(f"unknown key {self.key!r}; known: {', '.join(KEY_NAMES)}")
        return self


class Launch(_DeviceAction):
    action: Literal["launch"] = "launch"
    app: str = Field(
        min_length=1,
        description="an app role (messages, contacts, calendar, clock, files, notes, mail, "
        "chat, settings …) or a package name, e.g. com.android.contacts",
    )


class Screenshot(_DeviceAction):
    action: Literal["screenshot"] = "screenshot"


class UiTree(_DeviceAction):
    action: Literal["ui_tree"] = "ui_tree"


class Wait(_Action):
    """Let time pass. A stepped world clock moves ``seconds`` ahead, or (without
    ``seconds``) to the next live event that falls due, firing what is due on the way;
    otherwise it is a real sleep of at most :data:`MAX_WAIT_S` (of world time ``seconds``:
    a running clock at a speed covers them in ``seconds / speed``; docs/always-on.md)."""

    action: Literal["wait"] = "wait"
    device: str | None = Field(
        default=None, min_length=1, description="optional: the device being waited for"
    )
    seconds: Float | None = Field(
        default=None,
        gt=0,
        le=MAX_ADVANCE_S,
        description="how long; omit to wait for the next live event (stepped clock)",
    )


class Shell(_DeviceAction):
    action: Literal["shell"] = "shell"
    command: str = Field(min_length=1, max_length=MAX_COMMAND)
    timeout: Float = Field(default=60.0, gt=0, le=600)


class ReadFile(_DeviceAction):
    action: Literal["read_file"] = "read_file"
    path: str = Field(min_length=1)


class WriteFile(_DeviceAction):
    action: Literal["write_file"] = "write_file"
    path: str = Field(min_length=1)
    content: str = Field(max_length=1_000_000)


class Text(BaseModel):
    """Text typed as it is, even when it spells a key name (``{"text": "Enter"}``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str = Field(max_length=MAX_TEXT)


class _TerminalWait(_DeviceAction):
    quiet_ms: int = Field(
        default=150, ge=20, le=5_000, description="return once output was quiet this long"
    )
    timeout: float = Field(
        default=5.0, gt=0, le=MAX_WAIT_S, description="longest wait (s) for output to settle"
    )
    until: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="instead of quiet, wait until this text is on the screen (up to timeout)",
    )


class TerminalKeys(_TerminalWait):
    """Type into the Linux device's terminal (a pty running a login shell), then read it.

    Each item of ``keys`` is a key name (Enter, Tab, Escape, Backspace, Up, PageDown, F1,
    Home, C-c, C-d, M-x …; Android's names where they overlap) or text typed as it is;
    ``{"text": …}`` types text even when it spells a key name.
    """

    action: Literal["terminal_keys"] = "terminal_keys"
    keys: list[str | Text] = Field(min_length=1, max_length=MAX_KEY_ITEMS)

    @model_validator(mode="after")
    def _bounded(self) -> TerminalKeys:
        total = sum(len(k if isinstance(k, str) else k.text) for k in self.keys)
        if total > MAX_TEXT:
            raise ValueError(f"{total} characters of keys; at most {MAX_TEXT} per action")
        if all(isinstance(k, str) and not k for k in self.keys):
            raise ValueError("nothing to type")
        return self

    def items(self) -> list[str | tuple[str, str]]:
        """For :meth:`linux_vm.terminal.Terminal.keys`: literal text as ``("text", s)``."""
        return [k if isinstance(k, str) else ("text", k.text) for k in self.keys]


class TerminalScreen(_TerminalWait):
    """The terminal's screen as text with the cursor; ``scrollback`` lines scrolled off
    the top come too when asked for."""

    action: Literal["terminal_screen"] = "terminal_screen"
    timeout: float = Field(
        default=2.0, gt=0, le=MAX_WAIT_S, description="longest wait (s) for output to settle"
    )
    scrollback: int = Field(default=0, ge=0, le=MAX_SCROLLBACK)


class Answer(_Action):
    """A reply to the user's request (reactive tasks are judged on it, among other things)."""

    action: Literal["answer"] = "answer"
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class Notify(_Action):
    """An unprompted message to the user (proactive tasks are judged on these)."""

    action: Literal["notify"] = "notify"
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class AskUser(_Action):
    """A question to the user; the observation carries their reply (``user:`` in task.yaml)."""

    action: Literal["ask_user"] = "ask_user"
    question: str = Field(min_length=1, max_length=2_000)

    @model_validator(mode="after")
    def _said(self) -> AskUser:
        if not self.question.strip():
            raise ValueError("the question is blank")
        return self


class Finish(_Action):
    action: Literal["finish"] = "finish"
    reason: str = ""


Action = Annotated[
    Tap
    | LongPress
    | Swipe
    | Type
    | Key
    | Launch
    | Screenshot
    | UiTree
    | Wait
    | Shell
    | ReadFile
    | WriteFile
    | TerminalKeys
    | TerminalScreen
    | Answer
    | Notify
    | AskUser
    | Finish,
    Field(discriminator="action"),
]

ANDROID_ACTIONS = frozenset(
    {"tap", "long_press", "swipe", "type", "key", "launch", "screenshot", "ui_tree", "wait"}
)
TERMINAL_ACTIONS = frozenset({"terminal_keys", "terminal_screen"})
LINUX_ACTIONS = frozenset({"shell", "read_file", "write_file", "wait", *TERMINAL_ACTIONS})
USER_ACTIONS = frozenset({"answer", "notify", "ask_user", "finish"})

_ADAPTER: TypeAdapter[Any] = TypeAdapter(Action)


def parse_action(data: dict[str, Any] | str) -> Any:
    """Validate a JSON object (or its text) into an action; ActionInvalid says what is wrong."""
    try:
        if isinstance(data, str):
            data = json.loads(data)
        return _ADAPTER.validate_python(data)
    except json.JSONDecodeError as exc:
        raise ActionInvalid(f"action is not valid JSON: {exc}") from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"][1:] if p) or "action"
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{loc}: {msg}")
        raise ActionInvalid("invalid action: " + "; ".join(problems)) from None


def action_schema() -> dict[str, Any]:
    """JSON Schema of the action union (for tool definitions and docs)."""
    return _ADAPTER.json_schema()


def action_kind(action: Any) -> str:
    return action.action


# -- tools: one per action kind, for front ends that speak "tool calling" (MCP, OpenAI) ----------

TOOL_ACTIONS: tuple[type[_Action], ...] = (
    Tap, LongPress, Swipe, Type, Key, Launch, Screenshot, UiTree, Wait,
    Shell, ReadFile, WriteFile, TerminalKeys, TerminalScreen, Answer, Notify, AskUser, Finish,
)  # fmt: skip

# What a model needs to know to call each tool well (the field docs carry the rest).
TOOL_DESCRIPTIONS: dict[str, str] = {
    "tap": "Tap an Android screen, at pixel x/y or at an element id from the last UI tree.",
    "long_press": "Touch and hold on an Android screen (x/y or element id), e.g. for menus.",
    "swipe": "Swipe from (x1, y1) to (x2, y2) on an Android screen, e.g. to scroll.",
    "type": "Type text into the focused field of an Android device (any Unicode).",
    "key": "Press a key on an Android device: " + ", ".join(KEY_NAMES) + ".",
    "launch": "Start an Android app by package name, e.g. com.android.contacts.",
    "screenshot": "Take a screenshot of an Android device (PNG).",
    "ui_tree": "List the Android screen's elements, one line each: [id] class 'text' bounds.",
    "wait": (
        "Let time pass: wait some seconds for a device (animations, loading), or, when the "
        "world's clock is stepped, move it ahead by `seconds` or (without them) to when the "
        "next thing is due to happen; what falls due meanwhile happens (messages arrive, "
        "alarms ring)."
    ),
    "shell": "Run a shell command on a Linux device; returns stdout, stderr and exit code.",
    "read_file": "Read a text file on a Linux device (absolute path under an allowed root).",
    "write_file": "Write a text file on a Linux device (absolute path under an allowed root).",
    "terminal_keys": (
        "Type into a Linux device's terminal (a real pty: vim, less, top, sudo prompts, "
        "read -p all work), then get its screen once output settles. keys: a list of key "
        "names (Enter, Tab, Escape, Backspace, Up, Down, PageUp, PageDown, Home, End, F1-F12, "
        'C-c, C-d, C-x, M-x) and text typed as it is; {"text": ...} types text that '
        "spells a key name."
    ),
    "terminal_screen": (
        "Read a Linux device's terminal screen (text, cursor row/column), once output "
        "settles or `until` text shows; scrollback: lines scrolled off the top."
    ),
    "answer": "Reply to the user's request (reactive tasks are judged on it, among other things).",
    "notify": "Send the user an unprompted message (proactive tasks are judged on these).",
    "ask_user": (
        "Ask the user a question when only they can settle it (which of two people, a "
        "preference); returns their reply. Ask sparingly: they are busy."
    ),
    "finish": "End the episode: call it once the task is done (nothing can be done after it).",
}


def tool_specs() -> list[dict[str, Any]]:
    """``{name, description, parameters}`` per action kind; parameters are the action's fields.

    The ``action`` discriminator is the tool's name, so it is left out of the parameters.
    """
    tools = []
    for model in TOOL_ACTIONS:
        schema = model.model_json_schema()
        props = {k: v for k, v in schema.get("properties", {}).items() if k != "action"}
        for prop in props.values():
            prop.pop("title", None)
        name = model.model_fields["action"].default
        tools.append(
            {
                "name": name,
                "description": TOOL_DESCRIPTIONS[name],
                "parameters": {
                    "type": "object",
                    "properties": props,
                    "required": [r for r in schema.get("required", []) if r != "action"],
                    "additionalProperties": False,
                },
            }
        )
    return tools
