"""Reference solution: read the practice's newest SMS, then edit the existing calendar
entry's date and start/end times through the calendar app."""


def replace_field(env, current: str, new: str) -> None:
    """Tap a form field showing ``current``, erase it and type ``new``."""
    env.tap_text("phone", current)
    env.key("phone", "move_end")
    for _ in current:
        env.key("phone", "del")
    env.type("phone", new)


def solve(env):
    env.launch("phone", "com.google.android.apps.messaging")
    env.tap_text("phone", "+49 30 2900 4411")
    texts = env.screen_text("phone")
    assert any("Fr 20.03. um 11:30" in t for t in texts), texts
    env.launch("phone", "com.android.calendar")
    env.tap_text("phone", "Dentist – Dr. Baumann")
    env.tap_text("phone", "Edit")
    replace_field(env, "2026-03-19", "2026-03-20")
    replace_field(env, "10:00", "11:30")
    replace_field(env, "10:45", "12:15")
    env.tap_text("phone", "Save")
    texts = env.screen_text("phone")
    assert any("11:30" in t for t in texts), texts
