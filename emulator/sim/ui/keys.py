"""Android ``KEYCODE_*`` numbers the phone reacts to, and the keys that type a character."""

from __future__ import annotations

# Android KEYCODE_* values the phone reacts to.
KEY_HOME, KEY_BACK, KEY_ENTER, KEY_DEL, KEY_FORWARD_DEL = 3, 4, 66, 67, 112
KEY_APP_SWITCH, KEY_TAB, KEY_SPACE, KEY_ESCAPE = 187, 61, 62, 111
KEY_DPAD_UP, KEY_DPAD_DOWN, KEY_DPAD_LEFT, KEY_DPAD_RIGHT, KEY_DPAD_CENTER = 19, 20, 21, 22, 23
KEY_MOVE_HOME, KEY_MOVE_END, KEY_PAGE_UP, KEY_PAGE_DOWN = 122, 123, 92, 93
# Keys that type a character (KeyCharacterMap of a virtual keyboard, no meta).
KEY_CHARS = {
    **{7 + i: str(i) for i in range(10)},
    **{29 + i: chr(ord("a") + i) for i in range(26)},
    55: ",",
    56: ".",
    68: "`",
    69: "-",
    70: "=",
    71: "[",
    72: "]",
    73: "\\",
    74: ";",
    75: "'",
    76: "/",
    77: "@",
    81: "+",
    17: "*",
    18: "#",
}
