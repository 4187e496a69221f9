"""Named keys for the agent's terminal, as the bytes an xterm sends for them.

Names follow the Android table (``emulator/keys.py``) where the two overlap, so one
name means one key on either kind of device: ``enter``, ``tab``, ``escape``, ``space``,
``del`` (backspace; ``delete`` and ``backspace`` are its aliases, as on Android),
``forward_del``, ``dpad_up``/``up`` …, ``page_up``, ``page_down``, ``move_home`` and
``move_end``. A terminal adds what a keyboard has and a phone does not: ``home``/``end``
(the line-start/line-end keys, Android's ``move_home``/``move_end``; there is no home
*button* on a terminal), ``insert``, ``f1``-``f12``, ``shift_tab``, control keys
(``C-c``, ``ctrl+c``, ``^C``) and meta keys (``M-x``, ``alt+x``: Escape then the key).

Lookup ignores case, ``-``, ``_`` and spaces in the plain names (``PageDown``,
``page-down``, ``PAGE_DOWN``), like the spellings people and tmux use.
"""

from __future__ import annotations

import re

CSI = "\x1b["
SS3 = "\x1bO"

# Canonical name -> bytes (as text); arrows depend on the cursor-key mode, see ``encode_key``.
_KEYS: dict[str, str] = {
    "enter": "\r",
    "tab": "\t",
    "shift_tab": CSI + "Z",
    "escape": "\x1b",
    "space": " ",
    "del": "\x7f",
    "forward_del": CSI + "3~",
    "insert": CSI + "2~",
    "page_up": CSI + "5~",
    "page_down": CSI + "6~",
    "move_home": CSI + "H",
    "move_end": CSI + "F",
    "dpad_up": CSI + "A",
    "dpad_down": CSI + "B",
    "dpad_right": CSI + "C",
    "dpad_left": CSI + "D",
    "f1": SS3 + "P",
    "f2": SS3 + "Q",
    "f3": SS3 + "R",
    "f4": SS3 + "S",
    "f5": CSI + "15~",
    "f6": CSI + "17~",
    "f7": CSI + "18~",
    "f8": CSI + "19~",
    "f9": CSI + "20~",
    "f10": CSI + "21~",
    "f11": CSI + "23~",
    "f12": CSI + "24~",
}

# Other spellings -> canonical name (Android's aliases first, then a keyboard's).
ALIASES: dict[str, str] = {
    "up": "dpad_up",
    "down": "dpad_down",
    "left": "dpad_left",
    "right": "dpad_right",
    "delete": "del",
    "backspace": "del",
    "bspace": "del",
    "forward_delete": "forward_del",
    "dc": "forward_del",
    "return": "enter",
    "esc": "escape",
    "home": "move_home",
    "end": "move_end",
    "pgup": "page_up",
    "ppage": "page_up",
    "pgdn": "page_down",
    "npage": "page_down",
    "btab": "shift_tab",
    "ic": "insert",
}

_SQUASH = re.compile(r"[\s_\-]")
_LOOKUP: dict[str, str] = {
    _SQUASH.sub("", name): name for name in [*_KEYS, *ALIASES]
}  # squashed -> name
_CTRL = re.compile(r"^(?:c|ctrl|control)[-+](.)$|^\^(.)$", re.IGNORECASE)
_META = re.compile(r"^(?:m|alt|meta)[-+](.+)$", re.IGNORECASE)
_CTRL_SPECIAL = {"@": "\x00", " ": "\x00", "[": "\x1b", "\\": "\x1c", "]": "\x1d"}
_CTRL_SPECIAL |= {"^": "\x1e", "_": "\x1f", "?": "\x7f"}


def canonical(name: str) -> str | None:
    """The canonical name of a plain key (``PageDown`` -> ``page_down``), or None."""
    found = _LOOKUP.get(_SQUASH.sub("", name.strip().lower().removeprefix("keycode_")))
    if found is None:
        return None
    return ALIASES.get(found, found)


def encode_key(name: str, app_cursor: bool = False) -> str | None:
    """What the terminal sends for key ``name``, or None when it is not a key name.

    ``app_cursor`` is the cursor-key mode a full-screen program may switch on (DECCKM):
    arrows and Home/End then go as ``ESC O x``, as an xterm sends them.
    """
    text = name.strip()
    if m := _CTRL.match(text):
        char = (m.group(1) or m.group(2)).lower()
        if "a" <= char <= "z":
            return chr(ord(char) - ord("a") + 1)
        return _CTRL_SPECIAL.get(char)
    if (m := _META.match(text)) and len(text) > 2:
        rest = m.group(1)
        inner = encode_key(rest, app_cursor) if len(rest) > 1 else rest
        return None if inner is None else "\x1b" + inner
    key = canonical(text)
    if key is None:
        return None
    seq = _KEYS[key]
    if app_cursor and seq.startswith(CSI) and seq[-1] in "ABCDHF" and len(seq) == 3:
        return SS3 + seq[-1]
    return seq


def is_key(name: str) -> bool:
    return encode_key(name) is not None


def key_names() -> list[str]:
    """Every plain key name (canonical and aliases), sorted; plus ``C-x`` and ``M-x`` forms."""
    return sorted({*_KEYS, *ALIASES})
