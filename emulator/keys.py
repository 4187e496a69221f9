"""Android key names and their ``KEYCODE_*`` numbers: one table for the device layer and the
agent action schema, so a key an agent may name is always a key the device can press.

Names are the lower-case ``KEYCODE_`` suffixes (``del``, ``dpad_up``), plus the aliases
people and models reach for (``delete``, ``backspace``, ``up``).
"""

from __future__ import annotations

KEYCODES: dict[str, int] = {
    "home": 3,
    "back": 4,
    "call": 5,
    "endcall": 6,
    "dpad_up": 19,
    "dpad_down": 20,
    "dpad_left": 21,
    "dpad_right": 22,
    "dpad_center": 23,
    "volume_up": 24,
    "volume_down": 25,
    "power": 26,
    "camera": 27,
    "tab": 61,
    "space": 62,
    "enter": 66,
    "del": 67,
    "menu": 82,
    "notification": 83,
    "search": 84,
    "media_play_pause": 85,
    "page_up": 92,
    "page_down": 93,
    "escape": 111,
    "forward_del": 112,
    "move_home": 122,
    "move_end": 123,
    "app_switch": 187,
    "sleep": 223,
    "wakeup": 224,
    "cut": 277,
    "copy": 278,
    "paste": 279,
}

ALIASES: dict[str, str] = {
    "up": "dpad_up",
    "down": "dpad_down",
    "left": "dpad_left",
    "right": "dpad_right",
    "center": "dpad_center",
    "delete": "del",
    "backspace": "del",
    "forward_delete": "forward_del",
    "recents": "app_switch",
    "play_pause": "media_play_pause",
}


def keycode(name: str | int) -> int | None:
    """The keycode for a name, ``KEYCODE_*`` name, alias or number; None when unknown."""
    if isinstance(name, int):
        return name
    norm = str(name).strip().lower().removeprefix("keycode_")
    if norm.isdigit():
        return int(norm)
    return KEYCODES.get(ALIASES.get(norm, norm))


def key_names() -> list[str]:
    """Every accepted name (canonical and aliases), sorted."""
    return sorted({*KEYCODES, *ALIASES})
